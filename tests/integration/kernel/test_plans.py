"""Hot statements keep one generic plan: the values of one run must not make a plan of their own look cheaper."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from api.pagination import Cursor, keyset
from modules.complaints.queries import _LIST_SELECT
from modules.complaints.service import _INSERT_ITEM
from modules.litigation.service import _DUPLICATES
from tests.helpers import explain_prepared

# A plan made with a run's values in sight that costs less than the generic plan (a null folding a branch away)
# makes PostgreSQL plan the statement again on every run (api.db.opaque): on a grown database complaint intake spent
# about 0.3 ms of its 0.7 planning; a list page with `limit $n` was planned again on every page (api.pagination.Keyset).
# With every such value opaque, both plans cost the same, whatever the data.


def _office_page(after: Cursor | None) -> str:
    q = keyset("c.created_at", "c.id")
    q.owner("c.office_id", uuid.uuid4())
    return q.sql(_LIST_SELECT, after, 50)[0]


HOT = {"complaint intake": _INSERT_ITEM, "clue duplicate search": _DUPLICATES,
       "an office's list, first page": _office_page(None),
       "an office's list, next page": _office_page(Cursor(datetime.now(UTC), uuid.uuid4()))}


async def _cost(conn, sql: str, mode: str) -> float:  # noqa: ANN001
    # Every argument null (a filing with no phone and no place); EXPLAIN plans, never runs.
    params = len((await conn.prepare(sql)).get_parameters())
    return (await explain_prepared(conn, sql, [None] * params, {"plan_cache_mode": mode}))["Total Cost"]


@pytest.mark.parametrize("name", HOT)
async def test_values_do_not_make_a_cheaper_plan(conn, name: str) -> None:  # noqa: ANN001
    assert await _cost(conn, HOT[name], "force_custom_plan") == await _cost(conn, HOT[name], "force_generic_plan")
