"""API2:2023 Broken Authentication: guessing is counted atomically, and counting guesses never locks out the
rightful holder of a secret."""

from __future__ import annotations

import asyncio
import uuid

from tests.helpers import item, key


async def test_parallel_wrong_client_secrets_are_counted_before_checking(client) -> None:  # noqa: ANN001
    form = {"grant_type": "client_credentials", "client_id": f"jinshan-race-{uuid.uuid4().hex[:6]}",
            "client_secret": "wrong"}
    answers = await asyncio.gather(*(client.post("/api/v1/auth/token", data=form) for _ in range(25)))
    codes = [a.status_code for a in answers]
    assert codes.count(401) <= 10 and codes.count(429) >= 15, codes  # the limit is 10 per client and address


async def test_wrong_look_ups_never_lock_out_the_right_code(client) -> None:  # noqa: ANN001
    filed = (await client.post("/api/v1/public/complaints", headers=key(), json=item())).json()
    url = f"/api/v1/public/complaints/{filed['receiptNo']}"
    codes = [(await client.get(url, headers={"X-Query-Code": f"WRONG{i:04d}"})).status_code for i in range(25)]
    assert codes[:20] == [404] * 20 and set(codes[20:]) == {429}, codes
    for _ in range(3):  # the filer, even from the very address that guessed
        assert (await client.get(url, headers={"X-Query-Code": filed["queryCode"]})).status_code == 200
