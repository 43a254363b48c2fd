"""What crosses the wire for devices, the inbox, webhook subscriptions, deliveries and the partner feed."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

import msgspec

from api.schema import Input, Output

__all__ = (
    "CHANNELS",
    "Channel",
    "DeliveryOut",
    "DeviceIn",
    "DeviceOut",
    "FeedEvent",
    "FeedOut",
    "InboxItem",
    "Platform",
    "PreferencesIn",
    "PreferencesOut",
    "ReadAllOut",
    "SubscriptionIn",
    "SubscriptionOut",
    "UnreadOut",
)

Platform = Literal["ios", "android", "harmony", "web"]
Channel = Literal["apns", "huawei", "honor", "xiaomi", "oppo", "vivo", "fcm", "webpush"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]  # typing's Literal keeps its members in __args__
DeliveryState = Literal["pending", "sent", "dead", "dropped"]


class DeviceIn(Input):
    """A phone or browser to reach: the channel the app chose and its token there (a Web Push subscription as
    its JSON text)."""

    platform: Platform
    channel: Channel
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    app_version: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    locale: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", max_length=35)]


class DeviceOut(Output):
    """A registered device (its token is not shown back)."""

    id: str
    platform: str
    channel: str
    app_version: str
    locale: str
    created_at: datetime
    seen_at: datetime


class WebPushKeyOut(Output):
    """Our VAPID public key (base64url), the `applicationServerKey` of a browser subscription."""

    public_key: str


class InboxItem(Output):
    """One notification: what happened (kind, event) and the ids to fetch it by, never its content."""

    id: str
    kind: str
    event: str | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None = None


class UnreadOut(Output):
    """How many notifications are unread."""

    unread: int


class ReadAllOut(Output):
    """How many notifications were marked read."""

    marked: int


HourMinute = Annotated[time, msgspec.Meta(tz=False)]


class PreferencesIn(Input):
    """Kinds not to push (they still reach the inbox) and a quiet period (Beijing time), both or neither ends."""

    muted_kinds: Annotated[list[str], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    quiet_start: HourMinute | None = None
    quiet_end: HourMinute | None = None


class PreferencesOut(Output):
    """The account's push preferences and the kinds there are."""

    muted_kinds: list[str]
    quiet_start: time | None
    quiet_end: time | None
    kinds: list[str]


class SubscriptionIn(Input):
    """A partner agency's subscription: the event kinds, the hosts it may be reached at, and its endpoint (none:
    it pulls the feed)."""

    kinds: Annotated[list[str], msgspec.Meta(min_length=1, max_length=50)]
    url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    allowed_hosts: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=255)]],
                             msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    # Start a new signing secret; the old one stays valid this many hours (Standard Webhooks rotation).
    rotate_secret: bool = False
    overlap_hours: Annotated[int, msgspec.Meta(ge=0, le=168)] = 24


class SubscriptionOut(Output):
    """A subscription; `secret` only in the answer that created or rotated it."""

    client_id: str
    kinds: list[str]
    url: str | None
    allowed_hosts: list[str]
    updated_at: datetime
    previous_secret_until: datetime | None = None
    secret: str | None = None


class DeliveryOut(Output):
    """One send to a partner's endpoint or a phone, with its last answer."""

    id: str
    channel: str
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_at: datetime
    event_id: str | None = None
    kind: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    sent_at: datetime | None = None


class FeedEvent(Output):
    """One event of the partner feed, as the webhook carries it."""

    id: str
    seq: int
    type: str
    timestamp: datetime
    data: dict[str, Any]


class FeedOut(Output):
    """Events after the cursor, oldest first; pass `next` back as `after`."""

    events: list[FeedEvent]
    next: int
