"""What the apps and partner clients send and receive for public-interest litigation. Unknown fields are refused,
so a body cannot set a state, an office or a number."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schema import Input, Output
from modules.clocks.store import ClockView
from modules.kernel.files import AttachmentOut
from modules.kernel.links import LinkOut
from modules.kernel.steps import ProposalOut
from modules.kernel.timeline import EventOut
from modules.litigation.rules import CaseRoute, CaseState, ClueSource, ClueState

__all__ = (
    "AgencyRecommendation",
    "AgencyReplyIn",
    "CaseItem",
    "CaseOut",
    "ClueCreate",
    "ClueFromComplaint",
    "ClueItem",
    "ClueOut",
    "ConsultationLinkIn",
    "DomainCode",
    "DomainIn",
    "DomainOut",
    "EvidenceIn",
    "EvidenceOut",
    "EvidenceVerdict",
    "FilingIn",
    "HandlerIn",
    "HearingIn",
    "HearingInvitationAnswerIn",
    "HearingInvitationOut",
    "HearingKind",
    "HearingOut",
    "HearingRecordIn",
    "Informant",
    "InviteeIn",
    "InviteeKind",
    "MyInvitationOut",
    "PartnerClueIn",
    "PartnerClueOut",
    "PilClockEventIn",
    "PilDecisionIn",
    "PilStepIn",
    "Place",
    "RecommendationOut",
    "StepOut",
    "VolunteerApply",
    "VolunteerClueIn",
    "VolunteerClueOut",
    "VolunteerDecision",
    "VolunteerItem",
    "VolunteerOut",
    "VolunteerState",
)

Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
DomainCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Place(Input, kw_only=True):
    """Where the public interest is harmed: an address, coordinates (WGS-84), or both."""

    address: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    latitude: Lat | None = None
    longitude: Lon | None = None


class ClueCreate(Input, kw_only=True):
    """A clue registered by staff, typically from the field (photos and video follow as attachments)."""

    domain: DomainCode
    title: Text200
    description: LongText
    place: Place
    public_interest: Short | None = None
    responsible_party: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ClueFromComplaint(Input, kw_only=True):
    """Convert a complaint of the office into a clue: its text and place are taken over, its people are not."""

    complaint_id: UUID
    domain: DomainCode
    public_interest: Short | None = None
    responsible_party: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ClueFromSuggestion(Input, kw_only=True):
    """Convert a deputy's suggestion or a member's proposal of the office into a clue: its text is taken over."""

    suggestion_id: UUID
    domain: DomainCode
    public_interest: Short | None = None
    responsible_party: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class Informant(Input, kw_only=True):
    """Who told the partner agency, if anyone: stored encrypted, shown only masked."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    phone: Annotated[str, msgspec.Meta(min_length=5, max_length=20)] | None = None


class PartnerClueIn(ClueCreate, kw_only=True):
    """A clue transferred by a partner agency or the police; `reference` is its own case or record number."""

    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    informant: Informant | None = None


class PartnerClueOut(Output):
    """A transferred clue as the partner sees it: whether it was taken up, and nothing internal."""

    id: UUID
    clue_no: str
    reference: str
    status: Literal["received", "under_evaluation", "accepted", "not_accepted", "referred"]
    received_at: datetime


class ClueItem(Output):
    """A row of the clue list."""

    id: UUID
    clue_no: str
    state: ClueState
    source: ClueSource
    domain: str
    title: str
    address: str | None
    possible_duplicates: int
    created_at: datetime


class StepOut(Output):
    """A step the caller may take now (the apps show them as buttons); `needs` are the fields it requires."""

    name: str
    label: str
    needs: list[str]
    approvals: list[str]


class ClueOut(Output):
    """A clue as staff see it: its origin, possible duplicates, timeline, files and what can be done next."""

    id: UUID
    clue_no: str
    state: ClueState
    state_label: str
    source: ClueSource
    domain: str
    title: str
    description: str
    address: str | None
    latitude: float | None
    longitude: float | None
    public_interest: str | None
    responsible_party: str | None
    submitted_by: str
    partner_reference: str | None
    informant: str | None
    possible_duplicates: list[UUID]
    case_id: UUID | None
    referred_to: str | None
    created_at: datetime
    links: list[LinkOut]
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    pending_proposal: ProposalOut | None
    available_steps: list[StepOut]


class CaseItem(Output):
    """A row of the case list."""

    id: UUID
    case_no: str
    route: CaseRoute
    state: CaseState
    domain: str
    title: str
    handler_id: UUID | None
    created_at: datetime
    next_due: date | None


