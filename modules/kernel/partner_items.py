"""What a partner agency has open with the office, whichever module holds it: each module contributes its items
through its manifest (`partner_items`), and the partner API merges them into one keyset-paginated list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.schema import Output

if TYPE_CHECKING:
    import asyncpg

    from api.pagination import Cursor

__all__ = ("PartnerItem", "PartnerItems")


class PartnerItem(Output, kw_only=True):
    """One thing open between the agency and the office: what it is, where it stands, by when who must act."""

    module: str
    kind: str
    id: UUID
    title: str
    state: str
    # Whose move it is: the agency's ("partner") or the office's ("office").
    waiting_on: str
    due: date | None
    created_at: datetime


# (conn, client row, after, limit) -> the client's open items of the module created before `after`, newest first
# (by created_at then id), at most `limit`; the merge keeps the list's order and cursor across modules.
PartnerItems = Callable[["asyncpg.Connection", Any, "Cursor | None", int], Awaitable[list[PartnerItem]]]
