"""The password rules (等级保护 2.0) on their own."""

from __future__ import annotations

import pytest

from api.errors import ProblemError
from auth.password_policy import Policy, check, one_time_password


@pytest.mark.parametrize("password", ["Aa123456789", "qwer1234!@#$", "1QAZ@wsx3edc", "Jianwu@2026"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    with pytest.raises(ProblemError) as exc:
        check(password, Policy())
    assert exc.value.code == "weak_password"


def test_a_good_password_passes_and_the_office_minimum_applies() -> None:
    check("Harbour-lights-42", Policy())
    with pytest.raises(ProblemError):
        check("Harbour-lights-42", Policy(min_length=20))


def test_generated_one_time_passwords_meet_the_policy_and_differ() -> None:
    seen = {one_time_password() for _ in range(50)}
    assert len(seen) == 50
    for password in seen:
        check(password, Policy(min_length=16))
