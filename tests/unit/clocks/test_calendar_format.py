"""The data file format's documented example is what the package gives, and it reads back as it was written."""

from __future__ import annotations

from pathlib import Path

from modules.clocks.calendars import package_year, parse_year_file, to_csv, validate_year

DOC = Path(__file__).resolve().parents[3] / "docs" / "calendar-format.md"


def test_the_documented_2026_example_is_generated_from_the_package() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- calendar-2026:start -->")[1].split("<!-- calendar-2026:end -->")[0]
    assert block.strip().strip("`").strip() == to_csv(package_year(2026)).strip()


def test_a_package_year_round_trips_through_csv_and_passes_the_national_checks() -> None:
    year = package_year(2026)
    again = parse_year_file(to_csv(year), filename="2026.csv", notice=year.notice, complete=True)
    assert again == year
    assert validate_year(again, "national") == []
