"""What the staff app and the representative app send and receive for liaison. Unknown fields are refused, so a
body cannot set a state, an office or a number."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schema import Input, Output
from modules.clocks.store import ClockView
from modules.kernel.files import AttachmentOut
from modules.kernel.steps import ProposalOut
from modules.kernel.timeline import EventOut

__all__ = (
    "AssignIn",
    "AttendanceIn",
    "CadenceOut",
    "CadenceRow",
    "Concern",
    "ConcernIn",
    "ContactRecordIn",
    "ContactRecordOut",
    "ConvertIn",
    "DraftIn",
    "EventOpinionIn",
    "FollowupIn",
    "InvitationIn",
    "InvitationOut",
    "InvitationStepIn",
    "InviteeOut",
    "LiaisonBulletinIn",
    "LiaisonBulletinOut",
    "Outcome",
    "ReclassifyIn",
    "RepBulletin",
    "RepInvitation",
    "RepSuggestion",
    "ReplyDecisionIn",
    "RepresentativeIn",
    "RepresentativeOut",
    "RepresentativeUpdate",
    "ResponseIn",
    "StaffSuggestion",
    "SuggestionItem",
    "SuggestionLog",
    "SuggestionSubmit",
)

RepKind = Literal["deputy", "member"]
Level = Literal["national", "municipal", "district"]
ContactKind = Literal["visit", "call", "meeting", "other"]
SuggestionState = Literal["submitted", "assigned", "replied", "closed", "converted"]
Classification = Literal["normal", "difficult"]
Satisfaction = Literal["satisfied", "basically_satisfied", "not_satisfied"]
InvitationKind = Literal["open_day", "hearing", "inspection", "court_observation", "pil_evaluation", "other"]
InvitationState = Literal["open", "held", "cancelled"]
BulletinKind = Literal["work_report", "typical_case", "notice"]
Audience = Literal["all", "deputy", "member", "selected"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text5000 = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Phone = Annotated[str, msgspec.Meta(max_length=20)]


# The register

class RepresentativeIn(Input):
    """A deputy or member added to the office's register."""

    kind: RepKind
    level: Level
    name: Name
    delegation: Text200 | None = None
    post: Text200 | None = None
    phone: Phone | None = None
    address: Text200 | None = None
    handler_id: UUID | None = None


class RepresentativeUpdate(Input):
    """Changes to a register entry; absent fields stay as they are, null clears the optional ones."""

    level: Level | msgspec.UnsetType = msgspec.UNSET
    delegation: Text200 | None | msgspec.UnsetType = msgspec.UNSET
    post: Text200 | None | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | None | msgspec.UnsetType = msgspec.UNSET
    address: Text200 | None | msgspec.UnsetType = msgspec.UNSET
    handler_id: UUID | None | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class RepresentativeOut(Output):
    """A register entry; phone and address are masked unless the caller may see contact details."""

    id: UUID
    kind: RepKind
    level: Level
    name: str
    delegation: str | None
    post: str | None
    phone: str | None
    address: str | None
    masked: bool
    handler_id: UUID | None
    user_id: UUID | None
    active: bool
    created_at: datetime


class ContactRecordIn(Input):
    """A visit 走访, call or meeting; `staffId` defaults to the caller."""

    kind: ContactKind
    contacted_on: date
    summary: Text5000
    staff_id: UUID | None = None


class ContactRecordOut(Output):
    """One contact of the history."""

    id: UUID
    representative_id: UUID
    kind: ContactKind
    contacted_on: date
    staff_id: UUID
    summary: str
    created_at: datetime


class CadenceRow(Output):
    """One person the cadence policy applies to, and how far they are this quarter."""

    staff_id: UUID
    name: str
    roles: list[str]
    deputies: int
    members: int
    behind: bool
    # When flow monitoring warned this person this quarter, if it did.
    warned_at: datetime | None = None


class CadenceOut(Output):
    """The office's contact cadence this quarter: who is behind."""

    quarter_start: date
    quarter_end: date
    required_deputies: int
    required_members: int
    roles: list[str]
    rows: list[CadenceRow]


# Suggestions

class SuggestionSubmit(Input):
    """A suggestion, criticism or opinion, one by one, by the representative in the app."""

    title: Text200
    body: LongText


class SuggestionLog(Input):
    """A suggestion logged by staff: received at a session of the congress, on a visit, or by letter."""

    representative_id: UUID
    channel: Literal["session", "visit", "letter"]
    title: Text200
    body: LongText


class AssignIn(Input):
    """The owning department, and optionally its handler (a staff member of the office)."""

    department: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    handler_id: UUID | None = None


class DraftIn(Input):
    """The drafted reply; it waits for the department head's review and the chief's approval."""

    reply: LongText


class ReplyDecisionIn(Input):
    """Approve, return (with a reason) or withdraw the pending reply."""

    decision: Literal["approve", "return", "withdraw"]
    reason: Text5000 | None = None


class ReclassifyIn(Input):
    """Why the suggestion is wide-ranging or difficult (its answer is then due within 6 months)."""

    reason: Text5000


class FollowupIn(Input):
    """The satisfaction follow-up 回访问效; "not_satisfied" reopens the handling."""

    satisfaction: Satisfaction
    comment: Text5000 | None = None


class ConvertIn(Input):
    """Turn the suggestion into a complaint of this category (a code of the office's complaint catalog)."""

    category: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    reason: Text5000


