"""Demo accounts and partner clients (never in production): every staff role in each district, two
representatives, two partner clients, and the municipal admin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.actions import STAFF_ROLES
from auth.passwords import hash_password_sync

if TYPE_CHECKING:
    import asyncpg

__all__ = ("DEMO_CLIENT_SECRET", "DEMO_PASSWORD", "load_accounts")

DEMO_PASSWORD = "jianwu-demo"
DEMO_CLIENT_SECRET = "jianwu-demo-secret"
DISTRICTS = ("jinshan", "chongming")
# What each demo partner agency may do; later modules add their actions here.
PARTNER_SCOPES: dict[str, list[str]] = {
    "police": ["litigation.clue.submit", "partner.events.read"],
    "ecoenv": ["litigation.clue.submit", "litigation.recommendation.respond", "partner.events.read"],
}


async def load_accounts(conn: asyncpg.Connection) -> None:
    """Upsert the demo accounts (one password hash shared by all, so loading stays fast)."""
    password = hash_password_sync(DEMO_PASSWORD)
    secret = hash_password_sync(DEMO_CLIENT_SECRET)
    offices = dict(await conn.fetch("select code, id from offices where code = any($1::text[])",
                                    ["shanghai", *DISTRICTS]))
    rows = [("staff", offices["shanghai"], "shanghai.admin", "上海市院管理员", ["admin"])]
    for office in DISTRICTS:
        rows += [("staff", offices[office], f"{office}.{role}", f"{office} {role}", [role]) for role in STAFF_ROLES]
        rows += [("deputy", offices[office], f"{office}.deputy", f"{office} 人大代表", []),
                 ("member", offices[office], f"{office}.member", f"{office} 政协委员", [])]
    await conn.executemany(
        """
        insert into users (kind, office_id, username, display_name, password_hash, roles)
        values ($1, $2, $3, $4, $5, $6)
        on conflict (username) do update set password_hash = excluded.password_hash, roles = excluded.roles,
            office_id = excluded.office_id, disabled_at = null
        """,
        [(kind, office_id, username, name, password, roles) for kind, office_id, username, name, roles in rows],
    )
    clients = []
    for office in DISTRICTS:
        clients.append((offices[office], f"{office}-police", f"{office} 公安分局", "police", PARTNER_SCOPES["police"]))
        clients.append((offices[office], f"{office}-ecoenv", f"{office} 生态环境局", "government",
                        PARTNER_SCOPES["ecoenv"]))
    await conn.executemany(
        """
        insert into partner_clients (office_id, client_id, name, agency_kind, secret_hash, scopes)
        values ($1, $2, $3, $4, $5, $6)
        on conflict (client_id) do update set secret_hash = excluded.secret_hash, scopes = excluded.scopes,
            disabled_at = null
        """,
        [(o, cid, name, kind, secret, scopes) for o, cid, name, kind, scopes in clients],
    )
