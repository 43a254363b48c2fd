"""How flow monitoring finds the subject a clock belongs to, in any module: its handler, department, reference
and title, from the `listing` each module's kernel Subject declares in its manifest. Monitoring names no module."""

from __future__ import annotations

from modules.registry import manifests

__all__ = ("category_counts_sql", "lateral_join")


def lateral_join() -> str:
    """A LEFT JOIN LATERAL giving `s.handler_id, s.department, s.ref, s.title` for the clock `k` of any module
    (null for a clock whose subject declares no listing)."""
    parts = [
        f"(select {s.listing['handler_id']} as handler_id, {s.listing['department']} as department, "
        f"{s.listing['ref']} as ref, {s.listing['title']} as title from {s.table} t "
        f"where t.id = k.subject_id and k.module = '{s.module}')"
        for m in manifests() for s in m.subjects if s.listing is not None
    ]
    if not parts:
        return "left join lateral (select null::uuid as handler_id, null::text as department, null::text as ref, " \
               "null::text as title) s on true"
    return f"left join lateral ({' union all '.join(parts)} limit 1) s on true"


def category_counts_sql() -> str:
    """A statement counting the office's ($1) items of every subject that declares a `category`, by category and
    state: module, subject, category, label, state, n (module $2 only, unless null)."""
    parts = [
        f"(select '{s.module}' as module, '{s.kind}' as subject, {s.category['code']} as category, "
        f"{s.category['label']} as label, t.state, count(*) as n from {s.table} t "
        f"where t.office_id = $1 and ($2::text is null or $2 = '{s.module}') group by 1, 2, 3, 4, 5)"
        for m in manifests() for s in m.subjects if s.category is not None
    ]
    if not parts:
        return "select null::text as module, null::text as subject, null::text as category, null::text as label, " \
               "null::text as state, 0::bigint as n where false and $1::uuid is null and $2::text is null"
    return " union all ".join(parts) + " order by 1, 2, 3, 5"
