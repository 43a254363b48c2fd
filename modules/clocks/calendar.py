"""Working days and deadline day arithmetic, in Asia/Shanghai dates.

Counting rules (民法典 第二百零一至二百零三条; the procedure laws say the same):
- the day of receipt is not counted: day 1 is the next day;
- working-day periods count only working days, so they always end on one;
- a calendar-day or month period whose last day is a rest day ends on the first working day after it
  (期间届满的最后一日是节假日的，以节假日后的第一日为期间届满的日期);
- a month period ends on the same day of the month, or on the month's last day when there is no such day
  (Jan 31 + 1 month = Feb 28/29).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import functools
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Literal

import chinese_calendar
from chinese_calendar import constants as _cc

from modules.clocks.statutory import statutory_holidays

__all__ = ("DAY_TYPES", "PACKAGE_YEARS", "SHANGHAI", "DayType", "WorkCalendar", "local_date", "shift_months")

DayType = Literal["calendar", "working"]
DAY_TYPES: tuple[DayType, ...] = ("calendar", "working")

# China has had no DST since 1991, so a fixed offset is exact and needs no tz database on the server.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

# The years the installed chinesecalendar release publishes holiday arrangements for; it raises outside them.
PACKAGE_YEARS = range(min(_cc.holidays).year, max(_cc.holidays).year + 1)

# The longest real run of rest days is 9 (Spring Festival 2026); a year of them means broken override data.
_MAX_REST_RUN = 366


def local_date(at: datetime) -> date:
    """The Asia/Shanghai calendar date of a timezone-aware instant."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"instant {at.isoformat()} has no timezone; deadlines need an absolute time")
    return at.astimezone(SHANGHAI).date()


def shift_months(start: date, n: int) -> date:
    """The same day n months later (or earlier), clamped to the last day of a shorter month; no roll-forward."""
    month_index = start.year * 12 + start.month - 1 + n
    year, month = divmod(month_index, 12)
    last = _stdlib_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


@functools.lru_cache(maxsize=8192)
def _package_workday(d: date) -> bool:
    # The package's tables never change while we run, and each look-up validates the date first: a clock view
    # counts working days one by one over months, so the answers are kept (a few years of days at most).
    return bool(chinese_calendar.is_workday(d))


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Working days: entered calendar days, then chinesecalendar for the years it knows, then the statutory
    holidays computed from the law plus Monday to Friday (an estimate: the notice's bridging days are unknown)."""

    extra_holidays: AbstractSet[date] = field(default_factory=frozenset)
    extra_workdays: AbstractSet[date] = field(default_factory=frozenset)
    # Years the office has entered completely (holidays and make-up days), so its answers are not estimates.
    known_years: AbstractSet[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # Frozen copies: callers hand in plain sets from config, and a calendar must not change under a clock.
        for name in ("extra_holidays", "extra_workdays", "known_years"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        clash = self.extra_holidays & self.extra_workdays
        if clash:
            days = ", ".join(sorted(d.isoformat() for d in clash))
            raise ValueError(f"dates listed both as extra holiday and extra workday: {days}")

    def covers(self, d: date) -> bool:
        """Whether is_working_day(d) is known rather than estimated as Monday to Friday."""
        return (d in self.extra_holidays or d in self.extra_workdays
                or d.year in PACKAGE_YEARS or d.year in self.known_years)

    def covers_span(self, first: date, last: date) -> bool:
        """Whether every day from first to last (inclusive, either order) is covered."""
        lo, hi = min(first, last), max(first, last)
        for year in range(lo.year, hi.year + 1):
            if year in PACKAGE_YEARS or year in self.known_years:
                continue
            day = max(lo, date(year, 1, 1))
            end = min(hi, date(year, 12, 31))
            while day <= end:
                if not self.covers(day):
                    return False
                day += timedelta(days=1)
        return True

    def is_working_day(self, d: date) -> bool:
        """Whether d is a working day: office overrides, then the statutory calendar, else Monday to Friday."""
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        if d.year in PACKAGE_YEARS:
            return _package_workday(d)
        return d.weekday() < 5 and d not in statutory_holidays(d.year)

    def roll_forward(self, d: date) -> date:
        """d if it is a working day, else the first working day after it."""
        return self._step_to_working(d, 1)

    def roll_back(self, d: date) -> date:
        """d if it is a working day, else the last working day before it."""
        return self._step_to_working(d, -1)

    def add_days(self, start: date, n: int, day_type: DayType) -> date:
        """The last day of an n-day period beginning the day after start, rolled forward off a rest day."""
        _check_count(n)
        _check_day_type(day_type)
        if day_type == "calendar":
            return self.roll_forward(start + timedelta(days=n))
        return self._step_working_days(start, n, 1)

    def add_months(self, start: date, n: int, day_type: DayType) -> date:
        """The last day of an n-month period from start (month-end clamped), rolled forward off a rest day."""
        _check_count(n)
        _check_day_type(day_type)
        # Months are calendar months whatever the day type; the day type only decides how days are counted.
        return self.roll_forward(shift_months(start, n))

    def days_before(self, event: date, n: int, day_type: DayType) -> date:
        """The latest day that is still n days before event (event day not counted), rolled back off a rest day."""
        _check_count(n)
        _check_day_type(day_type)
        if day_type == "calendar":
            # Rolling back, not forward: moving later would leave less notice than the minimum.
            return self.roll_back(event - timedelta(days=n))
        return self._step_working_days(event, n, -1)

    def months_before(self, event: date, n: int, day_type: DayType) -> date:
        """The latest day that is still n months before event, rolled back off a rest day."""
        _check_count(n)
        _check_day_type(day_type)
        return self.roll_back(shift_months(event, -n))

    def count_days(self, a: date, b: date, day_type: DayType) -> int:
        """Days of day_type in (a, b]; negative, counting (b, a], when b is before a."""
        _check_day_type(day_type)
        if b < a:
            return -self.count_days(b, a, day_type)
        if day_type == "calendar":
            return (b - a).days
        count, day = 0, a
        while day < b:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def _step_working_days(self, start: date, n: int, direction: int) -> date:
        day, left, rest_run = start, n, 0
        while left:
            day += timedelta(days=direction)
            if self.is_working_day(day):
                left, rest_run = left - 1, 0
            else:
                rest_run = _guard_rest_run(rest_run + 1, day)
        return day

    def _step_to_working(self, d: date, direction: int) -> date:
        rest_run = 0
        while not self.is_working_day(d):
            rest_run = _guard_rest_run(rest_run + 1, d)
            d += timedelta(days=direction)
        return d


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"a period length must be a whole number >= 0, got {n!r}")


def _check_day_type(day_type: str) -> None:
    if day_type not in DAY_TYPES:
        raise ValueError(f"day type must be one of {', '.join(DAY_TYPES)}, got {day_type!r}")


def _guard_rest_run(run: int, d: date) -> int:
    if run > _MAX_REST_RUN:
        raise ValueError(f"no working day within {_MAX_REST_RUN} days of {d.isoformat()}; check the holiday overrides")
    return run