class RecommendationOut(Output):
    """A procuratorial recommendation: numbered, signed by the chief, immutable once issued."""

    id: UUID
    rec_no: str
    agency: str
    agency_name: str
    content: str
    urgent: bool
    issued_at: datetime
    received_at: datetime | None
    replied_at: datetime | None
    reply_text: str | None
    reply_rectified: bool | None
    reply_late: bool | None


class CaseOut(Output):
    """A case as staff see it: steps taken and available, deadlines, the recommendation, files and evidence."""

    id: UUID
    case_no: str
    clue_id: UUID
    route: CaseRoute
    state: CaseState
    state_label: str
    domain: str
    title: str
    agency: str | None
    respondent: str | None
    handler_id: UUID | None
    disposition: str | None
    created_at: datetime
    closed_at: datetime | None
    recommendation: RecommendationOut | None
    clocks: list[ClockView]
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    # What the case came from (its clue) or is linked to (consultations with the agency, `kind: consultation`).
    links: list[LinkOut]
    pending_proposal: ProposalOut | None
    available_steps: list[StepOut]


class PilStepIn(Input, kw_only=True):
    """A step on a clue or a case. Which fields a step needs is listed with it (`availableSteps[].needs`)."""

    step: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    reason: Short | None = None
    route: CaseRoute | None = None
    # On the administrative route: the agency (a partner client of the office) and the party responsible.
    agency: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")] | None = None
    respondent: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    referred_to: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    # The office a referred clue goes to (by code): it is registered in that office's clue registry.
    referred_office: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{1,39}$")] | None = None
    # The procuratorate asked to investigate in its area (委托调查).
    delegated_to: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    # The recommendation's or the notice's text; `urgent` gives the agency 15 days instead of two months.
    content: LongText | None = None
    urgent: bool = False
    judgment: Short | None = None
    disposition: Short | None = None
    # An investigation act or a follow-up cites the entries of the case's evidence chain it produced (their `seq`;
    # an on-site follow-up, its photos).
    evidence: Annotated[list[Annotated[int, msgspec.Meta(ge=1)]], msgspec.Meta(max_length=100)] | None = None
    on_site: bool = False
    # The rectification evaluation's conclusion.
    conclusion: Literal["rectified", "partly_rectified", "not_rectified"] | None = None


class PilDecisionIn(Input, kw_only=True):
    """A decision on a proposed step: approve (the next approval of its chain), return with a reason, withdraw."""

    decision: Literal["approve", "return", "withdraw"]
    reason: Short | None = None


class FilingIn(Input, kw_only=True):
    """A report the office has made (the decision served on the agency, a filing with the office above)."""

    kind: Literal["case_decision_served", "recommendation_filed_upward", "suit_filed_upward",
                  "judgment_filed_upward", "court_notice_replied"]
    note: Short | None = None


class ConsultationLinkIn(Input, kw_only=True):
    """A consultation 磋商 with the case's agency (`/api/v1/staff/partner-consultations`) to put on the case."""

    consultation_id: UUID


class PilClockEventIn(Input, kw_only=True):
    """Suspend (中止审查, with the chief's approval) or leave out an appraisal, resume, ask for an extension, or
    (the chief) approve the one asked for: +1 month of the review before suing, then only the office above."""

    clock: Literal["rectification_review", "civil_review", "delegated_investigation"]
    event: Literal["pause", "resume", "extend_request", "extend"]
    reason: Short
    reason_code: Literal["suspension", "appraisal"] | None = None
    amount: Annotated[int, msgspec.Meta(ge=1, le=12)] | None = None


class DomainIn(Input, kw_only=True):
    """A domain of the office's list."""

    label: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    active: bool = True
    position: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0


class DomainOut(Output):
    """A domain clues and cases are filed under."""

    code: str
    label: str
    active: bool


class EvidenceIn(Input, kw_only=True):
    """What is claimed about a file of the case (already uploaded): when and where the device says it was captured,
    and by whom. Offline uploads keep the device's capture time; the server's receipt time is kept beside it. A
    site inspection 现场勘查 names at least two staff."""

    attachment_id: UUID
    kind: Literal["photo", "video", "audio", "document", "site_inspection", "sample", "drone"]
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    captured_at: datetime | None = None
    latitude: Lat | None = None
    longitude: Lon | None = None
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    staff: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=20)] = []


class EvidenceOut(Output):
    """An entry of the case's evidence chain."""

    seq: int
    attachment_id: UUID
    sha256: str
    kind: str
    description: str | None
    captured_at: datetime | None
    latitude: float | None
    longitude: float | None
    file_captured_at: datetime | None
    file_latitude: float | None
    file_longitude: float | None
    address: str | None
    staff: list[str]
    recorded_by: str
    recorded_at: datetime
    prev_hash: str
    entry_hash: str


