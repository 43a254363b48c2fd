"""API2:2023 Broken Authentication: guessing is counted atomically, and counting guesses never locks out the
rightful holder of a secret."""

from __future__ import annotations

from tests.helpers import item, key


# Parallel wrong partner secrets: tests/integration/auth/test_client_auth_race.py (needs this loop's own parts).


async def test_wrong_look_ups_never_lock_out_the_right_code(client) -> None:  # noqa: ANN001
    filed = (await client.post("/api/v1/public/complaints", headers=key(), json=item())).json()
    url = f"/api/v1/public/complaints/{filed['receiptNo']}"
    codes = [(await client.get(url, headers={"X-Query-Code": f"WRONG{i:04d}"})).status_code for i in range(25)]
    assert codes[:20] == [404] * 20 and set(codes[20:]) == {429}, codes
    for _ in range(3):  # the filer, even from the very address that guessed
        assert (await client.get(url, headers={"X-Query-Code": filed["queryCode"]})).status_code == 200
