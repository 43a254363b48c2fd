"""The README stays current: it opens with the two commands and documents every setting."""

from __future__ import annotations

from pathlib import Path

from api.settings import settings_table

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


def test_every_setting_is_documented() -> None:
    missing = [name for name, _, _ in settings_table() if f"`{name}`" not in README]
    assert missing == []
