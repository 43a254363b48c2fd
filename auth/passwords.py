"""Password and secret hashing with argon2id, always off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ("PRODUCTION", "hash_password", "hash_password_sync", "use_hasher", "verify_password")

# RFC 9106's second recommended option, lighter on memory so a 2-core replica can serve bursts of sign-ins.
PRODUCTION = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
_hasher = PRODUCTION
# Verified when the account does not exist, so a miss takes as long as a hit and reveals nothing. Made at the
# first miss rather than at import, where it cost every process (each worker, each `jianwu` command) 155 ms.
_dummy: str | None = None


def _dummy_hash() -> str:
    global _dummy  # one per process and hasher; two first misses at once may both make it, which is harmless
    if _dummy is None:
        _dummy = _hasher.hash("no such account")
    return _dummy


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash with other argon2id parameters from now on (the test suite's light ones). A stored hash carries its
    own parameters, so each verification costs what its hash was made with."""
    global _hasher, _dummy  # the process's one hasher, set once before anything hashes
    _hasher, _dummy = hasher, None


def hash_password_sync(password: str) -> str:
    """Hash a password or client secret (blocking; for CLI and demo loading)."""
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    """Hash a password or client secret in a worker thread."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash; takes the same time when there is no hash."""
    return await asyncio.to_thread(_verify, stored, password)
