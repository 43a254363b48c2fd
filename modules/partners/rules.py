"""Partner work as data: the actions partner clients and staff hold, the early-involvement workflow and its clock."""

from __future__ import annotations

from typing import Literal

import msgspec

from modules.clocks.rules import ClockSpec, Period
from modules.kernel.workflow import Transition, Workflow

__all__ = (
    "ACTIONS", "CLOCKS", "CONSULTATION", "INVOLVEMENT", "MESSAGE", "PARTNER_ACTIONS", "PERMISSION_DEFAULTS",
    "RESPONSE_DAYS", "TOPICS", "Config",
)

# What partner clients may be granted (each also needs it in the client's own scopes).
PARTNER_ACTIONS: dict[str, str] = {
    "partner.hotline.transfer": "Transfer a 12345 hotline call into complaints and follow the ticket's result.",
    "partner.clue.transfer": "Transfer a clue met in a criminal case into complaints or reports and see whether "
                             "it was accepted.",
    "partner.involvement": "Ask for early involvement 提前介入, answer the office's request, follow the exchange.",
    "partner.contacts": "Keep the agency's own contact people.",
    "partner.documents": "Exchange documents with the office: send, sign for on receipt, answer.",
    "partner.consultation": "Propose and confirm consultation 磋商 slots with the office, read the minutes.",
    "partner.items.read": "See everything open with the office, with its deadlines.",
}
ACTIONS: dict[str, str] = {
    **PARTNER_ACTIONS,
    "partner.read": "See the office's early-involvement exchanges with partner agencies.",
    "partner.involvement.handle": "Accept or decline a partner's early-involvement request, assign the prosecutor, "
                                  "ask a partner for early involvement.",
    "partner.involvement.opinion": "Record opinions given to the partner in an early involvement, and conclude it.",
    "partner.documents.handle": "Send documents to partner agencies, sign for and answer theirs.",
    "partner.consultation.handle": "Schedule consultations 磋商 with agencies and share their minutes.",
}

# The office sets how long the other side has to answer a request for early involvement (office policy, as data:
# the module configuration's `involvement.responseDays`), from the periods the rule offers.
RESPONSE_DAYS: tuple[int, ...] = (1, 2, 3, 5, 7, 10, 15)
CLOCKS: dict[str, ClockSpec] = {
    "involvement_response": ClockSpec(
        code="involvement_response", module="partners", length=Period(7), lead_days=(1,),
        periods=tuple(Period(d) for d in RESPONSE_DAYS),
        label_zh="提前介入请求答复", label_en="Answer to a request for early involvement"),
}

_T = Transition
INVOLVEMENT = Workflow(
    states={"requested": "待答复", "accepted": "已介入", "declined": "不予介入", "concluded": "已结束"},
    terminal=frozenset({"declined", "concluded"}),
    transitions={t.name: t for t in (
        # Who answers depends on who asked: the office answers the police's request, the police the office's.
        # Both are made through the answer routes, which check the direction.
        _T(name="accept", sources=frozenset({"requested"}), target="accepted", action="partner.involvement.handle",
           needs=("prosecutorId",), stops=("involvement_response",), offered=False, label_zh="同意介入"),
        _T(name="decline", sources=frozenset({"requested"}), target="declined", action="partner.involvement.handle",
           needs=("reason",), stops=("involvement_response",), offered=False, label_zh="不予介入"),
        _T(name="agree", sources=frozenset({"requested"}), target="accepted", action="partner.involvement",
           stops=("involvement_response",), offered=False, label_zh="公安机关同意"),
        _T(name="refuse", sources=frozenset({"requested"}), target="declined", action="partner.involvement",
           needs=("reason",), stops=("involvement_response",), offered=False, label_zh="公安机关不同意"),
        _T(name="conclude", sources=frozenset({"accepted"}), target="concluded",
           action="partner.involvement.opinion", label_zh="介入结束"),
    )},
)

