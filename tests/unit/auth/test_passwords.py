"""Password hashing: production's argon2id parameters, and verification following each hash's own."""

from __future__ import annotations

from auth import passwords
from auth.passwords import PRODUCTION, verify_password


def test_production_hashes_with_rfc_9106s_second_option() -> None:
    # The suite hashes with lighter parameters (tests/conftest.py); servers hash with these.
    assert (PRODUCTION.type.name, PRODUCTION.time_cost, PRODUCTION.memory_cost, PRODUCTION.parallelism) == \
        ("ID", 3, 64 * 1024, 1)
    assert PRODUCTION.hash("secret-1").startswith("$argon2id$v=19$m=65536,t=3,p=1$")


async def test_a_hash_made_with_production_parameters_verifies_under_the_suites_hasher() -> None:
    # What a password stored by a server (production parameters) meets when the suite signs in with it.
    assert passwords._hasher is not PRODUCTION
    stored = PRODUCTION.hash("correct horse")
    assert await verify_password(stored, "correct horse")
    assert not await verify_password(stored, "wrong horse")
    assert not await verify_password(None, "correct horse")


async def test_a_miss_is_verified_against_a_dummy_made_by_the_current_hasher() -> None:
    # No account: the password is checked against a dummy hash all the same, so a miss costs what a hit does.
    assert not await verify_password(None, "no such account")
    assert passwords._dummy is not None and passwords._hasher.verify(passwords._dummy, "no such account")
    assert passwords._dummy.startswith("$argon2id$v=19$m=1024,t=1,p=1$")  # the suite's hasher, not production's
