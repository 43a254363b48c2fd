"""The per-worker cache of verified tokens: bounded, newest kept, dropped with the keys or the token's expiry."""

from __future__ import annotations

import time

from auth.guards import VerifiedTokens
from auth.principal import Principal


def _principal(n: int, exp: float | None = None) -> Principal:
    now = int(time.time())
    return Principal(sub=f"user-{n}", kind="staff", audience="jianwu:staff", jti=f"jti-{n}",
                     exp=int(exp if exp is not None else now + 600), iat=now)


def test_the_cache_stays_bounded_and_keeps_the_newest_tokens() -> None:
    cache = VerifiedTokens()
    total = VerifiedTokens._MAX * 3
    for n in range(total):
        cache.put(f"token-{n}", 1, _principal(n))
    assert len(cache._entries) <= VerifiedTokens._MAX
    newest = cache.get(f"token-{total - 1}", 1)
    assert newest is not None and newest.sub == f"user-{total - 1}"
    assert cache.get("token-0", 1) is None  # the oldest went first


def test_a_key_change_or_an_expired_token_is_a_miss() -> None:
    cache = VerifiedTokens()
    cache.put("fresh", 1, _principal(1))
    cache.put("old", 1, _principal(2, exp=time.time() - VerifiedTokens._LEEWAY - 1))
    assert cache.get("fresh", 2) is None  # the published keys changed since it was verified
    assert cache.get("old", 1) is None
    cache.put("fresh", 2, _principal(1))
    assert cache.get("fresh", 2) is not None
    assert cache.get("fresh-but-another-token", 2) is None
