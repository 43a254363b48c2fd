"""What the apps send and receive for complaints. Unknown fields are refused, so a body cannot set state,
office or assignee (no mass assignment)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from api.schema import Input as _In
from api.schema import Output as _Out
from modules.clocks.store import ClockView
from modules.kernel.files import AttachmentOut
from modules.kernel.steps import ProposalOut
from modules.kernel.timeline import EventOut

__all__ = (
    "AnonymousCreate",
    "AssignmentIn",
    "AttachmentOut",
    "Catalog",
    "CategoryField",
    "CategoryIn",
    "CategoryOut",
    "Channel",
    "ClockEventIn",
    "ComplaintCreate",
    "ComplaintReceipt",
    "DecisionIn",
    "EventOut",
    "ItemState",
    "Kind",
    "ListItem",
    "Location",
    "MaterialIn",
    "NoteIn",
    "PersonReported",
    "PublicComplaint",
    "RatingIn",
    "ReplyIn",
    "ReviewIn",
    "StaffComplaint",
    "StaffCreate",
    "StepIn",
    "TemplateIn",
    "TemplateOut",
    "TransferIn",
    "Visitor",
)

Kind = Literal["accusation", "report", "criminal_appeal", "civil_admin_appeal", "state_compensation", "judicial_aid",
               "other_petition", "legal_consultation"]
# The closed sets the apps build on, published as enums (tests/unit/complaints check them against the rules).
ItemState = Literal["received", "awaiting_material", "accepted", "in_progress", "referred", "not_accepted", "closed"]
Channel = Literal["app", "web", "hotline", "walk_in", "letter"]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class Location(_In, kw_only=True):
    """Where it happened: coordinates (WGS-84), an address, or both."""

    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class PersonReported(_In, kw_only=True):
    """A person or unit the item is about."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    unit: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    position: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class _Body(_In, kw_only=True):
    category: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]
    title: Text200
    body: LongText
    location: Location | None = None
    persons_reported: Annotated[list[PersonReported], msgspec.Meta(max_length=20)] = []
    fields: dict[str, Any] = {}


class ComplaintCreate(_Body, kw_only=True):
    """A signed-in citizen files an item with an office; their account's phone is the contact."""

    office: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
    real_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    id_number: Annotated[str, msgspec.Meta(pattern=r"^\d{17}[\dXx]$")] | None = None


class AnonymousCreate(_Body, kw_only=True):
    """Filed without an account. Contact details are optional; without them no reply clock runs."""

    office: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
    real_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    phone: Annotated[str, msgspec.Meta(min_length=11, max_length=20)] | None = None
    id_number: Annotated[str, msgspec.Meta(pattern=r"^\d{17}[\dXx]$")] | None = None


class Visitor(_In, kw_only=True):
    """The person staff file for (walk-in, caller, letter writer); leave out for an anonymous letter."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    phone: Annotated[str, msgspec.Meta(min_length=11, max_length=20)] | None = None
    id_number: Annotated[str, msgspec.Meta(pattern=r"^\d{17}[\dXx]$")] | None = None
    reachable: bool = True


class StaffCreate(_Body, kw_only=True):
    """Staff file an item received at the office in person, by phone or by letter."""

    channel: Literal["walk_in", "hotline", "letter"]
    visitor: Visitor | None = None
    received_at: datetime | None = None


class ComplaintReceipt(_Out, kw_only=True):
    """The answer to a filing. `queryCode` is shown once, only to anonymous filers; keep it with the receipt no."""

    id: UUID
    receipt_no: str
    state: ItemState
    created_at: datetime
    query_code: str | None = None


class PublicComplaint(_Out, kw_only=True):
    """An item as its complainant sees it: public replies and deadlines, nothing internal."""

    id: UUID
    receipt_no: str
    office: str
    kind: Kind
    category: str | None
    title: str
    body: str
    state: ItemState
    state_label: str
    created_at: datetime
    timeline: list[EventOut]
    deadlines: list[ClockView]
    attachments: list[AttachmentOut]
    rating: int | None
    can_rate: bool
    can_request_review: bool


class Reporter(_Out, kw_only=True):
    """Who filed; masked unless the caller's permission list allows identities."""

    name: str | None
    phone: str | None
    id_number: str | None
    anonymous: bool
    masked: bool


