"""The complaints module as data: kinds, channels, its workflow, its actions, its clocks."""

from __future__ import annotations

from modules.workflow import Transition, Workflow

__all__ = ("ACTIONS", "CHANNELS", "CLOCK_KINDS", "KINDS", "NOT_APPLICABLE_AFTER", "PETITION_KINDS", "STATE_LABELS",
           "WORKFLOW")

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
    )},
)
