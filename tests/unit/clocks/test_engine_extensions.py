"""What the engine offers the litigation rules: per-case periods, chained starts, tiered extensions asked for and
approved by someone else, typed and approved suspensions, and clocks that stop applying."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from modules.clocks.calendar import SHANGHAI, WorkCalendar
from modules.clocks.engine import (
    ClockEventError, ExtensionLimitError, Extended, ExtensionRequested, NotApplicable, Paused, PeriodSet, Resumed,
    Stopped, admit, chain_start, compliance, evaluate,
)
from modules.clocks.rules import CLOCKS, Period

CAL = WorkCalendar()


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SHANGHAI)


def test_a_case_chooses_15_days_when_urgent_and_the_period_crosses_a_holiday() -> None:
    spec = CLOCKS["agency_reply"]
    urgent = admit(spec, [], PeriodSet(at(2025, 9, 20), 15, "days"))
    # Sat Sep 20 + 15 days = Sun Oct 5, inside the National Day break (1-8 Oct 2025): ends Thu Oct 9.
    state = evaluate(spec, CAL, at(2025, 9, 20), [urgent], now=at(2025, 9, 21))
    assert state.due == date(2025, 10, 9)
    # The default stays two months; a length the rule does not offer, or set later, is refused.
    assert evaluate(spec, CAL, at(2025, 9, 20), [], now=at(2025, 9, 21)).due == date(2025, 11, 20)
    with pytest.raises(ClockEventError, match="one of 2 months, 15 days"):
        admit(spec, [], PeriodSet(at(2025, 9, 20), 20, "days"))
    with pytest.raises(ClockEventError):
        admit(spec, [urgent], PeriodSet(at(2025, 9, 21), 15, "days"))
    with pytest.raises(ClockEventError):
        admit(CLOCKS["public_notice"], [], PeriodSet(at(2025, 9, 20), 15, "days"))


def test_a_chained_clock_counts_from_the_day_after_the_earlier_period_ends() -> None:
    # Civil route: a 30-day notice from Mon Sep 1, 2025 ends Wed Oct 1 -> rolled off National Day to Thu Oct 9.
    notice = evaluate(CLOCKS["public_notice"], CAL, at(2025, 9, 1), [], now=at(2025, 9, 2))
    assert notice.due == date(2025, 10, 9)
    start = chain_start(notice)
    assert start.astimezone(SHANGHAI).date() == date(2025, 10, 9)
    assert CLOCKS["civil_review"].chained_to == "public_notice"
    # Three months from the end of Oct 9 is Jan 9, 2026 (a Friday).
    review = evaluate(CLOCKS["civil_review"], CAL, start, [], now=at(2025, 10, 10))
    assert review.due == date(2026, 1, 9)


def test_extensions_climb_the_tiers_chief_then_office_above() -> None:
    spec = CLOCKS["rectification_review"]
    ask = ExtensionRequested(at(2025, 9, 2), 1, "months", "整改受阻", requested_by="prosecutor-1")
    history = [ask]
    # The requester cannot approve; nothing is approved without a request.
    with pytest.raises(ClockEventError, match="cannot approve"):
        admit(spec, history, Extended(at(2025, 9, 3), 0, "months", "ok", approver="prosecutor-1", tier="chief"))
    with pytest.raises(ClockEventError, match="asked for first"):
        admit(spec, [], Extended(at(2025, 9, 3), 1, "months", "ok", approver="chief-1", tier="chief"))
    first = admit(spec, history, Extended(at(2025, 9, 3), 0, "months", "ok", approver="chief-1", tier="chief"))
    assert (first.amount, first.requested_by) == (1, "prosecutor-1")
    history += [first, ExtensionRequested(at(2025, 9, 20), 2, "months", "仍受阻", requested_by="prosecutor-1")]
    # Beyond the chief's month only the office above may approve.
    with pytest.raises(ClockEventError, match="office above"):
        admit(spec, history, Extended(at(2025, 9, 21), 0, "months", "ok", approver="chief-1", tier="chief"))
    second = admit(spec, history, Extended(at(2025, 9, 21), 0, "months", "ok", approver="shanghai-chief",
                                          tier="office_above"))
    history.append(second)
    # Sep 1 + 1 month + 3 months = Thu Jan 1, 2026: New Year (1-3 Jan) rolls it to Sun Jan 4, a make-up working day.
    state = evaluate(spec, CAL, at(2025, 9, 1), history, now=at(2025, 9, 22))
    assert state.due == date(2026, 1, 4) and state.extension == Period(3, "months")
    with pytest.raises(ExtensionLimitError):
        admit(spec, history, ExtensionRequested(at(2025, 9, 23), 5, "months", "x", requested_by="p"))


def test_suspensions_are_typed_and_approved_where_the_rule_says() -> None:
    spec = CLOCKS["rectification_review"]
    with pytest.raises(ClockEventError, match="reason code"):
        admit(spec, [], Paused(at(2025, 9, 2), "整改受阻"))
    with pytest.raises(ClockEventError, match="approval of the chief"):
        admit(spec, [], Paused(at(2025, 9, 2), "整改受阻", reason_code="suspension"))
    pause = admit(spec, [], Paused(at(2025, 9, 2), "整改受阻", reason_code="suspension", approver="chief-1"))
    appraisal = admit(CLOCKS["delegated_investigation"], [], Paused(at(2025, 9, 2), "鉴定", reason_code="appraisal"))
    assert appraisal.reason_code == "appraisal"
    # 30 days suspended (Sep 2 -> Oct 2) move Oct 1 + 30 days = Oct 31, a Friday.
    state = evaluate(spec, CAL, at(2025, 9, 1), [pause, Resumed(at(2025, 10, 2))], now=at(2025, 10, 3))
    assert state.due == date(2025, 10, 31) and state.paused_days == 30
    for code in ("procedural_reply", "result_reply", "handling_opinion", "agency_reply"):
        with pytest.raises(ClockEventError, match="cannot be paused"):
            admit(CLOCKS[code], [], Paused(at(2025, 9, 2), "x", reason_code="hearing"))
    admit(CLOCKS["review_answer"], [], Paused(at(2025, 9, 2), "听证", reason_code="hearing"))


def test_a_clock_that_stops_applying_is_left_out_of_the_rate_with_its_reason() -> None:
    spec = CLOCKS["result_reply"]
    referred = evaluate(spec, CAL, at(2025, 9, 1), [NotApplicable(at(2025, 9, 3), "referred")], now=at(2025, 12, 5))
    met = evaluate(spec, CAL, at(2025, 9, 1), [Stopped(at(2025, 9, 3))], now=at(2025, 12, 5))
    assert (referred.status, referred.exemption) == ("not_applicable", "referred")
    assert compliance([referred, met]) == (1, 1, 1.0)
