"""The statutory holidays fixed by law (全国年节及纪念日放假办法), computed for any year. Pure, no I/O.

Only the statutory days follow from the law; the bridging days and make-up working days of a year come from the
State Council's yearly notice (the package, or days an office enters). Versions of the law:
- 1999 (in force to 2007): New Year 1, Spring Festival 3 (1st-3rd of the first lunar month), Labour Day 3
  (1-3 May), National Day 3;
- 2007 (2008-2013): Labour Day 1; Qingming, Dragon Boat and Mid-Autumn 1 each; Spring Festival 3 from New Year's
  Eve (除夕, 初一, 初二);
- 2013 (2014-2024): Spring Festival 3 from the 1st (初一 to 初三);
- 2024 (from 2025): Spring Festival 4 from New Year's Eve (除夕 to 初三), Labour Day 2 (1-2 May).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from modules.clocks.lunar_dates import FIRST_YEAR, LAST_YEAR, LUNAR_DATES

__all__ = ("FESTIVALS", "statutory_holidays")

# Names as the State Council's notices write them; the data file format uses the same.
FESTIVALS: tuple[str, ...] = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


def _on(year: int, month_day: int) -> date:
    return date(year, month_day // 100, month_day % 100)


def _run(first: date, days: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> dict[date, str]:
    """Every statutory holiday of a Gregorian year under the version of the law then in force, day -> festival."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return {}  # outside the lunar tables: no holiday is known, Monday to Friday stands
    spring_festival, qingming, dragon_boat, mid_autumn = LUNAR_DATES[year - FIRST_YEAR]
    new_year = _on(year, spring_festival)  # 正月初一 of the lunar year that begins in this Gregorian year
    eve = new_year - timedelta(days=1)
    out: dict[date, str] = {date(year, 1, 1): "元旦"}
    if year >= 2025:
        spring, labour = _run(eve, 4), _run(date(year, 5, 1), 2)
    elif year >= 2014:
        spring, labour = _run(new_year, 3), [date(year, 5, 1)]
    elif year >= 2008:
        spring, labour = _run(eve, 3), [date(year, 5, 1)]
    else:
        spring, labour = _run(new_year, 3), _run(date(year, 5, 1), 3)
    # New Year's Eve of the lunar year beginning in January falls in the year before: count only this year's days.
    out.update((d, "春节") for d in spring if d.year == year)
    out.update((d, "劳动节") for d in labour)
    if year >= 2008:
        out[_on(year, qingming)] = "清明节"
        out[_on(year, dragon_boat)] = "端午节"
        out[_on(year, mid_autumn)] = "中秋节"
    # National Day wins where Mid-Autumn falls on 1-3 October: the notice then names them together.
    out.update((d, "国庆节") for d in _run(date(year, 10, 1), 3))
    return dict(sorted(out.items()))
