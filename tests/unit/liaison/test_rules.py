"""The liaison module's rules as data: quarters, the open days owed by a day, the workflows and the clocks."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from modules.clocks.rules import CLOCKS
from modules.liaison.queries import open_days_owed
from modules.liaison.register import quarter
from modules.liaison.rules import INVITATION_WORKFLOW, REPLY_CLOCKS, WORKFLOW, Config


@pytest.mark.parametrize(("day", "first", "last"), [
    (date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 5, 15), date(2026, 4, 1), date(2026, 6, 30)),
    (date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30)),
    (date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31)),
])
def test_quarters(day: date, first: date, last: date) -> None:
    assert quarter(day) == (first, last)


def test_open_days_owed_are_spread_over_the_year() -> None:
    assert open_days_owed(2, 2026, date(2026, 1, 10)) == 0
    assert open_days_owed(2, 2026, date(2026, 7, 3)) == 1
    assert open_days_owed(2, 2026, date(2026, 12, 31)) == 2
    assert open_days_owed(2, 2025, date(2026, 1, 1)) == 2  # a year past owes all of it
    assert open_days_owed(2, 2027, date(2026, 12, 31)) == 0


def test_the_reply_needs_review_then_approval_and_stops_both_reply_clocks() -> None:
    reply = WORKFLOW.transitions["reply"]
    assert reply.approvals == ("liaison.suggestion.review", "liaison.suggestion.approve")
    assert set(reply.stops) == set(REPLY_CLOCKS.values())
    # Art. 51: three months, six when wide-ranging or difficult.
    assert (CLOCKS["suggestion_reply"].length.amount, CLOCKS["suggestion_reply"].length.unit) == (3, "months")
    assert (CLOCKS["suggestion_reply_difficult"].length.amount,
            CLOCKS["suggestion_reply_difficult"].length.unit) == (6, "months")
    # Not satisfied sends it back to handling; satisfied concludes it.
    assert WORKFLOW.transitions["reopen"].target == "assigned"
    assert WORKFLOW.is_terminal(WORKFLOW.transitions["conclude"].target)
    assert INVITATION_WORKFLOW.available("open") and not INVITATION_WORKFLOW.available("held")


def test_the_office_configuration_is_checked() -> None:
    assert msgspec.convert({"cadence": {"deputies": 3}, "open_days_per_year": 4}, Config).cadence.deputies == 3
    for bad in ({"cadence": {"deputies": -1}}, {"cadence": {"roles": ["nobody"]}}, {"open_days_per_year": 99},
                {"unknown": 1}):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(bad, Config)
