"""The permission table in the README and docs/reference.md say what the code and the national list say.
Run with UPDATE_DOCS=1 to rewrite them after changing a catalogue."""

from __future__ import annotations

import os
from pathlib import Path

from api.reference import README_BEGIN, README_END, module_reference, permission_table

ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("UPDATE_DOCS") == "1"


def _check(path: Path, expected: str) -> None:
    if UPDATE:
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, f"{path.name} is stale: rerun this test with UPDATE_DOCS=1"


async def test_readme_permission_table_is_the_national_default_list(app, conn) -> None:  # noqa: ANN001
    grants = [(r["role"], r["action"]) for r in await conn.fetch(
        "select role, action from permission_grants where province = '*' and office_id is null")]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head, rest = readme.split(README_BEGIN + "\n", 1)
    _, tail = rest.split(README_END, 1)
    _check(ROOT / "README.md", f"{head}{README_BEGIN}\n{permission_table(grants)}{README_END}{tail}")


def test_module_reference_is_current(app) -> None:  # noqa: ANN001
    _check(ROOT / "docs" / "reference.md", module_reference())
