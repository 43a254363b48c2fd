"""Access tokens no worker has seen yet, minted by the bench with the bench server's own signing key.

Each is a copy of a real sign-in's claims with a new `jti`, signed by the server's `Keyring` (key read from the
bench's own database and data directory), so the server accepts it exactly like the original, but no cache of
verified tokens or of revocation answers can have it: requests carrying them pay the whole authentication path.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

__all__ = ("TokenMint",)


class TokenMint:
    """Opened once per run; `mint(template, n)` returns n tokens like `template`, each with its own jti."""

    def __init__(self, pg_url: str, data_dir: Path) -> None:
        self.pg_url = pg_url
        self.data_dir = data_dir
        self._pool: Any = None
        self._keyring: Any = None

    async def _open(self) -> Any:
        if self._keyring is None:
            from api.db import Database, create_pool
            from api.settings import Settings, master_secret
            from auth.keyring import Keyring
            from auth.secretbox import SecretBox

            settings = Settings(data_dir=self.data_dir)
            self._pool = await create_pool(settings, self.pg_url)
            db = Database(self._pool, settings.db_acquire_timeout)
            self._keyring = Keyring(db, SecretBox(master_secret(settings)))
            await self._keyring.load()
        return self._keyring

    async def mint(self, template: str, n: int, **overrides: Any) -> list[str]:
        keyring = await self._open()
        payload = template.split(".")[1]
        claims = {**json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))), **overrides}
        return [await keyring.sign({**claims, "jti": uuid.uuid4().hex}) for _ in range(n)]

    async def citizen(self, user_id: str) -> str:
        """An access token for a citizen account, as the code sign-in would issue it."""
        import time

        keyring = await self._open()
        now = int(time.time())
        return await keyring.sign({"iss": "jianwu", "sub": user_id, "aud": "jianwu:public", "iat": now,
                                   "exp": now + 600, "jti": uuid.uuid4().hex, "tt": "access", "kind": "citizen",
                                   "fam": str(uuid.uuid4())})

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = self._keyring = None
