"""The statutory holidays computed from the law agree with chinesecalendar for every year it publishes."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from modules.clocks.calendar import PACKAGE_YEARS
from modules.clocks.statutory import FESTIVALS, statutory_holidays

_PACKAGE_NAMES = {
    "元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Tomb-sweeping Day", "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival", "中秋节": "Mid-autumn Festival", "国庆节": "National Day",
}


def _law(year: int) -> dict[str, int]:
    """How many statutory days the version of the law in force that year gives each festival."""
    if year <= 2007:
        return {"元旦": 1, "春节": 3, "劳动节": 3, "国庆节": 3}
    lunar = {"清明节": 1, "端午节": 1, "中秋节": 1, "国庆节": 3, "元旦": 1}
    if year <= 2024:
        return {**lunar, "春节": 3, "劳动节": 1}
    return {**lunar, "春节": 4, "劳动节": 2}


@pytest.mark.parametrize("year", list(PACKAGE_YEARS))
def test_every_statutory_day_is_a_rest_day_of_that_festival_in_the_package(year: int) -> None:
    days = statutory_holidays(year)
    assert days and all(d.year == year for d in days)
    for day, festival in days.items():
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        assert is_holiday, f"{day} ({festival}) is a working day in the package"
        # A statutory day on a weekend may carry no name in the package; Mid-Autumn can fall in National Day.
        if name is not None:
            assert name in (_PACKAGE_NAMES[festival], _PACKAGE_NAMES["中秋节"]), (day, festival, name)


@pytest.mark.parametrize("year", list(PACKAGE_YEARS))
def test_each_festival_of_the_package_year_has_its_statutory_days(year: int) -> None:
    # The lunar festivals move: a wrong lunar conversion would put the statutory day outside the package's break.
    by_festival: dict[str, int] = {}
    for festival in statutory_holidays(year).values():
        by_festival[festival] = by_festival.get(festival, 0) + 1
    for festival, count in _law(year).items():
        if festival == "中秋节" and by_festival.get(festival) is None:
            continue  # Mid-Autumn on 1-3 October is counted as National Day
        assert by_festival.get(festival) == count, (year, festival, by_festival)


def test_the_2024_revision_adds_new_years_eve_and_a_second_labour_day() -> None:
    assert date(2024, 2, 9) not in statutory_holidays(2024)  # 除夕 2024 was a working day
    assert [d for d, f in statutory_holidays(2025).items() if f == "春节"] == [
        date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31)]
    assert date(2025, 5, 2) in statutory_holidays(2025)


def test_2027_is_known_before_any_notice() -> None:
    # The dates the legal review listed as statutory holidays on weekdays in 2027.
    days = statutory_holidays(2027)
    for d in (date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5), date(2027, 6, 9),
              date(2027, 9, 15), date(2027, 10, 1)):
        assert d in days
    assert set(days.values()) == set(FESTIVALS)
    assert len(days) == 13
