"""The liaison module as data: the suggestion and invitation workflows, actions, clocks, topics, office policy."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from auth.actions import STAFF_ROLES
from modules.kernel.workflow import Transition, Workflow

__all__ = (
    "ACTIONS", "CLOCKS", "INVITATION_WORKFLOW", "NOTICE_CLOCK", "PERMISSION_DEFAULTS", "REPLY_CLOCKS", "TOPICS",
    "WORKFLOW", "Cadence", "Config",
)

ACTIONS: dict[str, str] = {
    "liaison.read": "Read the office's register of deputies and members, suggestions, invitations and bulletins.",
    "liaison.contact.view": "See representatives' unmasked phone numbers and addresses.",
    "liaison.register.manage": "Add representatives to the register, change them, name their handler.",
    "liaison.contact.record": "Record a visit, call or meeting with a representative.",
    "liaison.account.create": "Create a representative's sign-in from the register.",
    "liaison.suggestion.log": "Log a suggestion received at a session of the congress, a visit or by letter.",
    "liaison.suggestion.assign": "Assign a suggestion to the owning department and its handler.",
    "liaison.suggestion.reclassify": "Classify a suggestion as wide-ranging or difficult (6 months to answer).",
    "liaison.suggestion.reply": "Draft the reply to a suggestion (it then waits for review and approval).",
    "liaison.suggestion.review": "Review a drafted reply as the department head.",
    "liaison.suggestion.approve": "Approve a reviewed reply as the chief; approval delivers it.",
    "liaison.suggestion.followup": "Record the satisfaction follow-up 回访 with the representative.",
    "liaison.suggestion.convert": "Turn a suggestion into a complaint, keeping the link both ways.",
    "liaison.invitation.manage": "Invite representatives to events, record attendance, close or cancel events.",
    "liaison.bulletin.publish": "Publish a bulletin to the office's representatives.",
    "liaison.rep": "As a deputy or member: submit and follow one's own suggestions, answer invitations, read "
                   "bulletins.",
}

# Steps of a suggestion. Drafting the reply is proposed and carried out only once the department head has reviewed
# it and the chief approved it; the approval delivers it (the representative is told).
_T = Transition
WORKFLOW = Workflow(
    states={"submitted": "已提交", "assigned": "办理中", "replied": "已答复", "closed": "已办结",
            "converted": "已转为控告申诉"},
    terminal=frozenset({"closed", "converted"}),
    not_applicable_after={"converted": "converted"},
    transitions={t.name: t for t in (
        _T(name="assign", sources=frozenset({"submitted", "assigned"}), target="assigned",
           action="liaison.suggestion.assign", needs=("department",), public=True, offered=False, label_zh="交办"),
        _T(name="reply", sources=frozenset({"assigned"}), target="replied", action="liaison.suggestion.reply",
           needs=("reply",), approvals=("liaison.suggestion.review", "liaison.suggestion.approve"),
           stops=("suggestion_reply", "suggestion_reply_difficult"), public=True, label_zh="答复"),
        # The follow-up 回访问效: satisfied or basically satisfied concludes; not satisfied reopens the handling.
        _T(name="conclude", sources=frozenset({"replied"}), target="closed", action="liaison.suggestion.followup",
           needs=("satisfaction",), public=True, offered=False, label_zh="回访满意"),
        _T(name="reopen", sources=frozenset({"replied"}), target="assigned", action="liaison.suggestion.followup",
           needs=("satisfaction",), public=True, offered=False, label_zh="回访不满意，重新办理"),
        _T(name="convert", sources=frozenset({"submitted", "assigned"}), target="converted",
           action="liaison.suggestion.convert", public=True, offered=False, label_zh="转为控告申诉"),
    )},
)

INVITATION_WORKFLOW = Workflow(
    states={"open": "邀请中", "held": "已举行", "cancelled": "已取消"},
    terminal=frozenset({"held", "cancelled"}),
    transitions={t.name: t for t in (
        _T(name="hold", sources=frozenset({"open"}), target="held", action="liaison.invitation.manage",
           public=False, label_zh="活动已举行"),
        _T(name="cancel", sources=frozenset({"open"}), target="cancelled", action="liaison.invitation.manage",
           needs=("reason",), public=False, label_zh="取消"),
    )},
)

# Answered within 3 months, or 6 when the office classifies it as wide-ranging or difficult [代表法 2025 Art. 51].
REPLY_CLOCKS = {"normal": "suggestion_reply", "difficult": "suggestion_reply_difficult"}
CLOCKS = ("suggestion_reply", "suggestion_reply_difficult", "hearing_invitation_notice")
# Panellists of a public hearing are told at least 3 days before it: a clock counted back from the hearing.
NOTICE_CLOCK = "hearing_invitation_notice"

# Timeline entries the module writes besides its workflows' steps (type -> label).
EVENT_TYPES: dict[str, str] = {
    "submitted": "提交建议",
    "reclassified": "改为重大复杂件",
    "created": "发出邀请",
    "invited": "追加邀请",
    "invitation.accepted": "接受邀请",
    "invitation.declined": "谢绝邀请",
    "attendance": "出席情况",
    "opinion": "代表委员意见",
}

TOPICS: dict[str, str] = {
    "liaison.staff": "Something happened on a suggestion or invitation of the office: the liaison staff's inboxes.",
    "liaison.representative": "Something a representative is told (a reply, an invitation, a bulletin): their app.",
    "liaison.warning": "A policy warning: a leader behind on the contact cadence (their inbox), too few open days "
                       "(the liaison staff's).",
}


def _grants(role: str, *actions: str) -> tuple[tuple[str, str], ...]:
    return tuple((role, f"liaison.{a}") for a in actions)


# The national default permission list (provinces and offices replace it through the admin API).
PERMISSION_DEFAULTS: tuple[tuple[str, str], ...] = (
    *_grants("deputy", "rep"),
    *_grants("member", "rep"),
    *_grants("liaison_office", "read", "contact.view", "register.manage", "contact.record", "suggestion.log",
             "suggestion.assign", "suggestion.reclassify", "suggestion.reply", "suggestion.followup",
             "suggestion.convert", "invitation.manage", "bulletin.publish"),
    *_grants("prosecutor", "read", "contact.record", "suggestion.reply"),
    *_grants("dept_head", "read", "contact.record", "suggestion.reply", "suggestion.review", "suggestion.assign"),
    *_grants("chief", "read", "contact.record", "contact.view", "suggestion.approve", "suggestion.assign",
             "suggestion.reclassify"),
    # Admins create representatives' sign-ins, so they read the register they pick them from (masked).
    *_grants("admin", "read", "account.create"),
)

StaffRole = Literal[STAFF_ROLES]  # type: ignore[valid-type]  # a Literal built from the tuple: mypy cannot read it, msgspec checks it at run time


class Cadence(msgspec.Struct, forbid_unknown_fields=True):
    """Office policy on keeping in touch: each holder of `roles` contacts at least `deputies` deputies and
    `members` members every quarter (e.g. each leader five of each)."""

    roles: list[StaffRole] = msgspec.field(default_factory=lambda: ["chief", "dept_head"])
    deputies: Annotated[int, msgspec.Meta(ge=0, le=100)] = 5
    members: Annotated[int, msgspec.Meta(ge=0, le=100)] = 5
    # Flow monitoring warns each person still behind once this many days or fewer remain in the quarter.
    warn_days: Annotated[int, msgspec.Meta(ge=0, le=92)] = 30


class Config(msgspec.Struct, forbid_unknown_fields=True):
    """An office's configuration of liaison: per-clock settings, the contact cadence, open days due each year."""

    clocks: dict[str, object] | None = None
    cadence: Cadence | None = None
    open_days_per_year: Annotated[int, msgspec.Meta(ge=0, le=52)] = 2
