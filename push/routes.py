"""Routes: an account's devices and inbox (citizens, staff, representatives), admins' webhook subscriptions and
dead letters, and partner agencies' event feed and delivery log. Routes parse, call one service function, answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.errors import ErrorCode, ProblemError, not_found, problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.actions import AUTHENTICATED
from auth.audit import actor_from
from auth.principal import current_principal
from push import devices, inbox, webhooks
from push.schemas import (
    DeliveryOut,
    DeviceIn,
    DeviceOut,
    FeedOut,
    InboxItem,
    PreferencesIn,
    PreferencesOut,
    ReadAllOut,
    SubscriptionIn,
    SubscriptionOut,
    UnreadOut,
    WebPushKeyOut,
)

if TYPE_CHECKING:
    import asyncpg

__all__ = ("push_routes",)

_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
_ACCOUNT = {"action": AUTHENTICATED}
DeliveryState = Literal["pending", "sent", "dead", "dropped"]
After = Annotated[int, QueryParameter(ge=0, description="The `next` of the previous answer (0: from the start).")]
Wait = Annotated[int, QueryParameter(ge=0, le=30, description="Seconds to wait for an event when there is none.")]


def _account(request: Request[Any, Any, Any]) -> UUID:
    """The caller's account; partner clients have no devices or inbox."""
    user = current_principal(request).user_id
    if user is None:
        raise ProblemError(ErrorCode.FORBIDDEN, "Partner clients have no devices or inbox.")
    return user


class DeviceController(Controller):
    """The caller's devices: registered after sign-in, dropped at sign-out."""

    path = "/me/devices"
    tags = ["push"]
    security = _SECURITY

    @post("/", operation_id="deviceRegister", summary="Register this device for pushes",
          opt={"location": "/api/v1/me/devices", **_ACCOUNT, "idempotency": "optional"}, status_code=HTTP_201_CREATED,
          responses={**problem_docs(400, 401, 403, 422), 200: ResponseSpec(
              data_container=DeviceOut, description="Registered before: the device as it is now.",
              generate_examples=False)})
    async def register(self, request: Request[Any, Any, Any], state: AppState,
                       data: JSONBody[DeviceIn]) -> Response[DeviceOut]:
        """Register or refresh a device (201 when new to this account, 200 when known); a token registered by
        another account leaves it."""
        principal = current_principal(request)
        _account(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, DeviceOut]:
            created, device = await devices.register(conn, principal=principal, data=data,
                                                     webpush_hosts=list(state.settings.webpush_hosts))
            return (HTTP_201_CREATED if created else HTTP_200_OK), device
        return await run_once(state.db, request, principal.sub, data, work, required=False)

    @get("/webpush-key", operation_id="deviceWebPushKey", summary="The Web Push application server key",
         opt=_ACCOUNT, responses=problem_docs(401, 403, 404))
    async def webpush_key(self, request: Request[Any, Any, Any], state: AppState) -> WebPushKeyOut:
        """What a page passes to `PushManager.subscribe()` as `applicationServerKey` (404: Web Push is off)."""
        _account(request)
        path = state.settings.vapid_key_file
        if path is None:
            raise not_found("Web Push is not configured.")
        from push.senders.webpush import VapidKey  # the sender and httpx load where Web Push is used, not per worker

        return WebPushKeyOut(public_key=VapidKey(path.read_text()).public_key())

    @get("/", operation_id="deviceList", summary="My devices", opt=_ACCOUNT, responses=problem_docs(401, 403))
    async def list_devices(self, request: Request[Any, Any, Any], state: AppState) -> list[DeviceOut]:
        """The caller's devices, newest first."""
        user = _account(request)
        async with state.db.connection() as conn:
            return await devices.list_devices(conn, user_id=user)

    @delete("/{device_id:uuid}", operation_id="deviceUnregister", summary="Stop pushes to a device", opt=_ACCOUNT,
            status_code=HTTP_204_NO_CONTENT, responses=problem_docs(400, 401, 403, 404))
    async def unregister(self, request: Request[Any, Any, Any], state: AppState, device_id: FromPath[UUID]) -> None:
        """Remove one of the caller's devices."""
        user = _account(request)
        async with state.db.transaction() as conn:
            await devices.unregister(conn, user_id=user, device_id=device_id)


