"""Clock states from a start and recorded events; expected dates are worked out by hand in the comments.

Weekdays used: Sep 1, 2025 is a Monday; Oct 1-8, 2025 is the National Day holiday (Sun Sep 28 and Sat Oct 11
are working days); Mar 3, 2025 is a Monday; May 1-5 and May 31-Jun 2, 2025 are holidays.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
import pytest

from modules.clocks.calendar import SHANGHAI, WorkCalendar
from modules.clocks.engine import (
    ClockEvent,
    ClockEventError,
    ClockState,
    Exempted,
    Extended,
    ExtensionLimitError,
    Paused,
    Resumed,
    Stopped,
    compliance,
    evaluate,
)
from modules.clocks.rules import CLOCKS, Period, resolve

CAL = WorkCalendar()


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def run(code: str, start: datetime, events: list[ClockEvent], now: datetime, **kw: object) -> ClockState:
    return evaluate(CLOCKS[code], CAL, start, events, now=now, **kw)  # type: ignore[arg-type]


def test_procedural_reply_received_before_national_day() -> None:
    # Receipt Fri Sep 26: day 7 = Oct 3, in the holiday -> Thu Oct 9. Now Oct 5: 4 calendar days left.
    state = run("procedural_reply", at(2025, 9, 26), [], at(2025, 10, 5))
    assert (state.status, state.due, state.days_remaining, state.calendar_estimated) == (
        "running", date(2025, 10, 9), 4, False)


def test_receipt_day_is_the_shanghai_date() -> None:
    # 17:30 UTC on Sep 25 is 01:30 on Sep 26 in Shanghai: same deadline as a receipt on Sep 26.
    start = datetime.fromisoformat("2025-09-25T17:30:00+00:00")
    assert run("procedural_reply", start, [], at(2025, 9, 27)).due == date(2025, 10, 9)


def test_deadline_is_the_end_of_the_due_day() -> None:
    # Receipt Mon Sep 1 -> due Mon Sep 8.
    on_time = run("procedural_reply", at(2025, 9, 1), [Stopped(at(2025, 9, 8, 23, 59, 59))], at(2025, 9, 9))
    late = run("procedural_reply", at(2025, 9, 1), [Stopped(at(2025, 9, 9, 0, 0))], at(2025, 9, 9))
    assert (on_time.status, on_time.days_remaining) == ("met", 0)
    assert (late.status, late.days_remaining) == ("met_late", -1)
    assert late.finished_at == at(2025, 9, 9, 0, 0)


def test_overdue_days_remaining_are_negative() -> None:
    # Due Mon Sep 8; on Thu Sep 11 it is 3 calendar days late.
    state = run("procedural_reply", at(2025, 9, 1), [], at(2025, 9, 11))
    assert (state.status, state.days_remaining, state.warning) == ("overdue", -3, None)


def test_overdue_working_day_clock_counts_working_days() -> None:
    # 5 working days from Mon Sep 1: Sep 2, 3, 4, 5, Mon Sep 8. On Sat Sep 13 the working days past due are
    # Sep 9, 10, 11, 12 -> -4.
    state = run("wrong_route_objection", at(2025, 9, 1), [], at(2025, 9, 13))
    assert (state.due, state.status, state.days_remaining) == (date(2025, 9, 8), "overdue", -4)
    # From Fri Aug 29: Sep 1, 2, 3, 4, Fri Sep 5. On Sat Sep 6 no working day has passed, but it is late: -1.
    state = run("wrong_route_objection", at(2025, 8, 29), [], at(2025, 9, 6))
    assert (state.due, state.status, state.days_remaining) == (date(2025, 9, 5), "overdue", -1)


@pytest.mark.parametrize(("now", "remaining", "warning"), [
    (at(2025, 9, 4), 4, None), (at(2025, 9, 5), 3, 3), (at(2025, 9, 6), 2, 3), (at(2025, 9, 7), 1, 1),
    (at(2025, 9, 8, 23), 0, 1),
])
def test_warning_is_the_smallest_lead_time_reached(now: datetime, remaining: int, warning: int | None) -> None:
    # procedural_reply warns at 3 and 1 days; due Mon Sep 8.
    state = run("procedural_reply", at(2025, 9, 1), [], now)
    assert (state.status, state.days_remaining, state.warning) == ("running", remaining, warning)


def test_office_lead_days_override_changes_the_warning() -> None:
    spec = resolve(CLOCKS["procedural_reply"], {"lead_days": [5, 2]})
    assert evaluate(spec, CAL, at(2025, 9, 1), [], now=at(2025, 9, 4)).warning == 5


def test_office_override_to_working_days() -> None:
    # Receipt Tue Sep 30: 7 calendar days -> Oct 7, in the holiday -> Oct 9; 7 working days -> Oct 16 (see
    # test_calendar: Oct 9, 10, Sat 11, 13, 14, 15, 16).
    working = resolve(CLOCKS["procedural_reply"], {"day_type": "working"})
    assert run("procedural_reply", at(2025, 9, 30), [], at(2025, 9, 30)).due == date(2025, 10, 9)
    state = evaluate(working, CAL, at(2025, 9, 30), [], now=at(2025, 10, 9))
    # Remaining on Oct 9, in working days: Oct 10, Sat 11, 13, 14, 15, 16 = 6.
    assert (state.due, state.days_remaining) == (date(2025, 10, 16), 6)


def test_pause_shifts_the_due_date_by_the_paused_days() -> None:
    # Receipt Mon Sep 1 -> due Mon Sep 8. Paused Wed Sep 3, resumed Sat Sep 6: 3 days (4, 5, 6) -> Thu Sep 11.
    events: list[ClockEvent] = [Paused(at(2025, 9, 3, 9), "materials missing"), Resumed(at(2025, 9, 6))]
    state = run("procedural_reply", at(2025, 9, 1), events, at(2025, 9, 9))
    assert (state.due, state.paused_days, state.status) == (date(2025, 9, 11), 3, "running")


def test_pause_and_resume_on_the_same_day_shift_nothing() -> None:
    events: list[ClockEvent] = [Paused(at(2025, 9, 3, 9), "call back"), Resumed(at(2025, 9, 3, 17))]
    state = run("procedural_reply", at(2025, 9, 1), events, at(2025, 9, 4))
    assert (state.due, state.paused_days) == (date(2025, 9, 8), 0)


def test_working_day_clock_pauses_in_working_days() -> None:
    # Due Mon Sep 8 (5 working days from Sep 1). Paused Fri Sep 5, resumed Mon Sep 8: one working day (Sep 8)
    # -> 6 working days -> Tue Sep 9.
    events: list[ClockEvent] = [Paused(at(2025, 9, 5), "asked the other organ"), Resumed(at(2025, 9, 8))]
    state = run("wrong_route_objection", at(2025, 9, 1), events, at(2025, 9, 8))
    assert (state.due, state.paused_days) == (date(2025, 9, 9), 1)


def test_pause_on_a_month_clock_rolls_only_the_final_day() -> None:
    # Receipt Fri Jun 6, 2025 + 3 months = Sat Sep 6 -> Mon Sep 8. A one-day pause (Jun 10 -> Jun 11) makes the
    # period end Sun Sep 7, which still rolls to Mon Sep 8: only the last day moves off a rest day.
    events: list[ClockEvent] = [Paused(at(2025, 6, 10), "materials missing"), Resumed(at(2025, 6, 11))]
    assert run("result_reply", at(2025, 6, 6), [], at(2025, 6, 7)).due == date(2025, 9, 8)
    assert run("result_reply", at(2025, 6, 6), events, at(2025, 6, 12)).due == date(2025, 9, 8)
    # Counted in working days, the months end on Mon Sep 8 and one paused working day (Wed Jun 11) adds Tue Sep 9.
    working = resolve(CLOCKS["result_reply"], {"day_type": "working"})
    assert evaluate(working, CAL, at(2025, 6, 6), events, now=at(2025, 6, 12)).due == date(2025, 9, 9)


def test_open_pause_keeps_days_remaining_still() -> None:
    # Paused Wed Sep 3 with 5 days left (to Sep 8). On Wed Sep 10 still paused: 7 paused days -> due Mon Sep 15,
    # still 5 days left.
    state = run("procedural_reply", at(2025, 9, 1), [Paused(at(2025, 9, 3), "materials missing")], at(2025, 9, 10))
    assert (state.status, state.due, state.days_remaining, state.warning) == ("paused", date(2025, 9, 15), 5, None)


def test_stop_during_a_pause_ends_the_pause() -> None:
    events: list[ClockEvent] = [Paused(at(2025, 9, 3), "materials missing"), Stopped(at(2025, 9, 12))]
    state = run("procedural_reply", at(2025, 9, 1), events, at(2025, 9, 20))
    # Paused 9 days (Sep 4-12): due Sep 17, met with 5 days to spare.
    assert (state.status, state.due, state.days_remaining) == ("met", date(2025, 9, 17), 5)


def test_extension_within_the_limit() -> None:
    # Receipt Mon Mar 3, 2025: +60 = Fri May 2, in the May 1-5 holiday -> Tue May 6.
    assert run("handling_opinion", at(2025, 3, 3), [], at(2025, 3, 4)).due == date(2025, 5, 6)
    # +30 more: Mar 3 + 90 = Sun Jun 1 (Mar 31 = 28, Apr 30 = 58, May 31 = 89), in the Dragon Boat holiday
    # (May 31 - Jun 2) -> Tue Jun 3.
    ext = Extended(at(2025, 4, 30), 30, "days", "needs expert opinion", "chief-1")
    state = run("handling_opinion", at(2025, 3, 3), [ext], at(2025, 5, 7))
    assert (state.due, state.status, state.extension) == (date(2025, 6, 3), "running", Period(30))


def test_extensions_beyond_the_maximum_are_rejected() -> None:
    events: list[ClockEvent] = [Extended(at(2025, 4, 1), 20, "days", "a", "chief-1"),
                                Extended(at(2025, 4, 2), 15, "days", "b", "chief-1")]
    with pytest.raises(ExtensionLimitError, match="would make 35, over the maximum of 30 days"):
        run("handling_opinion", at(2025, 3, 3), events, at(2025, 4, 3))


@pytest.mark.parametrize(("code", "event", "message"), [
    ("procedural_reply", Extended(at(2025, 9, 2), 3, "days", "r", "chief-1"), "cannot be extended"),
    ("handling_opinion", Extended(at(2025, 9, 2), 1, "months", "r", "chief-1"), "extended in days"),
    ("handling_opinion", Extended(at(2025, 9, 2), 0, "days", "r", "chief-1"), "positive"),
    # Due Oct 31 (Sep 1 + 60); an extension decided on Nov 3 comes too late.
    ("handling_opinion", Extended(at(2025, 11, 3), 10, "days", "r", "chief-1"), "after the deadline"),
])
def test_bad_extensions(code: str, event: Extended, message: str) -> None:
    with pytest.raises(ClockEventError, match=message):
        run(code, at(2025, 9, 1), [event], at(2025, 11, 20))


def test_month_clock_extension_sums_months() -> None:
    # Jan 31, 2025 + 1 month + 1 month = Jan 31 + 2 months = Mon Mar 31 (not Feb 28 + 1 month = Mar 28).
    ext = Extended(at(2025, 2, 20), 1, "months", "rectification blocked", "chief-1")
    state = run("rectification_review", at(2025, 1, 31), [ext], at(2025, 3, 1))
    assert state.due == date(2025, 3, 31)
    # Beyond the chief's month only the office above extends, up to the rule's maximum (7 months in all).
    with pytest.raises(ExtensionLimitError):
        run("rectification_review", at(2025, 1, 31), [ext, Extended(at(2025, 3, 3), 7, "months", "x", "c")],
            at(2025, 3, 4))


def test_exempt_clock_is_left_out_of_compliance() -> None:
    start = at(2025, 9, 1)  # due Mon Sep 8
    now = at(2025, 9, 20)
    met = run("procedural_reply", start, [Stopped(at(2025, 9, 5))], now)
    late = run("procedural_reply", start, [Stopped(at(2025, 9, 10))], now)
    overdue = run("procedural_reply", start, [], now)
    exempt = run("procedural_reply", start, [Exempted(at(2025, 9, 2), "anonymous")], now)
    running = run("procedural_reply", at(2025, 9, 18), [], now)
    assert [s.status for s in (met, late, overdue, exempt, running)] == [
        "met", "met_late", "overdue", "exempt", "running"]
    assert exempt.exemption == "anonymous" and exempt.warning is None
    # 1 met on time out of 3 that fell due; counting the exempt one would give 1/4.
    met_on_time, due, rate = compliance([met, late, overdue, exempt, running])
    assert (met_on_time, due) == (1, 3) and rate == pytest.approx(1 / 3)
    assert compliance([exempt, running]) == (0, 0, None)


@pytest.mark.parametrize(("code", "reason", "message"), [
    ("handling_opinion", "anonymous", "cannot be exempted"),
    ("procedural_reply", "too_busy", "unknown exemption reason 'too_busy'"),
])
def test_bad_exemptions(code: str, reason: str, message: str) -> None:
    with pytest.raises(ClockEventError, match=message):
        run(code, at(2025, 9, 1), [Exempted(at(2025, 9, 2), reason)], at(2025, 9, 3))


@pytest.mark.parametrize(("events", "message"), [
    ([Resumed(at(2025, 9, 2))], "resumed without a pause"),
    ([Paused(at(2025, 9, 2), "a"), Paused(at(2025, 9, 3), "b")], "paused again"),
    ([Stopped(at(2025, 9, 2)), Resumed(at(2025, 9, 3))], "after the clock finished"),
    ([Exempted(at(2025, 9, 2), "contact_missing"), Stopped(at(2025, 9, 3))], "after the clock finished"),
    ([Paused(at(2025, 9, 3), "a"), Resumed(at(2025, 9, 2))], "out of order"),
    ([Stopped(at(2025, 8, 31))], "out of order"),
    ([Stopped(at(2025, 9, 30))], "in the future"),
    ([Paused(at(2025, 9, 10), "too late")], "after the deadline"),  # due Sep 8
])
def test_impossible_events_are_rejected(events: list[ClockEvent], message: str) -> None:
    with pytest.raises(ClockEventError, match=message):
        run("procedural_reply", at(2025, 9, 1), events, at(2025, 9, 20))


def test_hearing_notice_is_due_before_the_event() -> None:
    # Hearing Thu Oct 9, 2025: 3 days before = Oct 6, in the holiday; rolled back past Oct 1-5 to Tue Sep 30.
    hearing = at(2025, 10, 9, 9)
    sent = run("hearing_invitation_notice", at(2025, 9, 25), [Stopped(at(2025, 9, 29))], at(2025, 10, 2),
               event_at=hearing)
    assert (sent.due, sent.status, sent.days_remaining) == (date(2025, 9, 30), "met", 1)
    unsent = run("hearing_invitation_notice", at(2025, 9, 25), [], at(2025, 10, 1), event_at=hearing)
    assert (unsent.status, unsent.days_remaining) == ("overdue", -1)
    # Scheduled on Oct 8 for Oct 9: the clock is born late.
    assert run("hearing_invitation_notice", at(2025, 10, 8), [], at(2025, 10, 8), event_at=hearing).status == "overdue"


def test_hearing_notice_needs_the_event_and_cannot_pause() -> None:
    with pytest.raises(ClockEventError, match="needs event_at"):
        run("hearing_invitation_notice", at(2025, 9, 25), [], at(2025, 9, 26))
    with pytest.raises(ClockEventError, match="cannot pause"):
        run("hearing_invitation_notice", at(2025, 9, 25), [Paused(at(2025, 9, 26), "x")], at(2025, 9, 27),
            event_at=at(2025, 10, 9))
    with pytest.raises(ClockEventError, match="takes no event_at"):
        run("procedural_reply", at(2025, 9, 25), [], at(2025, 9, 26), event_at=at(2025, 10, 9))


def test_monthly_followup_occurrences_are_anchored_on_receipt() -> None:
    # Receipt Nov 30, 2025. Follow-ups fall due 4, 5, 6 months after receipt: Mon Mar 30, 2026; Thu Apr 30;
    # May 30 is a Saturday -> Mon Jun 1. Anchoring on receipt keeps the 30th (chaining would drift to Feb 28 -> 28th).
    first = run("followup_reply", at(2025, 11, 30), [], at(2025, 12, 1))
    second = run("followup_reply", at(2025, 11, 30), [], at(2026, 4, 1), occurrence=2)
    assert (first.due, first.next_due, first.occurrence) == (date(2026, 3, 30), date(2026, 4, 30), 1)
    assert (second.due, second.next_due) == (date(2026, 4, 30), date(2026, 6, 1))
    # A clock started again (a transfer, a reopening) runs a full period from its own start.
    again = run("result_reply", at(2025, 11, 30), [], at(2025, 12, 1), occurrence=2)
    assert (again.due, again.occurrence) == (date(2026, 2, 28), 2)  # a make-up working Saturday
    with pytest.raises(ClockEventError, match="occurrence 0"):
        run("procedural_reply", at(2025, 11, 30), [], at(2025, 12, 1), occurrence=0)


def test_out_of_coverage_year_is_flagged_as_estimated() -> None:
    # Thu Sep 24, 2099 + 7 = Thu Oct 1: the package knows nothing of 2099, but the law makes 1-3 October rest days,
    # so the period ends on Monday 5 October, flagged as an estimate (the notice may add bridging days).
    state = run("procedural_reply", at(2099, 9, 24), [], at(2099, 9, 25))
    assert (state.due, state.calendar_estimated) == (date(2099, 10, 5), True)
    # The case: received 2026-12-25, the 7-day reply is not due on New Year's Day 2027 (a Friday).
    state = run("procedural_reply", at(2026, 12, 25), [], at(2026, 12, 26))
    assert (state.due, state.calendar_estimated) == (date(2027, 1, 4), True)
    # A clock that merely runs into an unknown year is estimated too.
    assert run("result_reply", at(2026, 12, 20), [], at(2026, 12, 21)).calendar_estimated is True
    office = WorkCalendar(extra_holidays={date(2099, 10, d) for d in range(1, 8)}, known_years={2099})
    state = evaluate(CLOCKS["procedural_reply"], office, at(2099, 9, 24), [], now=at(2099, 9, 25))
    assert (state.due, state.calendar_estimated) == (date(2099, 10, 8), False)


def test_events_round_trip_through_json() -> None:
    events: list[ClockEvent] = [Paused(at(2025, 9, 3), "materials missing"), Resumed(at(2025, 9, 6)),
                                Extended(at(2025, 9, 7), 10, "days", "r", "chief-1"), Stopped(at(2025, 9, 9))]
    raw = msgspec.json.encode(events)
    assert b'"kind":"paused"' in raw
    assert msgspec.json.decode(raw, type=list[ClockEvent]) == events


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        run("procedural_reply", datetime(2025, 9, 1, 10), [], at(2025, 9, 2))
