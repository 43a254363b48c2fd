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
        cache.put(VerifiedTokens.key(f"token-{n}"), 1, _principal(n))
    assert len(cache._entries) <= VerifiedTokens._MAX
    newest = cache.get(VerifiedTokens.key(f"token-{total - 1}"), 1)
    assert newest is not None and newest.sub == f"user-{total - 1}"
    assert cache.get(VerifiedTokens.key("token-0"), 1) is None  # the oldest went first


def test_a_key_change_or_an_expired_token_is_a_miss() -> None:
    cache = VerifiedTokens()
    cache.put(VerifiedTokens.key("fresh"), 1, _principal(1))
    cache.put(VerifiedTokens.key("old"), 1, _principal(2, exp=time.time() - VerifiedTokens._LEEWAY - 1))
    assert cache.get(VerifiedTokens.key("fresh"), 2) is None  # the published keys changed since it was verified
    assert cache.get(VerifiedTokens.key("old"), 1) is None
    cache.put(VerifiedTokens.key("fresh"), 2, _principal(1))
    assert cache.get(VerifiedTokens.key("fresh"), 2) is not None
    assert cache.get(VerifiedTokens.key("fresh-but-another-token"), 2) is None


def test_a_full_cache_of_one_office_s_staff_stays_small() -> None:
    # What a worker holds after serving thousands of staff tokens: the values tokens repeat (office, roles, scopes,
    # kind, audience) are shared, so each entry costs little more than its own jti and times.
    import tracemalloc
    import uuid

    office, now = str(uuid.uuid4()), int(time.time())
    # 50 people, each signed in on one device (one token family), their access tokens refreshed many times.
    users, families = [str(uuid.uuid4()) for _ in range(50)], [str(uuid.uuid4()) for _ in range(50)]
    claims = [{"iss": "jianwu", "sub": users[n % 50], "aud": "jianwu:staff", "exp": now + 600, "iat": now,
               "jti": uuid.uuid4().hex, "tt": "access", "kind": "staff", "office": office,
               "roles": ["prosecutor", "office_admin"], "scope": "complaints:read complaints:write liaison:read",
               "fam": families[n % 50], "did": f"device-{n % 50}"} for n in range(VerifiedTokens._MAX)]
    tokens = [f"header.{uuid.uuid4().hex * 8}.signature" for _ in claims]
    cache = VerifiedTokens()
    # Each person's first token outside the measurement: the interpreter's table of interned strings grows by a
    # whole block now and then, whoever happens to add the string that fills it; that is not a cost per entry.
    for c in claims[:50]:
        Principal.from_claims(c)
    tracemalloc.start()
    try:
        for token, c in zip(tokens, claims, strict=True):
            cache.put(VerifiedTokens.key(token), 1, Principal.from_claims(c))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held / VerifiedTokens._MAX < 600  # bytes per cached token (about 900 when each held its own copies)
    first, last = cache.get(VerifiedTokens.key(tokens[0]), 1), cache.get(VerifiedTokens.key(tokens[-1]), 1)
    assert first is not None and last is not None
    assert first.scopes == {"complaints:read", "complaints:write", "liaison:read"} and first.office_id == last.office_id
