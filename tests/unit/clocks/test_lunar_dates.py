"""The table of lunar festivals and Qingming agrees, year by year, with lunar-python's astronomical tables."""

from __future__ import annotations

from lunar_python import Lunar, Solar

from modules.clocks.lunar_dates import FIRST_YEAR, LAST_YEAR, LUNAR_DATES


def _month_day(solar: Solar) -> int:
    return solar.getMonth() * 100 + solar.getDay()


def _from_library(year: int) -> tuple[int, int, int, int]:
    qingming = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()["清明"]
    return (_month_day(Lunar.fromYmd(year, 1, 1).getSolar()), _month_day(qingming),
            _month_day(Lunar.fromYmd(year, 5, 5).getSolar()), _month_day(Lunar.fromYmd(year, 8, 15).getSolar()))


def test_every_row_is_the_library_s_dates() -> None:
    expected = tuple(_from_library(year) for year in range(FIRST_YEAR, LAST_YEAR + 1))
    wrong = [(FIRST_YEAR + i, row, want) for i, (row, want) in enumerate(zip(LUNAR_DATES, expected, strict=False))
             if row != want]
    assert len(LUNAR_DATES) == len(expected) and not wrong, (
        f"rows that differ (year, table, library): {wrong[:5]}; the whole table as it should read: {expected}")


def test_known_dates() -> None:
    # 2027, the first year past the holiday package: Spring Festival on 6 February, Qingming 5 April, Dragon Boat
    # 9 June, Mid-Autumn 15 September.
    assert LUNAR_DATES[2027 - FIRST_YEAR] == (206, 405, 609, 915)
