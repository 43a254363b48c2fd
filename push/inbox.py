"""The in-app inbox: every notification lands here first (the push only says there is one), read with the
account's own token; preferences say which kinds stay off the phone and when it stays quiet."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

from api.errors import ErrorCode, ProblemError, not_found
from api.outbox import RECIPIENTS
from api.pagination import keyset, page_of
from push.schemas import InboxItem, PreferencesOut

if TYPE_CHECKING:
    import asyncpg

    from api.pagination import Cursor, Page
    from push.schemas import PreferencesIn

__all__ = ("get_preferences", "list_items", "mark_all_read", "mark_read", "push_due", "set_preferences", "unread")

# Quiet hours are the account's local time; every office is in China.
BEIJING = ZoneInfo("Asia/Shanghai")


def _item(row: asyncpg.Record) -> InboxItem:
    return InboxItem(id=str(row["id"]), kind=row["kind"], event=row["event"], data=row["payload"],
                     created_at=row["created_at"], read_at=row["read_at"])


async def list_items(conn: asyncpg.Connection, *, user_id: UUID, after: Cursor | None, limit: int,
                     unread_only: bool) -> Page[InboxItem]:
    """The account's notifications, newest first."""
    q = keyset("created_at", "id")
    q.add("user_id = ?", user_id)
    if unread_only:
        q.where.append("read_at is null")
    sql, args = q.sql("select id, kind, event, payload, created_at, read_at from inbox", after, limit)
    rows = await conn.fetch(sql, *args)
    return page_of(rows, limit, _item, lambda r: (r["created_at"], r["id"]))


async def unread(conn: asyncpg.Connection, *, user_id: UUID) -> int:
    """How many of the account's notifications are unread."""
    return int(await conn.fetchval("select count(*) from inbox where user_id = $1 and read_at is null", user_id))


async def mark_read(conn: asyncpg.Connection, *, user_id: UUID, item_id: UUID) -> InboxItem:
    """Mark one of the account's notifications read (404 for anyone else's)."""
    row = await conn.fetchrow(
        "update inbox set read_at = coalesce(read_at, now()) where id = $1 and user_id = $2"
        " returning id, kind, event, payload, created_at, read_at", item_id, user_id)
    if row is None:
        raise not_found("No such notification.")
    return _item(row)


async def mark_all_read(conn: asyncpg.Connection, *, user_id: UUID) -> int:
    """Mark every unread notification of the account read; answers how many."""
    result = await conn.execute("update inbox set read_at = now() where user_id = $1 and read_at is null", user_id)
    return int(result.split()[-1])


def kinds() -> list[str]:
    """The kinds a notification can have: every outbox topic some module sends to accounts."""
    return sorted(RECIPIENTS)


async def get_preferences(conn: asyncpg.Connection, *, user_id: UUID) -> PreferencesOut:
    """The account's push preferences (none set: everything pushed, no quiet hours)."""
    row = await conn.fetchrow("select muted_kinds, quiet_start, quiet_end from inbox_preferences where user_id = $1",
                              user_id)
    return PreferencesOut(muted_kinds=list(row["muted_kinds"]) if row else [],
                          quiet_start=row["quiet_start"] if row else None, quiet_end=row["quiet_end"] if row else None,
                          kinds=kinds())


async def set_preferences(conn: asyncpg.Connection, *, user_id: UUID, data: PreferencesIn) -> PreferencesOut:
    """Replace the account's push preferences (422 naming an unknown kind or a half-given quiet period)."""
    known = set(kinds())
    errors = [{"field": f"mutedKinds[{i}]", "message": f"unknown kind; one of {', '.join(sorted(known))}"}
              for i, k in enumerate(data.muted_kinds) if k not in known]
    if (data.quiet_start is None) != (data.quiet_end is None):
        errors.append({"field": "quietEnd" if data.quiet_end is None else "quietStart",
                       "message": "give both ends of the quiet period, or neither"})
    if errors:
        raise ProblemError(ErrorCode.UNPROCESSABLE, "The preferences are invalid.", errors=errors)
    await conn.execute(
        """
        insert into inbox_preferences (user_id, muted_kinds, quiet_start, quiet_end) values ($1, $2, $3, $4)
        on conflict (user_id) do update set muted_kinds = excluded.muted_kinds, quiet_start = excluded.quiet_start,
            quiet_end = excluded.quiet_end, updated_at = now()
        """, user_id, sorted(set(data.muted_kinds)), data.quiet_start, data.quiet_end)
    return await get_preferences(conn, user_id=user_id)


def push_due(now: datetime, quiet: tuple[time, time] | None) -> datetime:
    """When a push may go out: now, or the end of the account's quiet period (which may span midnight)."""
    if quiet is None or quiet[0] == quiet[1]:
        return now
    start, end = quiet
    local = now.astimezone(BEIJING)
    t = local.time().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return now
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until


