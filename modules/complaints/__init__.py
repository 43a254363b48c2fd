"""Complaints, reports and appeals 控告申诉 / 举报 / 信访: intake, handling, every reply on time."""

from __future__ import annotations

from modules.complaints.recipients import RECIPIENTS
from modules.complaints.rules import ACTIONS, CLOCKS, EVENT_TYPES, PERMISSION_DEFAULTS, TOPICS, Config
from modules.kernel.manifest import Manifest, lazy_demo, lazy_routes
from modules.registry import register

__all__ = ("MANIFEST",)


def _subjects() -> tuple:
    from modules.complaints.service import SUBJECT

    return (SUBJECT,)


MANIFEST = register(Manifest(
    name="complaints", label_zh="控告申诉", routes=lazy_routes(__name__), actions=ACTIONS,
    external_actions={"citizen": frozenset({"complaint.create", "complaint.own"})},
    permission_defaults=PERMISSION_DEFAULTS, uses_clocks=CLOCKS, topics=TOPICS, event_types=EVENT_TYPES,
    recipients=RECIPIENTS,
    subjects=_subjects(),
    public_routes=frozenset({
        ("GET", "/api/v1/offices/{office:str}/complaint-catalog"),
        ("POST", "/api/v1/public/complaints"),
        ("GET", "/api/v1/public/complaints/{receipt_no:str}"),
        ("POST", "/api/v1/public/complaints/{receipt_no:str}/materials"),
        ("POST", "/api/v1/public/complaints/{receipt_no:str}/rating"),
        ("POST", "/api/v1/public/complaints/{receipt_no:str}/reviews"),
        ("POST", "/api/v1/public/complaints/{receipt_no:str}/attachments"),
        ("GET", "/api/v1/public/complaints/{receipt_no:str}/attachments/{attachment_id:uuid}"),
    }),
    config=Config, demo=lazy_demo(__name__),
))