class EvidenceVerdict(Output):
    """Whether the evidence chain is intact: every entry's hash, its link to the previous one, and the file's
    recorded SHA-256; `broken` lists the sequence numbers that fail, with why."""

    intact: bool
    entries: int
    head: str | None
    broken: list[dict[str, object]]


class AgencyRecommendation(Output):
    """A recommendation as the agency addressed sees it: no internal notes, nothing of the case beyond it."""

    id: UUID
    rec_no: str
    office: str
    case_title: str
    content: str
    urgent: bool
    issued_at: datetime
    received_at: datetime | None
    reply_due: date | None
    replied_at: datetime | None
    reply_late: bool | None


class AgencyReplyIn(Input, kw_only=True):
    """The agency's written reply: what it did to rectify, and whether it considers the matter rectified."""

    text: LongText
    rectified: bool


class QuestionIn(Input, kw_only=True):
    """A question of the agency on a recommendation addressed to it, or the office's answer to one."""

    text: LongText


class QuestionOut(Output):
    """A question of the agency on its recommendation, with the office's answer once given."""

    id: UUID
    text: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None


Office = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
VolunteerState = Literal["applied", "approved", "rejected"]


class VolunteerApply(Input, kw_only=True):
    """An application to volunteer with an office (its phone is the account's)."""

    office: Office
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    area: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    expertise: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class VolunteerOut(Output):
    """One's own application and where it stands."""

    id: UUID
    office: str
    state: VolunteerState
    area: str
    expertise: str | None
    created_at: datetime
    decided_at: datetime | None


class VolunteerItem(Output):
    """An application as staff list it: the name masked."""

    id: UUID
    name: str
    area: str
    expertise: str | None
    state: VolunteerState
    created_at: datetime


class VolunteerDecision(Input, kw_only=True):
    """Approve an application, or turn it down (a reason is kept)."""

    decision: Literal["approve", "reject"]
    reason: Short | None = None


class VolunteerClueIn(ClueCreate, kw_only=True):
    """A clue from the scene by an approved volunteer (photos and video follow as attachments)."""

    office: Office


class VolunteerClueOut(Output):
    """A volunteer's clue as they follow it: what became of it, nothing internal."""

    id: UUID
    clue_no: str
    office: str
    domain: str
    title: str
    status: Literal["received", "under_evaluation", "accepted", "not_accepted", "referred"]
    created_at: datetime


InviteeKind = Literal["deputy", "member", "volunteer", "other"]
HearingKind = Literal["hearing", "evaluation"]


class InviteeIn(Input, kw_only=True):
    """Someone invited: a deputy, a member or an approved volunteer of the office by account id (`userId`), or
    anyone else (an expert, a resident) by name and organisation. Panelists 听证员 form the panel."""

    kind: InviteeKind
    role: Literal["panelist", "participant"] = "panelist"
    user_id: UUID | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    organisation: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class HearingIn(Input, kw_only=True):
    """A hearing 听证 on a case, or a rectification evaluation 整改评估 outside people are invited to."""

    kind: HearingKind
    topic: Text200
    scheduled_at: datetime
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    invitees: Annotated[list[InviteeIn], msgspec.Meta(min_length=1, max_length=30)]


class HearingRecordIn(Input, kw_only=True):
    """The record of a hearing held (听证笔录), or the minutes of the evaluation."""

    record: LongText


class HearingInvitationOut(Output):
    """An invitation as staff see it: who (a volunteer's or an outsider's name masked) and their answer."""

    id: UUID
    kind: InviteeKind
    role: str
    user_id: UUID | None
    name: str
    organisation: str | None
    answer: Literal["pending", "accepted", "declined"]
    answer_note: str | None
    answered_at: datetime | None


class HearingOut(Output):
    """A hearing or evaluation of a case: when, where, the panel and the answers, the record once held."""

    id: UUID
    case_id: UUID
    kind: HearingKind
    topic: str
    scheduled_at: datetime
    place: str
    state: Literal["scheduled", "held"]
    record: str | None
    held_at: datetime | None
    created_at: datetime
    invitations: list[HearingInvitationOut]


class HearingInvitationAnswerIn(Input, kw_only=True):
    """Accept or decline an invitation (until the hearing begins)."""

    answer: Literal["accept", "decline"]
    note: Short | None = None


class MyInvitationOut(Output):
    """An invitation as the invitee sees it: the office, what, when and where; nothing else of the case."""

    id: UUID
    office: str
    kind: HearingKind
    topic: str
    scheduled_at: datetime
    place: str
    role: str
    answer: Literal["pending", "accepted", "declined"]
    answered_at: datetime | None
    created_at: datetime


class HandlerIn(Input, kw_only=True):
    """The staff member who handles the case from now on (one the office's list lets handle cases)."""

    handler_id: UUID
    reason: Short | None = None
