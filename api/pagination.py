"""Cursor pagination: opaque cursors over (timestamp, id) keys, so pages stay stable while rows are added."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from api.errors import ErrorCode, ProblemError

__all__ = ("Cursor", "Limit", "Page", "decode_cursor", "encode_cursor", "page_of")

T = TypeVar("T")
# A query parameter's bounds must be a QueryParameter's: a msgspec.Meta in the alias is dropped by FromQuery[...]
# (limit=100000, 0 and -1 were all accepted), while this one is checked (400 naming `limit`) and documented.
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Most items on one page (1-200).")]


class Cursor(msgspec.Struct, array_like=True):
    """Where the previous page ended: the sort key of its last row."""

    at: datetime
    id: UUID


class Page(msgspec.Struct, Generic[T]):
    """One page of a list; pass `nextCursor` back as `cursor` for the next, absent on the last page."""

    items: list[T]
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")


def encode_cursor(at: datetime, row_id: UUID) -> str:
    """An opaque cursor pointing after this row."""
    return base64.urlsafe_b64encode(msgspec.json.encode(Cursor(at, row_id))).decode().rstrip("=")


def decode_cursor(raw: str | None) -> Cursor | None:
    """Parse a cursor from a query string; a damaged one is a 400 naming the `cursor` parameter."""
    if not raw:
        return None
    try:
        return msgspec.json.decode(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), type=Cursor)
    except (ValueError, msgspec.DecodeError):
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "The cursor is not one we issued.",
                           errors=[{"field": "cursor", "message": "invalid cursor", "source": "query"}]) from None


def page_of(rows: list[Any], limit: int, convert: Any, key: Any) -> Page[Any]:
    """Build a page from `limit + 1` fetched rows: the extra row only tells whether there is a next page."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(*key(rows[-1])) if more and rows else None
    return Page(items=[convert(r) for r in rows], next_cursor=cursor)
