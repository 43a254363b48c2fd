"""The complaints module as data: kinds, channels, its workflow, its actions, its clocks."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from auth.actions import STAFF_ROLES
from modules.kernel.workflow import Transition, Workflow

__all__ = (
    "ACTIONS",
    "CHANNELS",
    "CLOCKS",
    "CLOCK_KINDS",
    "EVENT_TYPES",
    "KINDS",
    "NOT_APPLICABLE_AFTER",
    "PERMISSION_DEFAULTS",
    "PETITION_KINDS",
    "PUBLIC_CLOCKS",
    "STATE_LABELS",
    "TOPICS",
    "WORKFLOW",
    "Config",
)

KINDS: dict[str, str] = {
    "accusation": "控告",
    "report": "举报",
    "criminal_appeal": "刑事申诉",
    "civil_admin_appeal": "民事行政申诉",
    "state_compensation": "国家赔偿",
    "judicial_aid": "国家司法救助",
    "other_petition": "其他信访",
    "legal_consultation": "法律咨询",
}
# Petitions under the 信访工作条例 also get the 15-day written notice of receipt.
PETITION_KINDS = frozenset({"other_petition"})
CHANNELS = ("app", "web", "hotline", "walk_in", "letter")
# Clocks that run only for some kinds; every other clock runs for all.
# Transfers start the objection clock whatever the kind; the handling opinion follows the category's setting.
CLOCK_KINDS: dict[str, frozenset[str]] = {"receipt_notice": PETITION_KINDS, "handling_opinion": PETITION_KINDS}

# States after which the item's remaining clocks do not apply, with the reason recorded on each.
NOT_APPLICABLE_AFTER: dict[str, str] = {"referred": "referred", "not_accepted": "not_accepted"}

STATE_LABELS: dict[str, str] = {
    "received": "已登记",
    "awaiting_material": "待补充材料",
    "accepted": "已受理",
    "in_progress": "办理中",
    "referred": "已转送其他机关",
    "not_accepted": "不予受理",
    "closed": "已办结",
}

ACTIONS: dict[str, str] = {
    "complaint.create": "File a complaint, report or appeal as a signed-in citizen.",
    "complaint.own": "Follow, add material to, rate and ask to review one's own items.",
    "complaint.file_for_visitor": "File an item for a walk-in visitor, a caller or a letter.",
    "complaint.read": "Read the office's items, with internal notes.",
    "complaint.identity.view": "See a reporter's identity and unmasked ID and phone numbers.",
    "complaint.triage": "Accept, ask for material, refer out or refuse an item.",
    "complaint.assign": "Assign an item at random under the office's plan.",
    "complaint.designate": "Designate a handler instead of the random draw, with a recorded reason.",
    "complaint.transfer": "Transfer an item to another office or department.",
    "complaint.note": "Add an internal note.",
    "complaint.reply": "Send a progress, result or follow-up reply to the complainant.",
    "complaint.close": "Close an item with its disposition.",
    "complaint.reopen": "Reopen a closed or refused item, with a reason.",
    "complaint.clock.manage": "Pause or resume a deadline, with a reason.",
    "complaint.clock.extend": "Approve an extension of a deadline, with a reason.",
    "complaint.monitor": "Flow monitoring: overdue lists and on-time reply rates.",
    "complaint.catalog.manage": "Edit the office's categories and reply templates.",
}

_T = Transition
WORKFLOW = Workflow(
    states=STATE_LABELS,
    terminal=frozenset({"referred", "not_accepted", "closed"}),
    not_applicable_after=NOT_APPLICABLE_AFTER,
    transitions={t.name: t for t in (
        _T(name="accept", sources=frozenset({"received", "awaiting_material"}), target="accepted",
           action="complaint.triage", stops=("procedural_reply", "receipt_notice", "wrong_route_objection"),
           starts=("handling_opinion",), label_zh="受理"),
        _T(name="request_material", sources=frozenset({"received"}), target="awaiting_material",
           action="complaint.triage", needs=("reason",),
           stops=("procedural_reply", "receipt_notice", "wrong_route_objection"), label_zh="告知补充材料"),
        # Referring or refusing answers the procedural reply and the notice; every other clock stops applying
        # (NOT_APPLICABLE_AFTER), so the item is left out of the 3-month rate rather than counted as met.
        _T(name="refer", sources=frozenset({"received", "awaiting_material", "accepted"}), target="referred",
           action="complaint.triage", needs=("referredTo",),
           stops=("procedural_reply", "receipt_notice"), label_zh="转送其他机关"),
        _T(name="reject", sources=frozenset({"received", "awaiting_material"}), target="not_accepted",
           action="complaint.triage", needs=("reason",),
           stops=("procedural_reply", "receipt_notice"), label_zh="不予受理"),
        _T(name="close", sources=frozenset({"accepted", "in_progress"}), target="closed", action="complaint.close",
           needs=("disposition",), stops=("result_reply", "followup_reply", "review_answer", "handling_opinion"),
           label_zh="办结"),
        _T(name="reopen", sources=frozenset({"closed", "not_accepted"}), target="in_progress",
           action="complaint.reopen", needs=("reason",), public=True, starts=("result_reply",), label_zh="重新办理"),
        # Moves made through routes of their own, not offered as steps.
        _T(name="assign", sources=frozenset({"accepted", "in_progress"}), target="in_progress",
           action="complaint.assign", public=False, offered=False, label_zh="分案"),
        _T(name="add_material", sources=frozenset({"awaiting_material"}), target="received",
           action="complaint.own", public=True, offered=False, label_zh="补充材料"),
    )},
)

# Every clock the module runs (all defined with the shared rules in modules.clocks.rules).
CLOCKS = ("procedural_reply", "result_reply", "followup_reply", "receipt_notice", "wrong_route_objection",
          "handling_opinion", "review_request", "review_answer")
# Deadlines the complainant is shown; internal ones (extensions' approvals, petition notices) stay with staff.
PUBLIC_CLOCKS = frozenset({"procedural_reply", "result_reply", "followup_reply", "review_answer"})

TOPICS: dict[str, str] = {
    "complaint.staff": "Something happened on an item of the office: its staff's inboxes.",
    "complaint.complainant": "Something the complainant is told: the signed-in citizen's inbox and phone.",
    "complaint.assigned": "An item was assigned: the handler's inbox and phone.",
}

# Timeline entries complaints writes besides its workflow's steps (type -> label).
EVENT_TYPES: dict[str, str] = {
    "received": "登记",
    "reply.progress": "进展答复",
    "reply.result": "结果答复",
    "reply.followup": "跟进答复",
    "transferred": "移交",
    "clock.pause": "期限中止",
    "clock.resume": "期限恢复",
    "clock.extend_request": "申请延长期限",
    "clock.extend": "延长期限",
    "review.requested": "申请复查",
    "material": "补充材料",
    "note": "内部备注",
}


def _grants(role: str, *actions: str) -> tuple[tuple[str, str], ...]:
    return tuple((role, f"complaint.{a}") for a in actions)


# The national default permission list (provinces and offices replace it through the admin API).
PERMISSION_DEFAULTS: tuple[tuple[str, str], ...] = (
    *_grants("citizen", "create", "own"),
    *_grants("prosecutor", "read", "note", "reply", "close", "clock.manage"),
    *_grants("assistant", "read", "note", "reply"),
    *_grants("complaints_office", "read", "file_for_visitor", "triage", "assign", "transfer", "note", "reply", "close",
             "clock.manage", "monitor"),
    # Extending the 60-day handling opinion is approved by the organ's head (信访工作条例 Art. 34):
    # not a department head.
    *_grants("dept_head", "read", "triage", "assign", "transfer", "note", "reply", "close", "reopen", "clock.manage",
             "monitor", "identity.view"),
    *_grants("chief", "read", "triage", "assign", "designate", "transfer", "note", "reply", "close", "reopen",
             "clock.manage", "clock.extend", "monitor", "identity.view"),
    *_grants("case_mgmt", "read", "monitor"),
    *_grants("admin", "catalog.manage"),
)


StaffRole = Literal[STAFF_ROLES]  # type: ignore[valid-type]  # the closed set of staff roles, as data


class AssignmentPlan(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """The office's published plan for random assignment: which roles may draw items."""

    eligible_roles: list[StaffRole] | None = None


class Config(msgspec.Struct, forbid_unknown_fields=True):
    """An office's configuration of complaints: per-clock day types and lead times, and the assignment plan.
    Checked when an admin saves it (a bad value once saved made every assignment of the office answer 500)."""

    clocks: dict[str, Any] | None = None
    assignment: AssignmentPlan | None = None
