"""The rules of the office's catalog: categories with their typed extra fields, and reply templates."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec

from api.errors import invalid
from auth.audit import Actor, record
from modules.complaints.queries import category_out
from modules.complaints.rules import STATE_LABELS
from modules.complaints.schemas import CategoryIn, CategoryOut, TemplateIn, TemplateOut

if TYPE_CHECKING:
    import asyncpg

__all__ = ("save_category", "save_template")

# As the table's check says: str.isalnum() would also take letters such as "ë", which PostgreSQL then refuses.
_TEMPLATE_CODE = re.compile(r"[a-z0-9_]{2,64}")


async def save_category(conn: asyncpg.Connection, actor: Actor, office_id: UUID | None,
                        data: CategoryIn) -> CategoryOut:
    """Create or change a category; each change bumps its version (and so the catalog's)."""
    keys = [f.key for f in data.fields]
    bad = [f for f in data.fields if f.type.endswith("choice") and not f.options]
    if len(keys) != len(set(keys)) or bad:
        raise invalid("Field keys must be unique; choices need options.",
                      ("fields", "duplicate key or choice without options"))
    r = await conn.fetchrow(
        """
        insert into complaint_categories (office_id, kind, code, name, description, fields, sort, active,
                                          handling_opinion)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        on conflict (office_id, code) do update set kind = excluded.kind, name = excluded.name,
            description = excluded.description, fields = excluded.fields, sort = excluded.sort,
            active = excluded.active, handling_opinion = excluded.handling_opinion,
            version = complaint_categories.version + 1, updated_at = now()
        returning *
        """,
        office_id, data.kind, data.code, data.name, data.description, msgspec.to_builtins(data.fields), data.sort,
        data.active, data.handling_opinion)
    await record(conn, actor, "complaint.category.saved", object_type="complaint_category", object_id=data.code,
                 detail={"version": r["version"]})
    return category_out(r)


async def save_template(conn: asyncpg.Connection, actor: Actor, office_id: UUID | None, code: str,
                        data: TemplateIn) -> TemplateOut:
    """Create or change a reply template."""
    if data.state not in STATE_LABELS or not _TEMPLATE_CODE.fullmatch(code):
        raise invalid("Unknown state or malformed code.", ("state", f"one of {', '.join(STATE_LABELS)}"))
    await conn.execute(
        """
        insert into complaint_reply_templates (office_id, code, state, title, body) values ($1, $2, $3, $4, $5)
        on conflict (office_id, code) do update set state = excluded.state, title = excluded.title,
            body = excluded.body, updated_at = now()
        """,
        office_id, code, data.state, data.title, data.body)
    await record(conn, actor, "complaint.template.saved", object_type="reply_template", object_id=code)
    return TemplateOut(code=code, state=data.state, title=data.title, body=data.body)
