"""What every partner route passes besides the app's guard: the client as registered now (suspended, address
allow-list, daily quota with its RateLimit-* headers), and a record of the call on the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from litestar import Request

from api.errors import ErrorCode, ProblemError
from api.net import address_in, client_ip
from api.ttl import TTLCache
from auth.audit import actor_from, record
from auth.principal import current_principal
from auth.ratelimit import Limit
from modules.partners import queries

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

__all__ = ("caller_scope", "client_of", "forget_clients", "partner_only")

# Kept per token (client id and issue time): every change by an admin revokes the client's tokens (auth/admin), so a
# token that still passes the revocation check was issued after the change and never meets a stale row.
_clients: TTLCache[tuple[str, int], Any] = TTLCache(30.0)


def forget_clients() -> None:
    """Drop this worker's cached clients (after an admin changed one here)."""
    _clients.clear()


def _until_midnight(time_zone: str) -> int:
    now = datetime.now(ZoneInfo(time_zone))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(int((midnight - now).total_seconds()), 1)


async def partner_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Partner routes serve partner clients only, from an allowed address, within the client's daily quota; each
    call that reaches this point is recorded on the audit trail with the client id (refused or let through)."""
    p = current_principal(connection)
    if p.kind != "partner":
        raise ProblemError(ErrorCode.FORBIDDEN, "These routes serve partner-agency clients only.")
    state = connection.app.state

    async def load() -> Any:
        async with state.db.connection() as conn:
            return await queries.client_by_client_id(conn, p.sub)
    client = await _clients.get_or_load((p.sub, p.iat), load)
    if client is None or client["disabled_at"] is not None or client["office_id"] != p.office_id:
        raise ProblemError(ErrorCode.INVALID_TOKEN, "This client is suspended.",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        await _admit(connection, client)
    except ProblemError as exc:
        await _record_call(connection, client, refused=exc.code)
        raise
    await _record_call(connection, client, refused=None)
    connection.scope.setdefault("state", {})["partner_client"] = client


async def _admit(connection: ASGIConnection[Any, Any, Any, Any], client: Any) -> None:
    networks = client["allowed_networks"]
    if networks and not address_in(client_ip(connection), networks):
        raise ProblemError(ErrorCode.FORBIDDEN, "This client may not call from this address.",
                           extra={"reason": "address_not_allowed"})
    if client["daily_quota"]:
        tz = client["time_zone"]
        day = datetime.now(ZoneInfo(tz)).date().isoformat()
        verdict = await connection.app.state.limiter.enforce(
            Limit("partner_day", client["daily_quota"], _until_midnight(tz)), f"{client['client_id']}:{day}",
            "This client has used its request quota for the day.")
        scope_state = connection.scope.setdefault("state", {})
        minute = scope_state.get("ratelimit_headers") or {}
        # The tighter of the two budgets is the one the client must watch.
        if int(minute.get("RateLimit-Remaining", verdict.remaining + 1)) > verdict.remaining:
            scope_state["ratelimit_headers"] = verdict.headers()


async def _record_call(connection: ASGIConnection[Any, Any, Any, Any], client: Any, *, refused: str | None) -> None:
    detail = {"method": connection.scope.get("method"), "route": connection.scope.get("path_template"),
              "path": connection.url.path, "refused": refused}
    async with connection.app.state.db.transaction() as conn:
        await record(conn, actor_from(connection, current_principal(connection)), "partner.call",
                     office_id=client["office_id"], object_type="partner_client", object_id=client["client_id"],
                     detail=detail)


def client_of(request: Request[Any, Any, Any]) -> Any:
    """The calling client's row, as the partner guard found it."""
    return request.scope["state"]["partner_client"]


def caller_scope(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the caller's rows are found by: a partner's by its client, staff's by their office."""
    p = current_principal(request)
    if p.kind == "partner":
        return {"client_uuid": client_of(request)["id"]}
    return {"office_id": p.office_id}
