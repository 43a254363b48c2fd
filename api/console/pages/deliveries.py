"""A partner client's webhook deliveries and its dead letters 死信, and every dead letter of the office (pushes to
phones too), each with a requeue button. The reads are push/webhooks'
(the query behind GET /api/v1/admin/deliveries, narrowed to the client) and the requeue is webhooks.requeue, as
behind POST /api/v1/admin/deliveries/{id}/requeue; both need `push.deliveries.manage`, as those routes do."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Response, Template

from api.console.pages.signin import FORM
from api.console.render import allowed, page, see_other
from api.errors import ProblemError, not_found
from api.pagination import decode_cursor
from api.state import AppState
from auth import queries
from auth.admin.common import client_out
from auth.audit import actor_from
from auth.principal import current_principal
from push import webhooks

__all__ = ("delivery_routes",)

_ACTION = "push.deliveries.manage"
_PAGE = 50
STATE_LABELS = {"pending": "待发送", "sent": "已送达", "dead": "死信", "dropped": "已放弃"}


async def _client(state: AppState, request: Request[Any, Any, Any], client_uuid: UUID) -> Any:
    """The partner client of the caller's office (another office's answers 404, as the API's routes do)."""
    async with state.db.connection() as conn:
        row = await queries.partner_client(conn, client_uuid=client_uuid,
                                           office_id=current_principal(request).office_id)
    if row is None:
        raise not_found("No such partner client.")
    return row


@get("/clients/{client_uuid:uuid}/deliveries", opt={"action": _ACTION}, include_in_schema=False)
async def deliveries_page(request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID],
                          delivery_state: Annotated[Literal["pending", "sent", "dead", "dropped"] | None,
                                                    QueryParameter(name="state")] = None,
                          cursor: FromQuery[str | None] = None, done: FromQuery[str | None] = None) -> Template:
    """The client's webhook deliveries, newest first (by state when asked), and every dead letter of it."""
    row = await _client(state, request, client_uuid)
    subscription = None
    async with state.db.connection() as conn:
        found = await webhooks.deliveries(conn, client_uuid=client_uuid, state=delivery_state,
                                          after=decode_cursor(cursor), limit=_PAGE)
        dead = await webhooks.deliveries(conn, client_uuid=client_uuid, state="dead", after=None, limit=_PAGE)
        if await allowed(request, "push.webhooks.manage"):
            try:
                subscription = await webhooks.get_subscription(conn, office_id=row["office_id"],
                                                               client_uuid=client_uuid)
            except ProblemError:
                subscription = None  # no subscription: the partner pulls its feed, or takes nothing yet
    return await page(request, "deliveries.html", client=client_out(row), deliveries=found.items,
                      next_cursor=found.next_cursor, dead=dead.items, more_dead=dead.next_cursor is not None,
                      state_filter=delivery_state, states=STATE_LABELS, subscription=subscription,
                      done=done == "requeued")


@post("/clients/{client_uuid:uuid}/deliveries/{delivery_id:uuid}/requeue", status_code=200,
      opt={"action": _ACTION, "accepts": FORM}, include_in_schema=False)
async def requeue(request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID],
                  delivery_id: FromPath[UUID]) -> Response[Any]:
    """Put a dead letter of this client back in its queue, tried at once (webhooks.requeue: 404 unless it is a
    dead letter of the caller's office)."""
    await _client(state, request, client_uuid)
    p = current_principal(request)
    async with state.db.transaction() as conn:
        # The page names the client: a delivery of another client of the office is not requeued from here.
        if await conn.fetchval("select client_id from deliveries where id = $1", delivery_id) != client_uuid:
            raise not_found("No such dead-lettered delivery.")
        await webhooks.requeue(conn, actor=actor_from(request, p), office_id=p.office_id, delivery_id=delivery_id)
    return see_other(request, f"/console/clients/{client_uuid}/deliveries?done=requeued")


@get("/dead-letters", opt={"action": _ACTION}, include_in_schema=False)
async def dead_letters_page(request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                            done: FromQuery[str | None] = None) -> Template:
    """Every dead letter of the office, pushes to phones and webhooks alike (GET /api/v1/admin/deliveries?state=dead),
    newest first, with the partner client each webhook was for."""
    p = current_principal(request)
    async with state.db.connection() as conn:
        found = await webhooks.deliveries(conn, office_id=p.office_id, state="dead", after=decode_cursor(cursor),
                                          limit=_PAGE)
        clients = {r["id"]: r for r in await conn.fetch(
            "select d.id, c.id as client_uuid, c.name from deliveries d join partner_clients c on c.id = d.client_id"
            " where d.id = any($1::uuid[])", [UUID(d.id) for d in found.items])}
    return await page(request, "dead_letters.html", dead=found.items, next_cursor=found.next_cursor,
                      clients={str(k): v for k, v in clients.items()}, done=done == "requeued")


@post("/dead-letters/{delivery_id:uuid}/requeue", status_code=200, opt={"action": _ACTION, "accepts": FORM},
      include_in_schema=False)
async def requeue_any(request: Request[Any, Any, Any], state: AppState, delivery_id: FromPath[UUID]) -> Response[Any]:
    """Put a dead letter of the office back in its queue (webhooks.requeue: 404 unless it is one)."""
    p = current_principal(request)
    async with state.db.transaction() as conn:
        await webhooks.requeue(conn, actor=actor_from(request, p), office_id=p.office_id, delivery_id=delivery_id)
    return see_other(request, "/console/dead-letters?done=requeued")


delivery_routes = [deliveries_page, requeue, dead_letters_page, requeue_any]
