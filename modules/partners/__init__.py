"""Partner agencies 检警通 / 检政通 / 12345: calls and clues transferred into complaints, early involvement, contact
people, over one partner API under /api/v1/partner (partner clients only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modules.kernel.manifest import Manifest, lazy_demo, lazy_routes
from modules.partners.recipients import RECIPIENTS
from modules.partners.rules import (
    ACTIONS,
    CLOCKS,
    EVENT_TYPES,
    PARTNER_ACTIONS,
    PERMISSION_DEFAULTS,
    TOPICS,
    Config,
)
from modules.registry import register

if TYPE_CHECKING:
    import asyncpg

    from api.pagination import Cursor
    from modules.kernel.partner_items import PartnerItem

__all__ = ("MANIFEST",)


def _subjects() -> tuple:
    from modules.partners.consultations import SUBJECT as CONSULTATION
    from modules.partners.documents import SUBJECT as DOCUMENT
    from modules.partners.service import SUBJECT

    return (SUBJECT, DOCUMENT, CONSULTATION)


async def _open_items(conn: asyncpg.Connection, client: Any, after: Cursor | None, limit: int) -> list[PartnerItem]:
    from modules.partners.consultations import open_items

    return await open_items(conn, client, after, limit)


MANIFEST = register(Manifest(
    name="partners", label_zh="检务协作", routes=lazy_routes(__name__), actions=ACTIONS,
    external_actions={"partner": frozenset(PARTNER_ACTIONS)}, permission_defaults=PERMISSION_DEFAULTS,
    clocks=CLOCKS, topics=TOPICS, event_types=EVENT_TYPES, subjects=_subjects(), config=Config,
    demo=lazy_demo(__name__),
    partner_items=_open_items, recipients=RECIPIENTS,
    public_routes=frozenset({("GET", "/api/v1/partner/openapi.json")}),
))
