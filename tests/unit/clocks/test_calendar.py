"""Day arithmetic against the real 2024-2026 holiday arrangements; every expected date is worked out by hand.

Arrangements used (State Council notices, checked against the package in the first test):
- 2024 Spring Festival: Feb 10-17 off.
- 2025 Spring Festival: Jan 28 (Tue) - Feb 4 (Tue) off; Sun Jan 26 and Sat Feb 8 are working days.
- 2025 Labour Day: May 1-5 off. 2025 Dragon Boat: May 31 (Sat) - Jun 2 (Mon) off.
- 2025 National Day + Mid-Autumn: Oct 1 (Wed) - Oct 8 (Wed) off; Sun Sep 28 and Sat Oct 11 are working days.
- 2026 Spring Festival: Feb 15 (Sun) - Feb 23 (Mon) off; Sat Feb 14 and Sat Feb 28 are working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from modules.clocks.calendar import PACKAGE_YEARS, WorkCalendar, local_date, shift_months

CAL = WorkCalendar()


@pytest.mark.parametrize(("day", "working"), [
    (date(2025, 9, 26), True), (date(2025, 9, 27), False), (date(2025, 9, 28), True),
    (date(2025, 10, 1), False), (date(2025, 10, 8), False), (date(2025, 10, 9), True),
    (date(2025, 10, 11), True), (date(2025, 10, 12), False),
    (date(2025, 1, 26), True), (date(2025, 1, 28), False), (date(2025, 2, 4), False), (date(2025, 2, 8), True),
    (date(2026, 2, 14), True), (date(2026, 2, 15), False), (date(2026, 2, 23), False), (date(2026, 2, 24), True),
    (date(2026, 2, 28), True),
])
def test_package_knows_the_published_arrangements(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working
    assert CAL.covers(day)


def test_package_covers_the_years_the_tests_rely_on() -> None:
    assert 2024 in PACKAGE_YEARS and 2026 in PACKAGE_YEARS


def test_seven_calendar_days_from_september_26_2025_roll_past_national_day() -> None:
    # Receipt Fri Sep 26 is not counted: day 1 = Sep 27, day 7 = Fri Oct 3, inside the Oct 1-8 holiday,
    # so the deadline is the first working day after it: Thu Oct 9.
    assert CAL.add_days(date(2025, 9, 26), 7, "calendar") == date(2025, 10, 9)


def test_seven_working_days_from_september_30_2025() -> None:
    # Oct 1-8 off. Working days: Thu Oct 9 (1), Fri Oct 10 (2), Sat Oct 11 make-up (3), [Sun Oct 12 off],
    # Mon Oct 13 (4), Tue 14 (5), Wed 15 (6), Thu Oct 16 (7).
    assert CAL.add_days(date(2025, 9, 30), 7, "working") == date(2025, 10, 16)


def test_spring_festival_2025_working_and_calendar_days() -> None:
    # From Fri Jan 24: Sun Jan 26 make-up (1), Mon Jan 27 (2), Jan 28-Feb 4 off, Wed Feb 5 (3), Thu 6 (4), Fri 7 (5),
    # Sat Feb 8 make-up (6), Mon Feb 10 (7).
    assert CAL.add_days(date(2025, 1, 24), 7, "working") == date(2025, 2, 10)
    # Jan 24 + 7 = Fri Jan 31, in the holiday -> Wed Feb 5.
    assert CAL.add_days(date(2025, 1, 24), 7, "calendar") == date(2025, 2, 5)


def test_fifteen_days_landing_in_spring_festival_2026_roll_forward() -> None:
    # Thu Feb 5 + 15 = Fri Feb 20, in the Feb 15-23 holiday -> Tue Feb 24.
    assert CAL.add_days(date(2026, 2, 5), 15, "calendar") == date(2026, 2, 24)


def test_ordinary_weekend_rolls_forward_but_a_make_up_sunday_does_not() -> None:
    # Mon Sep 1, 2025 + 5 = Sat Sep 6 -> Mon Sep 8.
    assert CAL.add_days(date(2025, 9, 1), 5, "calendar") == date(2025, 9, 8)
    # Fri Sep 26 + 2 = Sun Sep 28, a make-up working day: it stays.
    assert CAL.add_days(date(2025, 9, 26), 2, "calendar") == date(2025, 9, 28)


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),   # no Feb 31 -> last day, Fri Feb 28 (working)
    (date(2024, 1, 31), 1, date(2024, 2, 29)),   # leap year -> Thu Feb 29 (working)
    (date(2025, 8, 31), 1, date(2025, 9, 30)),   # no Sep 31 -> Tue Sep 30
    (date(2025, 11, 30), 3, date(2026, 2, 28)),  # Feb 28, 2026 is a make-up Saturday: no roll
    (date(2025, 3, 31), 2, date(2025, 6, 3)),    # Sat May 31 starts the Dragon Boat holiday (to Jun 2) -> Tue Jun 3
    (date(2025, 11, 17), 3, date(2026, 2, 24)),  # Feb 17, 2026 is in the Spring Festival holiday -> Tue Feb 24
])
def test_month_arithmetic_clamps_month_ends_and_rolls_forward(start: date, months: int, expected: date) -> None:
    assert CAL.add_months(start, months, "calendar") == expected


def test_shift_months_clamps_without_rolling() -> None:
    assert shift_months(date(2025, 3, 31), 2) == date(2025, 5, 31)
    assert shift_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert shift_months(date(2025, 11, 30), 14) == date(2027, 1, 30)


def test_days_before_an_event_roll_back_not_forward() -> None:
    # Thu Oct 9, 2025 - 3 = Oct 6, in the holiday; back past Oct 1-5 to Tue Sep 30.
    assert CAL.days_before(date(2025, 10, 9), 3, "calendar") == date(2025, 9, 30)
    # Wed Nov 12 - 3 = Sun Nov 9 -> Fri Nov 7 (rolling forward would leave only 2 days' notice).
    assert CAL.days_before(date(2025, 11, 12), 3, "calendar") == date(2025, 11, 7)
    # Thu Nov 13 - 3 = Mon Nov 10, a working day.
    assert CAL.days_before(date(2025, 11, 13), 3, "calendar") == date(2025, 11, 10)
    # Working days back from Thu Oct 9: Sep 30 (1), Sep 29 (2), Sun Sep 28 make-up (3).
    assert CAL.days_before(date(2025, 10, 9), 3, "working") == date(2025, 9, 28)


def test_count_days_is_signed_and_excludes_the_first_day() -> None:
    assert CAL.count_days(date(2025, 9, 30), date(2025, 10, 16), "working") == 7
    assert CAL.count_days(date(2025, 10, 16), date(2025, 9, 30), "working") == -7
    assert CAL.count_days(date(2025, 9, 30), date(2025, 10, 9), "calendar") == 9
    assert CAL.count_days(date(2025, 10, 3), date(2025, 10, 3), "working") == 0


def test_out_of_coverage_year_knows_its_statutory_holidays_and_says_it_is_estimated() -> None:
    assert 2099 not in PACKAGE_YEARS
    # Oct 1, 2099 is a Thursday (Oct 1, 2025 was a Wednesday; 74 years + 18 leap days = 27028 days = 3861 weeks + 1):
    # a statutory holiday by law, so a rest day even before any notice; Monday 5 Oct is a plain working day.
    oct1 = date(2099, 10, 1)
    assert not CAL.covers(oct1)
    assert CAL.is_working_day(oct1) is False
    assert CAL.is_working_day(date(2099, 10, 5)) is True
    assert CAL.is_working_day(date(2099, 10, 3)) is False  # Saturday
    assert not CAL.covers_span(date(2026, 12, 1), date(2027, 1, 5))
    assert CAL.covers_span(date(2025, 12, 1), date(2026, 1, 5))


def test_office_overrides_add_a_year_the_package_does_not_know() -> None:
    golden_week = {date(2099, 10, 1) + timedelta(days=i) for i in range(7)}
    cal = WorkCalendar(extra_holidays=golden_week, extra_workdays={date(2099, 10, 10)}, known_years={2099})
    assert cal.covers(date(2099, 10, 1)) and cal.covers_span(date(2099, 1, 1), date(2099, 12, 31))
    # Thu Sep 24 + 7 = Thu Oct 1, an office holiday through Oct 7 -> Thu Oct 8.
    assert cal.add_days(date(2099, 9, 24), 7, "calendar") == date(2099, 10, 8)
    assert cal.is_working_day(date(2099, 10, 10)) is True  # a Saturday made a working day
    # An override date is known even without declaring its whole year.
    partial = WorkCalendar(extra_holidays={date(2099, 10, 1)})
    assert partial.covers(date(2099, 10, 1)) and not partial.covers(date(2099, 10, 2))


def test_overrides_win_over_the_package() -> None:
    cal = WorkCalendar(extra_holidays={date(2025, 9, 29)})  # a Monday the office closes
    assert cal.is_working_day(date(2025, 9, 29)) is False
    assert cal.add_days(date(2025, 9, 26), 3, "calendar") == date(2025, 9, 30)


def test_a_date_cannot_be_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError, match="2025-10-04"):
        WorkCalendar(extra_holidays={date(2025, 10, 4)}, extra_workdays={date(2025, 10, 4)})


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="day type"):
        CAL.add_days(date(2025, 9, 1), 7, "work")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        CAL.add_days(date(2025, 9, 1), -1, "calendar")
    with pytest.raises(ValueError, match="no working day"):
        WorkCalendar(extra_holidays={date(2099, 1, 1) + timedelta(days=i) for i in range(400)}).roll_forward(
            date(2099, 1, 1))


def test_local_date_is_the_shanghai_date_and_needs_a_timezone() -> None:
    # 17:30 UTC on Sep 25 is 01:30 on Sep 26 in Shanghai.
    assert local_date(datetime(2025, 9, 25, 17, 30, tzinfo=UTC)) == date(2025, 9, 26)
    with pytest.raises(ValueError, match="no timezone"):
        local_date(datetime(2025, 9, 25, 17, 30))
