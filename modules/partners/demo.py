"""Demo data: the module switched on, the demo police client granted its partner actions, a 12345 hotline client
per district (secret as for every demo client), an early involvement asked by the police."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.audit import Actor
from auth.demo import DEMO_CLIENT_SECRET
from auth.passwords import hash_password_sync
from modules.partners import service
from modules.partners.schemas import InvolvementIn

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("load",)

# Added to what auth/demo.py grants each demo client (kept there small: other modules add theirs too).
SCOPES = {
    "police": ["partner.clue.transfer", "partner.involvement", "partner.contacts", "partner.documents",
               "partner.items.read"],
    "ecoenv": ["partner.contacts", "partner.documents", "partner.consultation", "partner.items.read"],
    "hotline": ["partner.hotline.transfer", "partner.contacts", "partner.items.read"],
}


async def load(conn: asyncpg.Connection, box: SecretBox, offices: list[str]) -> None:
    """Switch the module on and give each district's demo clients their partner actions; safe to run again."""
    secret = hash_password_sync(DEMO_CLIENT_SECRET)
    for code in offices:
        office_id = await conn.fetchval("select id from offices where code = $1", code)
        await conn.execute(
            "insert into office_modules (office_id, module, enabled, config) values ($1, 'partners', true, '{}') "
            "on conflict (office_id, module) do update set enabled = true", office_id)
        await conn.execute(
            """
            insert into partner_clients (office_id, client_id, name, agency_kind, secret_hash, scopes)
            values ($1, $2, $3, 'hotline', $4, '{}')
            on conflict (client_id) do update set secret_hash = excluded.secret_hash, disabled_at = null
            """, office_id, f"{code}-hotline", f"{code} 12345 市民服务热线", secret)
        for suffix, scopes in SCOPES.items():
            await conn.execute(
                "update partner_clients set scopes = array(select distinct unnest(scopes || $2::text[]) order by 1) "
                "where client_id = $1", f"{code}-{suffix}", scopes)
        if not await conn.fetchval("select exists (select 1 from partner_involvements where office_id = $1)",
                                   office_id):
            # Through the service, so the demo request has its response clock like a real one.
            client = await conn.fetchrow("select * from partner_clients where client_id = $1", f"{code}-police")
            actor = Actor(id=client["client_id"], kind="partner", office_id=office_id, device_id=None, ip=None,
                          request_id=None)
            request = InvolvementIn(case_ref="JS-2026-0117", urgency="urgent",
                                    summary="某化工企业涉嫌非法倾倒危险废物，污染河道约 3 公里。",
                                    reason="案情重大，涉及刑事附带民事公益诉讼，请求检察机关提前介入引导取证。")
            await service.request_involvement(conn, actor, client=client, initiated_by="partner", config={},
                                              data=request)
