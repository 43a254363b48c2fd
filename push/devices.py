"""Devices an account receives pushes on: registered after sign-in, dropped at sign-out or when a provider says
the token is gone. A token belongs to one account: registering it elsewhere takes it from the first."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from api.errors import ErrorCode, ProblemError, not_found
from push.schemas import DeviceOut

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal
    from push.schemas import DeviceIn

__all__ = ("drop", "forget_sessions", "list_devices", "register", "unregister")

_COLUMNS = "id, platform, channel, app_version, locale, created_at, seen_at"


def _out(row: asyncpg.Record) -> DeviceOut:
    return DeviceOut(id=str(row["id"]), platform=row["platform"], channel=row["channel"],
                     app_version=row["app_version"], locale=row["locale"], created_at=row["created_at"],
                     seen_at=row["seen_at"])


async def register(conn: asyncpg.Connection, *, principal: Principal, data: DeviceIn,
                   webpush_hosts: list[str]) -> tuple[bool, DeviceOut]:
    """Register (or refresh) the caller's device; answers (created, device). A Web Push subscription must point at
    an allowed push service (422 otherwise: the endpoint comes from a browser)."""
    if data.channel == "webpush":
        from push.senders.webpush import parse_subscription  # the sender (and httpx) only where it is used

        try:
            parse_subscription(data.token, webpush_hosts)
        except ValueError as exc:
            raise ProblemError(ErrorCode.UNPROCESSABLE, "The Web Push subscription is not acceptable.",
                               errors=[{"field": "token", "message": str(exc)}]) from None
    previous = await conn.fetchrow("select id, user_id from push_devices where channel = $1 and token = $2 for update",
                                   data.channel, data.token)
    if previous is not None and previous["user_id"] != principal.user_id:
        # The phone changed hands: what was queued for the first account must not reach the second.
        await conn.execute("update deliveries set state = 'dropped', last_error = 'device moved to another account'"
                           " where device_id = $1 and state = 'pending'", previous["id"])
    row = await conn.fetchrow(
        f"""
        insert into push_devices (user_id, family_id, platform, channel, token, app_version, locale)
        values ($1, $2::uuid, $3, $4, $5, $6, $7)
        on conflict (channel, token) do update set user_id = excluded.user_id, family_id = excluded.family_id,
            platform = excluded.platform, app_version = excluded.app_version, locale = excluded.locale,
            seen_at = now(),
            created_at = case when push_devices.user_id = excluded.user_id then push_devices.created_at else now() end
        returning {_COLUMNS}
        """,
        principal.user_id, principal.family, data.platform, data.channel, data.token, data.app_version, data.locale)
    return previous is None or previous["user_id"] != principal.user_id, _out(row)


async def list_devices(conn: asyncpg.Connection, *, user_id: UUID) -> list[DeviceOut]:
    """The account's devices, newest first (a handful at most: no pages)."""
    rows = await conn.fetch(f"select {_COLUMNS} from push_devices where user_id = $1 order by created_at desc, id desc"
                            " limit 200", user_id)
    return [_out(r) for r in rows]


async def unregister(conn: asyncpg.Connection, *, user_id: UUID, device_id: UUID) -> None:
    """Remove one of the caller's devices (404 for anyone else's)."""
    if await conn.fetchval("delete from push_devices where id = $1 and user_id = $2 returning 1", device_id,
                           user_id) is None:
        raise not_found("No such device.")


async def forget_sessions(conn: asyncpg.Connection, user_id: UUID, families: list[str] | None = None) -> int:
    """Sign-out: drop the devices registered under these sessions (None: every session, "sign out everywhere")."""
    if families is None:
        result = await conn.execute("delete from push_devices where user_id = $1", user_id)
    else:
        result = await conn.execute("delete from push_devices where user_id = $1 and family_id = any($2::uuid[])",
                                    user_id, families)
    return int(result.split()[-1])


async def drop(conn: asyncpg.Connection, device_id: UUID, reason: str) -> None:
    """A provider said the token is no longer valid: forget the device and what was queued for it."""
    await conn.execute("update deliveries set state = 'dropped', last_error = $2 where device_id = $1"
                       " and state = 'pending'", device_id, reason)
    await conn.execute("delete from push_devices where id = $1", device_id)
