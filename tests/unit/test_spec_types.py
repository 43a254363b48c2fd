"""The enums the spec publishes are the sets the rules use, so a client generated from it never goes stale."""

from __future__ import annotations

from typing import get_args

from modules.complaints.rules import KINDS, STATE_LABELS
from modules.complaints.schemas import Channel, ItemState, Kind


def test_published_enums_are_the_rules_sets() -> None:
    assert set(get_args(ItemState)) == set(STATE_LABELS)
    assert set(get_args(Kind)) == set(KINDS)
    # The channels the complaints table accepts (api/migrations/0004_complaints.sql).
    assert set(get_args(Channel)) == {"app", "web", "hotline", "walk_in", "letter"}
