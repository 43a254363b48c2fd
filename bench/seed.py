"""Generated complaints for the list benchmarks: one office holding N items (with their clocks), straight in SQL."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

__all__ = ("BenchData", "first_page_sql", "office_cte", "prepare", "seed_office", "seed_once")


def first_page_sql(select: str, alias: str) -> str:
    """A staff list's first page of 50 exactly as the app sends it: `select`'s rows `alias`, $1 the office."""
    from api.pagination import keyset

    q = keyset(f"{alias}.created_at", f"{alias}.id")
    q.owner(f"{alias}.office_id", uuid.UUID(int=0))
    return q.sql(select, None, 50)[0]


def office_cte(module: str) -> str:
    """The start of a seed's SQL: office `$1` (created or found) with `module` switched on, as CTE `office`."""
    return f"""
with office as (
    insert into offices (code, name, parent_id, province, level)
    values ($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county')
    on conflict (code) do update set name = excluded.name returning id
), enabled as (
    insert into office_modules (office_id, module, enabled) select id, '{module}', true from office
    on conflict (office_id, module) do update set enabled = true
)"""


# Two clocks per item, the way intake starts them; a quarter already answered. Stored as the sweep leaves them
# (answered ones finished, open ones past their due date overdue), so the bench's server does not spend its run
# sweeping hundreds of thousands of stale clocks that a running office would never have.
_SQL = office_cte("complaints") + """, category as (
    insert into complaint_categories (office_id, kind, code, name)
    select id, 'accusation', 'bench', '压测分类' from office
    on conflict (office_id, code) do update set name = excluded.name returning id
), items as (
    insert into complaints (receipt_no, office_id, first_office_id, kind, category_id, channel, state, title, body,
                            created_at, anonymous)
    select $1 || '-' || g, o.id, o.id, 'accusation', c.id, 'app',
           (array['received', 'accepted', 'in_progress', 'closed'])[1 + g % 4],
           '压测事项' || g || (array['河道污染', '违规收费', '噪音扰民', '欠薪'])[1 + g % 4],
           '生成的压测数据，第' || g || '条。',
           now() - make_interval(secs => ($2 - g) * 30), false
    from generate_series(1, $2) g, office o, category c
    returning id, office_id, created_at, state
)
insert into clocks (office_id, module, subject_id, code, started_at, day_type, lead_days, status, due, finished_at)
select i.office_id, 'complaints', i.id, k.code, i.created_at, 'calendar', '{5,2}',
       case when i.state <> 'received' then 'met'
            when (i.created_at + k.span)::date < current_date then 'overdue' else 'running' end,
       (i.created_at + k.span)::date,
       case when i.state <> 'received' then i.created_at + k.span / 2 end
from items i, (values ('procedural_reply', interval '7 days'), ('result_reply', interval '3 months')) as k(code, span)
"""


async def seed_once(conn: asyncpg.Connection, code: str, count: int, sql: str, *, counted: str,
                    analyze: tuple[str, ...]) -> float:
    """Run a seed's `sql` for office `code` unless `counted` already holds `count` of its rows, then analyze the
    tables it filled; return seconds spent."""
    have = await conn.fetchval(
        f"select count(*) from {counted} where office_id = (select id from offices where code = $1)", code)
    if have >= count:
        return 0.0
    started = time.monotonic()
    async with conn.transaction():
        await conn.execute(sql, code, count)
    for table in analyze:
        await conn.execute(f"analyze {table}")
    return time.monotonic() - started


async def seed_office(conn: asyncpg.Connection, code: str, count: int) -> float:
    """Create office `code` with `count` complaints unless it already has them; return seconds spent."""
    return await seed_once(conn, code, count, _SQL, counted="complaints", analyze=("complaints", "clocks"))


class BenchData:
    """What the seeded scenarios need: offices of known size, citizens to file, one item to read."""

    def __init__(self) -> None:
        self.offices: dict[int, str] = {}  # size -> office id
        self.citizens: list[str] = []
        self.item_id: str = ""
        self.list_sql: str = ""
        # Public-interest litigation: size -> office id, and the demo case the read scenario reads.
        self.pil_offices: dict[int, str] = {}
        self.pil_case_id: str = ""
        # Liaison: size -> office id (suggestion_get reads the demo office's newest suggestion).
        self.liaison_offices: dict[int, str] = {}


async def prepare(pg_url: str, sizes: list[int], citizens: int = 64) -> BenchData:
    """Seed an office per size (kept between runs with --keep-data), make citizens, pick an item to read."""
    import asyncpg

    from modules.complaints.queries import _LIST_SELECT

    data = BenchData()
    conn = await asyncpg.connect(pg_url)
    try:
        for n in sizes:
            spent = await seed_office(conn, f"bench-{n}", n)
            if spent:
                print(f"bench: seeded {n:,} complaints in {spent:.0f}s", flush=True)
            data.offices[n] = str(await conn.fetchval("select id from offices where code = $1", f"bench-{n}"))
        rows = await conn.fetch(
            "insert into users (kind, display_name, phone_index) select 'citizen', 'bench citizen', "
            "'bench-' || gen_random_uuid() from generate_series(1, $1) returning id", citizens)
        data.citizens = [str(r["id"]) for r in rows]
        data.item_id = str(await conn.fetchval(
            "select c.id from complaints c join offices o on o.id = c.office_id where o.code = 'jinshan' "
            "order by c.created_at desc limit 1"))
        data.list_sql = first_page_sql(_LIST_SELECT, "c")
    finally:
        await conn.close()
    return data
