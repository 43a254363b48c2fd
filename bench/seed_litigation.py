"""Generated public-interest litigation data for the PIL benchmarks: one office holding N clues and N cases (each
case opened from its clue, with its open deadline), straight in SQL, and the demo case the read scenario reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.seed import first_page_sql, office_cte, seed_once

if TYPE_CHECKING:
    import asyncpg

__all__ = ("pil_case_list_sql", "prepare_litigation", "seed_litigation_office")

# Every clue became a case (the staff lists of both registries hold N rows); states spread over both routes; each
# case has one clock, running for the cases still waiting on someone, met for the rest.
_SQL = office_cte("litigation") + """, clues as (
    insert into pil_clues (office_id, clue_no, state, source, domain, title, description, address, submitted_by,
                           created_at, updated_at)
    select o.id, $1 || '-XS-' || g, 'opened', (array['field', 'hotline', 'volunteer', 'partner'])[1 + g % 4],
           (array['ecology_environment', 'food_drug_safety', 'state_property', 'minors'])[1 + g % 4],
           '压测线索' || g || (array['河道污染', '食品安全', '国有资产流失', '未成年人保护'])[1 + g % 4],
           '生成的压测数据，第' || g || '条。', '上海市某区某路' || (g % 1000) || '号', 'staff:bench',
           now() - make_interval(secs => ($2 - g) * 30), now()
    from generate_series(1, $2) g, office o
    returning id, office_id, clue_no, domain, title, created_at
), cases as (
    insert into pil_cases (office_id, case_no, clue_id, route, domain, title, state, created_at, updated_at)
    select c.office_id, replace(c.clue_no, '-XS-', '-GY-'), c.id,
           case when split_part(c.clue_no, '-XS-', 2)::int % 5 = 0 then 'civil' else 'administrative' end,
           c.domain, c.title,
           (array['investigating', 'recommendation_served', 'agency_replied', 'following_up', 'suing', 'closed'])
               [1 + split_part(c.clue_no, '-XS-', 2)::int % 6],
           c.created_at + interval '1 day', now()
    from clues c
    returning id, office_id, state, created_at
)
insert into clocks (office_id, module, subject_id, code, started_at, day_type, lead_days, status, due, finished_at)
select k.office_id, 'litigation', k.id, 'agency_reply', k.created_at, 'calendar', '{5,2}',
       case when k.state not in ('recommendation_served', 'following_up') then 'met'
            when (k.created_at + interval '2 months')::date < current_date then 'overdue' else 'running' end,
       (k.created_at + interval '2 months')::date,
       case when k.state not in ('recommendation_served', 'following_up') then k.created_at + interval '1 month' end
from cases k
"""


async def seed_litigation_office(conn: asyncpg.Connection, code: str, count: int) -> float:
    """Create office `code` with `count` clues and as many cases unless it has them; return seconds spent."""
    return await seed_once(conn, code, count, _SQL, counted="pil_cases", analyze=("pil_clues", "pil_cases", "clocks"))


def pil_case_list_sql() -> str:
    """The PIL case list's first page of 50 exactly as the app sends it ($1 the office)."""
    from modules.litigation.queries import _CASE_SELECT

    return first_page_sql(_CASE_SELECT, "c")


async def prepare_litigation(pg_url: str, sizes: list[int], data: Any) -> None:
    """Seed a PIL office per size into `data.pil_offices` and pick the demo case the read scenario reads: the
    newest jinshan case with a recommendation the agency answered (timeline, clocks and recommendation filled)."""
    import asyncpg

    conn = await asyncpg.connect(pg_url)
    try:
        for n in sizes:
            code = f"pil-bench-{n}"
            spent = await seed_litigation_office(conn, code, n)
            if spent:
                print(f"bench: seeded {n:,} PIL clues and cases in {spent:.0f}s", flush=True)
            data.pil_offices[n] = str(await conn.fetchval("select id from offices where code = $1", code))
        data.pil_case_id = str(await conn.fetchval(
            "select c.id from pil_cases c join offices o on o.id = c.office_id join pil_recommendations r "
            "on r.case_id = c.id where o.code = 'jinshan' and r.replied_at is not null "
            "order by c.created_at desc limit 1"))
    finally:
        await conn.close()
