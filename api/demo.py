"""Demo data: the Shanghai municipal office and two districts. Refused in production."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.db import atomic

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("DemoRefused", "is_loaded", "load")

OFFICES = [
    # code, name, parent code, level
    ("shanghai", "上海市人民检察院", None, "provincial"),
    ("jinshan", "上海市金山区人民检察院", "shanghai", "county"),
    ("chongming", "上海市崇明区人民检察院", "shanghai", "county"),
]


class DemoRefused(RuntimeError):
    """Demo data was asked for where it must never be."""


async def is_loaded(conn: asyncpg.Connection) -> bool:
    """Whether the demo data was loaded into this database before."""
    return bool(await conn.fetchval("select exists (select 1 from app_meta where key = 'demo_loaded_at')"))


async def load(conn: asyncpg.Connection, *, env: str, box: SecretBox) -> None:
    """Insert or refresh the demo data in one transaction; safe to run again."""
    if env == "production":
        raise DemoRefused("demo data is never loaded when JIANWU_ENV=production")
    async with atomic(conn):
        for code, name, parent, level in OFFICES:
            await conn.execute(
                """
                insert into offices (code, name, parent_id, province, level)
                values ($1, $2, (select id from offices where code = $3), '上海', $4)
                on conflict (code) do update set name = excluded.name, parent_id = excluded.parent_id
                """,
                code, name, parent, level,
            )
        from auth.demo import DISTRICTS, load_accounts
        from modules.registry import manifests

        await load_accounts(conn)
        for m in manifests():
            if m.demo is not None:
                await m.demo(conn, box, list(DISTRICTS))
        await conn.execute(
            """
            insert into app_meta (key, value) values ('demo_loaded_at', to_jsonb(now()))
            on conflict (key) do update set value = excluded.value, updated_at = now()
            """
        )
