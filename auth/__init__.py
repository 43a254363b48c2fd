"""Identity and access: tokens for every kind of caller, permission lists as data, the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.db import Database
    from api.settings import Settings

__all__ = ("setup_auth",)


async def setup_auth(state: Any, settings: Settings, db: Database, redis: Any) -> None:
    """Put this worker's keyring, revocation list, permission cache, limiter and SMS provider on the app state."""
    from api.errors import DB_DOWN_ERRORS
    from api.idempotency import use_answer_key
    from api.settings import master_secret
    from auth.audit import use_anchors, use_chain_key
    from auth.audit_anchor import Anchors
    from auth.keyring import Keyring
    from auth.permissions import PermissionCache
    from auth.ratelimit import RateLimiter
    from auth.revocation import Revocations
    from auth.secretbox import SecretBox
    from auth.sms import FileSmsProvider

    state.box = SecretBox(master_secret(settings))
    use_chain_key(state.box)
    use_answer_key(state.box)
    state.anchors = Anchors(state.box, settings.data_path, redis, settings.redis_prefix)
    state.anchors_before = use_anchors(state.anchors)
    state.keyring = Keyring(db, state.box)
    from api.cache import create_watcher
    from auth.guards import VerifiedTokens

    state.revocations = Revocations(redis, settings.redis_prefix, create_watcher(settings, settings.redis_url or ""))
    state.revocations.start()
    state.verified_tokens = VerifiedTokens()
    state.permissions = PermissionCache(db)
    state.limiter = RateLimiter(redis, settings.redis_prefix)
    state.sms = FileSmsProvider(settings.data_path / "sms-outbox.jsonl")
    try:
        await state.keyring.load()
    except DB_DOWN_ERRORS:
        pass  # PostgreSQL is down at start: the keyring loads on first use, requests answer 503 meanwhile
