"""Flow monitoring 案件流程监控 for every module: overdue and due-soon lists, on-time rates, and the escalation
ladder (reminder 口头提示 → written notice 流程监控通知书 answered by the handler → bulletin 通报)."""

from __future__ import annotations

from api.outbox import register_recipients, register_topics
from auth.actions import register_actions
from modules.kernel.timeline import declare_event_types
from modules.monitoring.recipients import RECIPIENTS

ACTIONS: dict[str, str] = {
    "monitoring.read": "Flow monitoring: every module's overdue and due-soon deadlines, on-time rates, the ladder.",
    "monitoring.escalate": "Raise a reminder, a written monitoring notice or a bulletin by hand.",
    "monitoring.answer": "Answer a written monitoring notice on one's own item with a reason and a plan.",
    "monitoring.configure": "Set the ladder's delays, and run the sweep now.",
}
register_actions(ACTIONS)
register_topics({"monitoring": "A rung of the escalation ladder was reached: the handler and the department head "
                               "(a bulletin: the handlers it lists and their heads)."})
register_recipients(RECIPIENTS)
# What the ladder writes on the timeline of the item whose deadline it watches.
declare_event_types({"monitoring.reminder": "流程监控提示", "monitoring.notice": "流程监控通知书",
                     "monitoring.notice_answered": "流程监控通知书回复", "monitoring.bulletin": "流程监控通报"})

__all__ = ("ACTIONS",)