# A message is sent, signed for by the receiving side (the time recorded), and answered where its kind asks. Which
# side may sign or answer is checked by the service (the receiving side), so each move has a partner and a staff
# twin with the action of that side.
MESSAGE = Workflow(
    states={"sent": "已发送", "received": "已签收", "answered": "已答复"},
    terminal=frozenset({"answered"}),
    transitions={t.name: t for t in (
        _T(name="sign", sources=frozenset({"sent"}), target="received", action="partner.documents",
           offered=False, label_zh="签收"),
        _T(name="sign_office", sources=frozenset({"sent"}), target="received", action="partner.documents.handle",
           offered=False, label_zh="签收"),
        _T(name="answer", sources=frozenset({"received"}), target="answered", action="partner.documents",
           offered=False, label_zh="答复"),
        _T(name="answer_office", sources=frozenset({"received"}), target="answered",
           action="partner.documents.handle", offered=False, label_zh="答复"),
    )},
)

# A consultation: proposed slots, one confirmed by the other side, held (minutes shared) or cancelled.
CONSULTATION = Workflow(
    states={"proposed": "待确认", "confirmed": "已确认", "held": "已磋商", "cancelled": "已取消"},
    terminal=frozenset({"held", "cancelled"}),
    transitions={t.name: t for t in (
        _T(name="confirm", sources=frozenset({"proposed"}), target="confirmed", action="partner.consultation",
           needs=("scheduledAt",), offered=False, label_zh="确认时间"),
        _T(name="confirm_office", sources=frozenset({"proposed"}), target="confirmed",
           action="partner.consultation.handle", needs=("scheduledAt",), offered=False, label_zh="确认时间"),
        _T(name="hold", sources=frozenset({"confirmed"}), target="held", action="partner.consultation.handle",
           needs=("minutes",), offered=False, label_zh="磋商纪要"),
        _T(name="cancel", sources=frozenset({"proposed", "confirmed"}), target="cancelled",
           action="partner.consultation.handle", needs=("reason",), offered=False, label_zh="取消"),
    )},
)

# Timeline entries the module writes besides its workflows' steps (type -> label); a transfer is also written on
# the complaint it became.
EVENT_TYPES: dict[str, str] = {
    "sent": "发出文书",
    "requested": "提出提前介入请求",
    "opinion": "提出意见",
    "message": "沟通留言",
    "proposed": "提出磋商时间",
    "partner.transferred": "协作单位移送",
}

# Each event names the partner client (`clientUuid`), so the delivery side can route it to the agency's feed.
TOPICS: dict[str, str] = {
    "partner.consultation": "A consultation was proposed, confirmed, held or cancelled: staff and the agency.",
    "partner.document": "A document was sent, signed for or answered: the office's staff and the partner.",
    "partner.involvement": "Something happened in an early involvement: the office's staff and the partner.",
    "partner.transfer": "A call or clue was transferred into complaints (its outcomes follow as complaint.staff "
                        "events of the item; partner_transfers maps the item to the client): staff and the partner.",
}

_PARTNER = tuple(("partner", a) for a in PARTNER_ACTIONS)
PERMISSION_DEFAULTS: tuple[tuple[str, str], ...] = (
    *_PARTNER,
    ("prosecutor", "partner.read"), ("prosecutor", "partner.involvement.opinion"),
    ("dept_head", "partner.read"), ("dept_head", "partner.involvement.handle"),
    ("dept_head", "partner.involvement.opinion"),
    ("chief", "partner.read"), ("chief", "partner.involvement.handle"), ("chief", "partner.involvement.opinion"),
    ("case_mgmt", "partner.read"),
    ("prosecutor", "partner.documents.handle"), ("dept_head", "partner.documents.handle"),
    ("chief", "partner.documents.handle"),
    ("prosecutor", "partner.consultation.handle"), ("dept_head", "partner.consultation.handle"),
    ("chief", "partner.consultation.handle"),
)

ResponseDays = Literal[RESPONSE_DAYS]  # type: ignore[valid-type]  # a Literal built from the tuple: mypy cannot read it, msgspec checks it at run time


class InvolvementPolicy(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """How long the other side has to answer a request for early involvement, by urgency (days)."""

    normal: ResponseDays = 7
    urgent: ResponseDays = 2


class Config(msgspec.Struct, forbid_unknown_fields=True):
    """An office's configuration of partner work: the early-involvement response policy, per-clock day types."""

    involvement: InvolvementPolicy | None = None
    clocks: dict[str, dict[str, object]] | None = None
