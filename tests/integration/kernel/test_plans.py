"""Hot statements keep one generic plan: the values of one run must not make a plan of their own look cheaper."""

from __future__ import annotations

import pytest

from modules.complaints.service import _INSERT_ITEM
from modules.litigation.service import _DUPLICATES

# PostgreSQL plans a prepared statement afresh for its first five runs and then keeps a generic plan, unless the
# fresh plans were cheaper. A value the planner can see (a null that folds a branch away, a frequent value that
# makes a LIMIT look cheap) makes them cheaper, and the statement is planned again on every run: complaint intake
# spent as long planning as executing on a grown database. With every such value behind api.db.opaque, a plan made
# with the values in sight costs exactly what the generic one does, whatever the data.
HOT = {"complaint intake": _INSERT_ITEM, "clue duplicate search": _DUPLICATES}


async def _cost(conn, sql: str, mode: str) -> float:  # noqa: ANN001
    # A statement prepared in SQL, so EXPLAIN EXECUTE shows the plan the plan cache would run; every argument null
    # (a filing with no phone and no place). EXPLAIN plans, never runs.
    params = len((await conn.prepare(sql)).get_parameters())
    await conn.execute(f"prepare hot as {sql}")
    await conn.execute(f"set plan_cache_mode = {mode}")
    try:
        plan = await conn.fetchval(f"explain (format json) execute hot({', '.join(['null'] * params)})")
    finally:
        await conn.execute("reset plan_cache_mode; deallocate hot")
    return plan[0]["Plan"]["Total Cost"]


@pytest.mark.parametrize("name", HOT)
async def test_values_do_not_make_a_cheaper_plan(conn, name: str) -> None:  # noqa: ANN001
    assert await _cost(conn, HOT[name], "force_custom_plan") == await _cost(conn, HOT[name], "force_generic_plan")
