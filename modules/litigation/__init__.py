"""Public-interest litigation 公益诉讼: clues from every source, case steps with the chief's approvals and legal
deadlines, field evidence in a hash chain, and the recommendation loop with administrative agencies."""

from __future__ import annotations

from modules.kernel.manifest import Manifest, lazy_demo, lazy_routes
from modules.litigation.recipients import RECIPIENTS
from modules.litigation.rules import ACTIONS, CLOCKS, EVENT_TYPES, EXTERNAL_ACTIONS, PERMISSION_DEFAULTS, TOPICS, Config
from modules.registry import register

__all__ = ("MANIFEST",)


def _subjects() -> tuple:
    from modules.litigation.service import CASE, CLUE

    return (CLUE, CASE)


MANIFEST = register(Manifest(
    name="litigation", label_zh="公益诉讼", routes=lazy_routes(__name__), actions=ACTIONS,
    external_actions=EXTERNAL_ACTIONS,
    permission_defaults=PERMISSION_DEFAULTS, uses_clocks=CLOCKS, topics=TOPICS, event_types=EVENT_TYPES,
    subjects=_subjects(),
    recipients=RECIPIENTS,
    config=Config, demo=lazy_demo(__name__),
))