class InboxController(Controller):
    """The caller's notifications: what happened and the ids to fetch it by."""

    path = "/me/inbox"
    tags = ["push"]
    security = _SECURITY

    @get("/", operation_id="inboxList", summary="My notifications", opt=_ACCOUNT, responses=problem_docs(400, 401, 403))
    async def list_items(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 20, unread: FromQuery[bool] = False) -> Page[InboxItem]:
        """Newest first; `unread=true` for the unread only."""
        user = _account(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await inbox.list_items(conn, user_id=user, after=after, limit=limit, unread_only=unread)

    @get("/unread-count", operation_id="inboxUnreadCount", summary="How many are unread", opt=_ACCOUNT,
         responses=problem_docs(401, 403))
    async def unread_count(self, request: Request[Any, Any, Any], state: AppState) -> UnreadOut:
        """The number of unread notifications (the app's badge)."""
        user = _account(request)
        async with state.db.connection() as conn:
            return UnreadOut(unread=await inbox.unread(conn, user_id=user))

    @post("/{item_id:uuid}/read", operation_id="inboxMarkRead", summary="Mark one read", opt=_ACCOUNT,
          status_code=HTTP_200_OK, responses=problem_docs(400, 401, 403, 404))
    async def mark_read(self, request: Request[Any, Any, Any], state: AppState, item_id: FromPath[UUID]) -> InboxItem:
        """Mark one notification read (again is fine)."""
        user = _account(request)
        async with state.db.transaction() as conn:
            return await inbox.mark_read(conn, user_id=user, item_id=item_id)

    @post("/read-all", operation_id="inboxMarkAllRead", summary="Mark all read", opt=_ACCOUNT,
          status_code=HTTP_200_OK, responses=problem_docs(401, 403))
    async def mark_all(self, request: Request[Any, Any, Any], state: AppState) -> ReadAllOut:
        """Mark every unread notification read."""
        user = _account(request)
        async with state.db.transaction() as conn:
            return ReadAllOut(marked=await inbox.mark_all_read(conn, user_id=user))

    @get("/preferences", operation_id="inboxPreferences", summary="My push preferences", opt=_ACCOUNT,
         responses=problem_docs(401, 403))
    async def preferences(self, request: Request[Any, Any, Any], state: AppState) -> PreferencesOut:
        """Muted kinds and quiet hours, and the kinds there are."""
        user = _account(request)
        async with state.db.connection() as conn:
            return await inbox.get_preferences(conn, user_id=user)

    @put("/preferences", operation_id="inboxSetPreferences", summary="Set my push preferences", opt=_ACCOUNT,
         responses=problem_docs(400, 401, 403, 422))
    async def set_preferences(self, request: Request[Any, Any, Any], state: AppState,
                              data: JSONBody[PreferencesIn]) -> PreferencesOut:
        """Replace muted kinds and quiet hours (Beijing time); muted kinds still reach the inbox."""
        user = _account(request)
        async with state.db.transaction() as conn:
            return await inbox.set_preferences(conn, user_id=user, data=data)


class WebhookAdminController(Controller):
    """Admins register partner agencies' subscriptions and requeue dead letters; scoped to their own office."""

    path = "/admin"
    tags = ["admin"]
    security = _SECURITY

    @put("/partner-clients/{client_uuid:uuid}/webhook", operation_id="adminSetWebhook",
         summary="Set a partner's subscription", opt={"action": "push.webhooks.manage"},
         responses=problem_docs(400, 401, 403, 404, 422))
    async def set_webhook(self, request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID],
                          data: JSONBody[SubscriptionIn]) -> Response[SubscriptionOut]:
        """Event kinds, allowed hosts and endpoint (none: the partner pulls); the signing secret is shown once,
        on creation and on rotation (the previous one stays valid for `overlapHours`)."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            status, out = await webhooks.set_subscription(conn, box=state.box, actor=actor_from(request, p),
                                                          office_id=p.office_id, client_uuid=client_uuid, data=data)
        return Response(out, status_code=status)

    @get("/partner-clients/{client_uuid:uuid}/webhook", operation_id="adminGetWebhook",
         summary="A partner's subscription", opt={"action": "push.webhooks.manage"},
         responses=problem_docs(400, 401, 403, 404))
    async def get_webhook(self, request: Request[Any, Any, Any], state: AppState,
                          client_uuid: FromPath[UUID]) -> SubscriptionOut:
        """The subscription, without its secret."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            return await webhooks.get_subscription(conn, office_id=p.office_id, client_uuid=client_uuid)

    @delete("/partner-clients/{client_uuid:uuid}/webhook", operation_id="adminRemoveWebhook",
            summary="End a partner's subscription", opt={"action": "push.webhooks.manage"},
            status_code=HTTP_204_NO_CONTENT, responses=problem_docs(400, 401, 403, 404))
    async def remove_webhook(self, request: Request[Any, Any, Any], state: AppState,
                             client_uuid: FromPath[UUID]) -> None:
        """No more events for this partner, by either way."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            await webhooks.remove_subscription(conn, actor=actor_from(request, p), office_id=p.office_id,
                                               client_uuid=client_uuid)

    @get("/deliveries", operation_id="adminListDeliveries", summary="The office's deliveries",
         opt={"action": "push.deliveries.manage"}, responses=problem_docs(400, 401, 403))
    async def list_deliveries(self, request: Request[Any, Any, Any], state: AppState,
                              delivery_state: Annotated[DeliveryState | None, QueryParameter(name="state")] = None,
                              cursor: FromQuery[str | None] = None,
                              limit: FromQuery[Limit] = 20) -> Page[DeliveryOut]:
        """Pushes and webhooks of the office, newest first; `state=dead` for the dead letters."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await webhooks.deliveries(conn, office_id=p.office_id, state=delivery_state, after=after,
                                             limit=limit)

    @post("/deliveries/{delivery_id:uuid}/requeue", operation_id="adminRequeueDelivery",
          summary="Try a dead letter again", opt={"action": "push.deliveries.manage"}, status_code=HTTP_200_OK,
          responses=problem_docs(400, 401, 403, 404))
    async def requeue(self, request: Request[Any, Any, Any], state: AppState,
                      delivery_id: FromPath[UUID]) -> DeliveryOut:
        """Back in its queue, tried at once, attempts counted from zero."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            return await webhooks.requeue(conn, actor=actor_from(request, p), office_id=p.office_id,
                                          delivery_id=delivery_id)


async def _partner(state: AppState, request: Request[Any, Any, Any]) -> UUID:
    p = current_principal(request)
    async with state.db.connection() as conn:
        return await webhooks.serving_client(conn, p.sub, p.office_id)


class PartnerEventsController(Controller):
    """A partner agency's events: pulled from the feed, or its webhook deliveries and their replays."""

    path = "/partner"
    tags = ["partner"]
    security = _SECURITY

    @get("/events", operation_id="partnerEvents", summary="Events after a cursor (long poll)",
         opt={"action": "partner.events.read"}, responses=problem_docs(400, 401, 403, 429))
    async def events(self, request: Request[Any, Any, Any], state: AppState, after: FromQuery[After] = 0,
                     limit: FromQuery[Limit] = 100, wait: FromQuery[Wait] = 0) -> FeedOut:
        """The same events, in the same order, as the partner's webhook; waits up to `wait` seconds for one."""
        client = await _partner(state, request)
        return await webhooks.wait_feed(state.db, client_uuid=client, after=after, limit=limit, wait=wait)

    @get("/webhook-deliveries", operation_id="partnerDeliveries", summary="My webhook deliveries",
         opt={"action": "partner.events.read"}, responses=problem_docs(400, 401, 403, 429))
    async def deliveries(self, request: Request[Any, Any, Any], state: AppState,
                         delivery_state: Annotated[DeliveryState | None, QueryParameter(name="state")] = None,
                         cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 20) -> Page[DeliveryOut]:
        """Every send to the partner's endpoint with its last answer, newest first."""
        client = await _partner(state, request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await webhooks.deliveries(conn, client_uuid=client, state=delivery_state, after=after, limit=limit)

    @post("/webhook-deliveries/{delivery_id:uuid}/replay", operation_id="partnerReplay", summary="Send one again",
          opt={"location": "/api/v1/partner/webhook-deliveries",
               "action": "partner.events.read", "idempotency": "optional"}, status_code=HTTP_201_CREATED,
          responses=problem_docs(400, 401, 403, 404, 429))
    async def replay(self, request: Request[Any, Any, Any], state: AppState,
                     delivery_id: FromPath[UUID]) -> Response[DeliveryOut]:
        """Queue the event of that delivery again (same webhook-id); answers the new delivery."""
        client = await _partner(state, request)

        async def work(conn: asyncpg.Connection) -> tuple[int, DeliveryOut]:
            return HTTP_201_CREATED, await webhooks.replay(conn, client_uuid=client, delivery_id=delivery_id)
        return await run_once(state.db, request, current_principal(request).sub, {"replay": str(delivery_id)}, work,
                              required=False)


push_routes = [DeviceController, InboxController, WebhookAdminController, PartnerEventsController]
