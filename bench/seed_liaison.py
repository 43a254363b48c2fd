"""Generated liaison data for the suggestion benchmarks: one office holding N deputies' suggestions (from 1,000
representatives on its register, each with its 3-month reply clock), straight in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.seed import first_page_sql, office_cte, seed_once

if TYPE_CHECKING:
    import asyncpg

__all__ = ("prepare_liaison", "seed_liaison_office", "suggestion_list_sql")

REPRESENTATIVES = 1000

# States: submitted, replied and closed a fifth each, assigned two fifths (none converted). The reply clock is
# stored as the sweep leaves it: met for the answered ones (replied, closed; answered a month in, or now for the
# newest), overdue for the open ones past their 3 months.
_SQL = office_cte("liaison") + f""", reps as (
    insert into liaison_representatives (office_id, kind, level, name, delegation, post)
    select o.id, 'deputy', 'district', '压测代表' || g, '压测代表团', '压测职务'
    from generate_series(1, {REPRESENTATIVES}) g, office o
    returning id
), register as (
    select array_agg(id) as ids from reps
), items as (
    insert into liaison_suggestions (office_id, number, representative_id, channel, title, body, state, department,
                                     reply, created_at, updated_at, closed_at)
    select o.id, $1 || '-JY-' || g, r.ids[1 + g % {REPRESENTATIVES}],
           (array['app', 'session', 'visit', 'letter'])[1 + g % 4],
           '压测建议' || g || (array['加强河道治理', '规范涉企收费', '整治噪音扰民', '保障农民工工资'])[1 + g % 4],
           '生成的压测数据，第' || g || '条。',
           (array['submitted', 'assigned', 'replied', 'closed', 'assigned'])[1 + g % 5],
           case when g % 5 <> 0 then '第' || (1 + g % 8) || '检察部' end,
           case when g % 5 in (2, 3) then '压测答复。' end,
           now() - make_interval(secs => ($2 - g) * 30), now(),
           case when g % 5 = 3 then least(now(), now() - make_interval(secs => ($2 - g) * 30) + interval '1 month') end
    from generate_series(1, $2) g, office o, register r
    returning id, office_id, created_at, state
)
insert into clocks (office_id, module, subject_id, code, started_at, day_type, lead_days, status, due, finished_at)
select i.office_id, 'liaison', i.id, 'suggestion_reply', i.created_at, 'calendar', '{{5,2}}',
       case when i.state in ('replied', 'closed') then 'met'
            when (i.created_at + interval '3 months')::date < current_date then 'overdue' else 'running' end,
       (i.created_at + interval '3 months')::date,
       case when i.state in ('replied', 'closed') then least(now(), i.created_at + interval '1 month') end
from items i
"""


async def seed_liaison_office(conn: asyncpg.Connection, code: str, count: int) -> float:
    """Create office `code` with `count` suggestions unless it has them; return seconds spent."""
    return await seed_once(conn, code, count, _SQL, counted="liaison_suggestions",
                           analyze=("liaison_representatives", "liaison_suggestions", "clocks"))


def suggestion_list_sql() -> str:
    """The staff list's first page of 50 exactly as the app sends it ($1 the office)."""
    from modules.liaison.queries import _ITEM_SELECT

    return first_page_sql(_ITEM_SELECT, "s")


async def prepare_liaison(pg_url: str, sizes: list[int], data: Any) -> None:
    """Seed a liaison office per size into `data.liaison_offices` (kept between runs with --keep-data)."""
    import asyncpg

    conn = await asyncpg.connect(pg_url)
    try:
        for n in sizes:
            code = f"liaison-bench-{n}"
            spent = await seed_liaison_office(conn, code, n)
            if spent:
                print(f"bench: seeded {n:,} suggestions in {spent:.0f}s", flush=True)
            data.liaison_offices[n] = str(await conn.fetchval("select id from offices where code = $1", code))
    finally:
        await conn.close()