class StaffComplaint(_Out, kw_only=True):
    """An item as the office's staff see it."""

    id: UUID
    receipt_no: str
    office: str
    first_office: str
    kind: Kind
    category: str | None
    channel: Channel
    title: str
    body: str
    state: ItemState
    state_label: str
    reporter: Reporter
    location: Location | None
    persons_reported: list[dict[str, Any]]
    fields: dict[str, Any]
    assignee_id: UUID | None
    department: str | None
    referred_to: str | None
    disposition: str | None
    parent_id: UUID | None
    review_level: str | None
    possible_duplicates: list[UUID]
    created_at: datetime
    updated_at: datetime
    timeline: list[EventOut]
    clocks: list[ClockView]
    attachments: list[AttachmentOut]
    rating: int | None
    rating_comment: str | None
    available_steps: list[str]
    pending_proposal: ProposalOut | None = None


class ListItem(_Out, kw_only=True):
    """A row of the staff list."""

    id: UUID
    receipt_no: str
    kind: Kind
    category: str | None
    title: str
    state: ItemState
    channel: Channel
    assignee_id: UUID | None
    created_at: datetime
    next_due: date | None


class StepIn(_In, kw_only=True):
    """A workflow step: accept, request_material, refer, reject, close, reopen. `reply` or `template` is told to
    the complainant."""

    step: Annotated[str, msgspec.Meta(max_length=40)]
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    referred_to: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    disposition: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    reply: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    template: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class DecisionIn(_In, kw_only=True):
    """A decision on a proposed step: approve (the next approval of its chain), return with a reason, withdraw."""

    decision: Literal["approve", "return", "withdraw"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None


class AssignmentIn(_In, kw_only=True):
    """Draw a handler at random under the office's plan, or (with complaint.designate) name one and say why."""

    mode: Literal["random", "designate"]
    assignee_id: UUID | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class TransferIn(_In, kw_only=True):
    """Move the item to another office (which becomes responsible) or to another department here."""

    office: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{1,39}$")] | None = None
    department: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class NoteIn(_In, kw_only=True):
    """An internal note, never shown to the public."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class ReplyIn(_In, kw_only=True):
    """A reply to the complainant: progress (before conclusion), result, or the monthly follow-up."""

    kind: Literal["progress", "result", "followup"]
    text: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    template: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class ClockEventIn(_In, kw_only=True):
    """Pause, resume or extend a deadline of this item."""

    clock: Annotated[str, msgspec.Meta(max_length=64)]
    # extend_request asks for an extension; extend approves the waiting request (by someone else).
    event: Literal["pause", "resume", "extend_request", "extend"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    amount: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = None
    # A pause names the suspension its rule allows (e.g. "hearing" for a review's answer, Art. 36).
    reason_code: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class MaterialIn(_In, kw_only=True):
    """More material from the complainant."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class RatingIn(_In, kw_only=True):
    """The complainant rates the handling after closure."""

    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ReviewIn(_In, kw_only=True):
    """Ask for a review (复查) of a closed item, or a second review (复核) of a review."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class CategoryField(_In, kw_only=True):
    """One extra field of a category."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    type: Literal["string", "text", "number", "date", "single_choice", "multiple_choice"]
    required: bool = False
    order: int = 0
    help: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    options: list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]] = []


class CategoryIn(_In, kw_only=True):
    """A category as the admin writes it."""

    code: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]
    kind: Kind
    name: Text200
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    fields: list[CategoryField] = []
    sort: int = 0
    active: bool = True
    # Items need a formal handling opinion (信访工作条例 Art. 31(6)): the 60-day clock runs. Unset: petitions only.
    handling_opinion: bool | None = None


class CategoryOut(_Out, kw_only=True):
    """A category as the apps see it (Open311 GeoReport v2 service + its definition, in one)."""

    code: str
    kind: Kind
    kind_label: str
    name: str
    description: str
    fields: list[CategoryField]
    version: int


class Catalog(_Out, kw_only=True):
    """An office's categories; `version` changes whenever any of them does (cache until it changes)."""

    office: str
    version: int
    categories: list[CategoryOut]


class TemplateIn(_In, kw_only=True):
    """A reply template; `{receipt_no}`, `{office}`, `{title}`, `{referred_to}`, `{reason}` are filled in."""

    state: ItemState
    title: Text200
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class TemplateOut(_Out, kw_only=True):
    """A reply template."""

    code: str
    state: ItemState
    title: str
    body: str
