"""Signing keys: kept in PostgreSQL with the private half encrypted, loaded by every worker, rotated by CLI."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from auth.jwt import ACCESS_TOKEN_MAX_LIFETIME, InvalidToken, SigningKey, TokenVerifier, encode_access_token, jwks

if TYPE_CHECKING:
    import asyncpg

    from api.db import Database
    from auth.secretbox import SecretBox

__all__ = ("ISSUER", "Keyring", "ensure_signing_key", "rotate_signing_key")

ISSUER = "jianwu"
log = logging.getLogger("jianwu.keys")
_RELOAD_EVERY = 60.0
_RELOAD_ON_MISS_EVERY = 5.0
# Retired keys stay published while tokens they signed can still be alive (lifetime plus clock leeway).
_PUBLISH_RETIRED_FOR = f"{ACCESS_TOKEN_MAX_LIFETIME + 120} seconds"

_LOAD = f"""
select kid, public_jwk, private_enc, retired_at is null as active
from signing_keys
where retired_at is null or retired_at > now() - interval '{_PUBLISH_RETIRED_FOR}'
order by created_at desc
"""


def _aad(kid: str) -> bytes:
    return f"signing-key:{kid}".encode()


async def _insert_key(conn: asyncpg.Connection, box: SecretBox) -> str:
    key = SigningKey.generate()
    await conn.execute(
        "insert into signing_keys (kid, public_jwk, private_enc) values ($1, $2, $3)",
        key.kid, key.public_jwk(), box.encrypt_text(key.private_pem().decode(), aad=_aad(key.kid)),
    )
    return key.kid


async def ensure_signing_key(conn: asyncpg.Connection, box: SecretBox) -> str | None:
    """Create the first signing key when there is none; return its kid, or None if one existed."""
    async with conn.transaction():
        await conn.execute("lock table signing_keys in share row exclusive mode")
        if await conn.fetchval("select exists (select 1 from signing_keys where retired_at is null)"):
            return None
        return await _insert_key(conn, box)


async def rotate_signing_key(conn: asyncpg.Connection, box: SecretBox) -> str:
    """Add a new signing key and retire the current one (still published until its tokens expire)."""
    async with conn.transaction():
        await conn.execute("lock table signing_keys in share row exclusive mode")
        await conn.execute("update signing_keys set retired_at = now() where retired_at is null")
        return await _insert_key(conn, box)


class Keyring:
    """This worker's view of the signing keys: sign with the newest, verify with any still published."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box
        self._signing: SigningKey | None = None
        self._published: list[SigningKey] = []
        self._verifier = TokenVerifier({}, issuer=ISSUER)
        self._loaded_at = 0.0
        self._miss_reload_at = 0.0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # Bumped whenever the published key set changes; verified-token caches key on it.
        self.generation = 0

    async def load(self) -> None:
        """Read the keys from the database."""
        async with self.db.connection() as conn:
            rows = await conn.fetch(_LOAD)
        published = [
            SigningKey.from_pem(r["kid"], self.box.decrypt_text(r["private_enc"], aad=_aad(r["kid"])).encode())
            for r in rows
        ]
        active = [k for k, r in zip(published, rows, strict=False) if r["active"]]
        if {k.kid for k in published} != {k.kid for k in self._published}:
            self.generation += 1  # tokens verified under the old key set must be verified again
        self._published = published
        self._signing = active[0] if active else None
        self._verifier = TokenVerifier({k.kid: k for k in published}, issuer=ISSUER)
        self._loaded_at = time.monotonic()

    async def refresh(self, *, missed: bool = False) -> None:
        """Reload when the keys are old, or (rate-limited) when a token named a kid we do not know."""
        now = time.monotonic()
        due = now - self._loaded_at > _RELOAD_EVERY
        if missed and now - self._miss_reload_at > _RELOAD_ON_MISS_EVERY:
            self._miss_reload_at = now
            due = True
        if not due:
            return
        async with self._lock:
            if time.monotonic() - self._loaded_at > 0.5:
                await self.load()

    def _reload_soon(self) -> None:
        # Never inside a caller's transaction: sign() runs while the request holds a pooled connection, and
        # waiting for a second one there can starve the pool. Reload beside it; keep signing with the current key.
        if time.monotonic() - self._loaded_at > _RELOAD_EVERY and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh()
        except Exception:  # the database may be down; the next sign() tries again, current keys keep working
            log.warning("signing keys not reloaded", exc_info=True)

    async def sign(self, claims: dict[str, Any]) -> str:
        """Sign an access token with the current key."""
        self._reload_soon()
        if self._signing is None:
            await self.load()
        if self._signing is None:
            raise RuntimeError("no active signing key: run `jianwu keys rotate`")
        return encode_access_token(self._signing, claims)

    async def verify(self, token: str, audiences: Collection[str]) -> dict[str, Any]:
        """Verify an access token; reload once if it names a key this worker has not seen yet."""
        if time.monotonic() - self._loaded_at > _RELOAD_EVERY:
            await self.refresh()
        try:
            return self._verifier.verify(token, audiences=audiences)
        except InvalidToken as exc:
            if exc.reason != "unknown_key":
                raise
            await self.refresh(missed=True)
            return self._verifier.verify(token, audiences=audiences)

    def jwks(self) -> dict[str, Any]:
        """The published public keys."""
        return jwks(self._published)