class Outcome(Output):
    """What a suggestion became (or came from) in another module, with that item's reference and state."""

    module: str
    kind: str
    direction: str
    id: UUID
    ref: str | None
    state: str | None
    # The linked item's public progress (what its own filer is shown), oldest first.
    progress: list[EventOut] = []


class SuggestionItem(Output):
    """A suggestion in a list."""

    id: UUID
    number: str
    title: str
    state: SuggestionState
    classification: Classification
    department: str | None
    representative_id: UUID
    created_at: datetime
    next_due: date | None


class _Suggestion(Output):
    """What every view of a suggestion holds."""

    id: UUID
    number: str
    title: str
    body: str
    state: SuggestionState
    state_label: str
    classification: Classification
    department: str | None
    reply: str | None
    satisfaction: Satisfaction | None
    created_at: datetime
    timeline: list[EventOut]
    attachments: list[AttachmentOut]


class StaffSuggestion(_Suggestion):
    """A suggestion as the office's staff see it."""

    representative: RepresentativeOut
    channel: str
    handler_id: UUID | None
    satisfaction_comment: str | None
    updated_at: datetime
    closed_at: datetime | None
    clocks: list[ClockView]
    links: list[Outcome]
    pending_proposal: ProposalOut | None
    available_steps: list[str]


class RepSuggestion(_Suggestion):
    """One's own suggestion as the representative sees it: public progress, the delivered reply, what it became."""

    can_rate: bool
    deadlines: list[ClockView]
    outcomes: list[Outcome]


Ref = Annotated[str, msgspec.Meta(min_length=2, max_length=64)]


class ConcernIn(Input):
    """Follow a case one raised, by its number: a complaint's receipt number or a PIL case's number (`ref`;
    `receiptNo` is the older name, still read)."""

    ref: Ref | None = None
    receipt_no: Ref | None = None


class Concern(Output):
    """A case the representative follows: its number, state and progress. A complaint's progress is its public
    timeline; a PIL case's is its steps by kind and date, without their text or data."""

    module: str
    id: UUID
    ref: str
    state: str
    progress: list[EventOut]
    followed_at: datetime


# Invitations

class InvitationIn(Input):
    """An event and the representatives invited to it."""

    kind: InvitationKind
    title: Text200
    place: Text200
    starts_at: datetime
    capacity: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    representative_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=200)]
    body: Text5000 | None = None


class InvitationStepIn(Input):
    """`hold` (the event took place) or `cancel` (with a reason)."""

    step: Literal["hold", "cancel"]
    reason: Text5000 | None = None


class InviteesIn(Input):
    """More representatives to invite."""

    representative_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=200)]


class AttendanceIn(Input):
    """Who attended: every other invitee who accepted is recorded as absent."""

    attended: Annotated[list[UUID], msgspec.Meta(max_length=1000)]


class InviteeOut(Output):
    """An invited representative and what they answered."""

    representative_id: UUID
    name: str
    kind: RepKind
    response: str
    responded_at: datetime | None
    attended: bool | None
    opinion: str | None


class InvitationOut(Output):
    """An event as staff see it."""

    id: UUID
    kind: InvitationKind
    title: str
    place: str
    body: str | None
    starts_at: datetime
    capacity: int
    state: InvitationState
    accepted: int
    invitees: list[InviteeOut]
    created_at: datetime
    # A hearing's notice deadline (3 days before it) and whether the invitations met it; in the single view.
    clocks: list[ClockView] = []


class ResponseIn(Input):
    """Accept or decline an invitation."""

    response: Literal["accept", "decline"]


class EventOpinionIn(Input):
    """A representative's opinion after attending."""

    text: Text5000


class RepInvitation(Output):
    """An invitation as the invited representative sees it."""

    id: UUID
    kind: InvitationKind
    title: str
    place: str
    body: str | None
    starts_at: datetime
    state: InvitationState
    response: str
    attended: bool | None
    opinion: str | None
    can_respond: bool
    can_give_opinion: bool


# Bulletins

class LiaisonBulletinIn(Input):
    """A bulletin 情况通报, published at once to all representatives of the office, its deputies or members, or
    (`selected`) to the representatives named in `representativeIds`."""

    kind: BulletinKind
    audience: Audience
    title: Text200
    body: LongText
    representative_ids: Annotated[list[UUID], msgspec.Meta(max_length=500)] = []


class LiaisonBulletinOut(Output):
    """A bulletin with its read receipts."""

    id: UUID
    kind: BulletinKind
    audience: Audience
    title: str
    body: str
    published_at: datetime
    read_by: list[UUID]
    # The representatives chosen by name (audience `selected`).
    recipients: list[UUID] = []


class RepBulletin(Output):
    """A bulletin as a representative reads it."""

    id: UUID
    kind: BulletinKind
    title: str
    body: str
    published_at: datetime
    read: bool


# Rates

class QuarterCadence(Output):
    """How many of those the cadence policy names met it in one quarter."""

    quarter_start: date
    people: int
    met: int


class LiaisonStats(Output):
    """The office's liaison figures for a year: replies on time, satisfaction, open days, contact cadence."""

    year: int
    suggestions: int
    answered_on_time: int
    answers_due: int
    on_time_rate: float | None
    satisfied: int
    basically_satisfied: int
    not_satisfied: int
    satisfaction_rate: float | None
    open_days_held: int
    open_days_required: int
    open_days_behind: bool
    cadence: list[QuarterCadence]
