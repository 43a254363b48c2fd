"""How flow monitoring finds the subject a clock belongs to, in any module: its handler, department, reference
and title, from the `listing` each module's kernel Subject declares in its manifest. Monitoring names no module."""

from __future__ import annotations

from modules.registry import manifests

__all__ = ("lateral_join",)


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
