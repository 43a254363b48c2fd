"""Cursor pagination: opaque cursors over (timestamp, id) keys, so pages stay stable while rows are added."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from api.db import opaque
from api.errors import ErrorCode, ProblemError

__all__ = ("Cursor", "Keyset", "Limit", "Page", "contains", "decode_cursor", "decode_sequence_cursor", "encode_cursor",
           "keyset", "page_of", "sequence_page")

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
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The cursor is not one we issued.",
                           errors=[{"field": "cursor", "message": "invalid cursor", "source": "query"}]) from None


def decode_sequence_cursor(raw: str | None) -> int | None:
    """The cursor of a list ordered by a growing sequence number (audit records, office history), newest first."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The cursor is not one we issued.",
                           errors=[{"field": "cursor", "message": "invalid cursor", "source": "query"}])
    return int(raw)


def sequence_page(rows: list[Any], limit: int, convert: Any) -> Page[Any]:
    """A page of `limit + 1` rows ordered by their sequence `id`, newest first (see `decode_sequence_cursor`)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[convert(r) for r in rows], next_cursor=str(rows[-1]["id"]) if more and rows else None)


def page_of(rows: list[Any], limit: int, convert: Any, key: Any) -> Page[Any]:
    """Build a page from `limit + 1` fetched rows: the extra row only tells whether there is a next page."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(*key(rows[-1])) if more and rows else None
    return Page(items=[convert(r) for r in rows], next_cursor=cursor)


class Keyset:
    """A list query's filters plus the keyset predicate and order: newest first by (timestamp, id), `?` standing for
    each filter's parameter. The one place the cursor predicate is written.

    The page size is written into the statement and the owner and the cursor are opaque to the planner
    (`api.db.opaque`): PostgreSQL then keeps one generic plan for a list without filters, where a `limit $n` (which a
    generic plan guesses at a tenth of the table) had every page planned again (0.36 ms for the first page of the
    office of 10^6 complaints, 0.19 with the plan kept). A filter's value stays in sight, so a search is still planned
    for its own pattern."""

    __slots__ = ("args", "at", "id", "where")

    def __init__(self, at: str, id_: str) -> None:
        self.at, self.id = at, id_
        self.where: list[str] = []
        self.args: list[Any] = []

    def owner(self, column: str, owner_id: UUID | None) -> None:
        """Narrow the list to one owner's rows (an office's, a complainant's, a representative's, a partner
        client's; None: no row)."""
        self.args.append(owner_id)
        self.where.append(f"{column} = {opaque(f'${len(self.args)}::uuid')}")

    def add(self, clause: str, *values: Any) -> None:
        """Narrow the list: each `?` in `clause` stands for the next of `values` (a `?` may be reused by naming
        one value only: every `?` then means it)."""
        if len(values) == 1:
            self.args.append(values[0])
            self.where.append(clause.replace("?", f"${len(self.args)}"))
            return
        parts = clause.split("?")
        if len(parts) - 1 != len(values):
            raise ValueError(f"{clause!r} names {len(parts) - 1} values, {len(values)} given")
        out = parts[0]
        for value, rest in zip(values, parts[1:], strict=False):
            self.args.append(value)
            out += f"${len(self.args)}{rest}"
        self.where.append(out)

    def sql(self, select: str, after: Cursor | None, limit: int) -> tuple[str, list[Any]]:
        """The statement and its arguments for one page (limit + 1 rows: the extra one says a next page exists)."""
        where, args = list(self.where), list(self.args)
        if after is not None:
            args.extend([after.at, after.id])
            where.append(f"({self.at}, {self.id}) < "
                         f"({opaque(f'${len(args) - 1}::timestamptz')}, {opaque(f'${len(args)}::uuid')})")
        clause = f" where {' and '.join(where)}" if where else ""
        return f"{select}{clause} order by {self.at} desc, {self.id} desc limit {int(limit) + 1}", args


def keyset(at: str, id_: str) -> Keyset:
    """Start a keyset-paginated list query ordered by the columns `at` then `id_`, newest first."""
    return Keyset(at, id_)


def contains(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, its own `%`, `_` and `\\` taken literally (list searches)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
