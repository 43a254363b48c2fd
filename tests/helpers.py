"""Helpers the integration tests share: signing in as the demo accounts, bearer headers."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from auth.demo import DEMO_CLIENT_SECRET, DEMO_PASSWORD

CLIENT_FOR_KIND = {"staff": "staff-app", "deputy": "representative-app", "member": "representative-app"}


async def token_for(client, username: str, password: str = DEMO_PASSWORD, *, client_id: str = "staff-app",  # noqa: ANN001
                    **extra: str) -> dict[str, Any]:
    """Sign in with the password grant; assert success; return the token response."""
    resp = await client.post("/api/v1/auth/token", data={
        "grant_type": "password", "username": username, "password": password, "client_id": client_id, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    """The Authorization header for an access token (or a token response)."""
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def partner_token(client, client_id: str = "jinshan-police", secret: str = DEMO_CLIENT_SECRET) -> dict:  # noqa: ANN001
    """client_credentials with the demo secret."""
    resp = await client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def office_id(conn, code: str) -> uuid.UUID:  # noqa: ANN001
    """The id of a demo office."""
    return await conn.fetchval("select id from offices where code = $1", code)


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}


def item(**over: Any) -> dict[str, Any]:
    """A valid filing body for the demo office jinshan."""
    body = {"office": "jinshan", "category": "accusation", "title": "某单位违规收费",
            "body": "2026年11月在某窗口办事时被收取不合理费用，请依法处理。", "location": {"address": "上海市金山区石化街道"}}
    body.update(over)
    return body


def sms_code(settings, phone: str) -> str:  # noqa: ANN001
    """The newest sign-in code sent to `phone`, read from the development SMS outbox."""
    lines = (settings.data_path / "sms-outbox.jsonl").read_text().splitlines()
    message = [json.loads(x) for x in lines if phone in x][-1]
    code = message["code"]  # the code in a field of its own (auth/sms.py), as it reads in the text
    assert code in message["text"] and re.fullmatch(r"\d{6}", code)
    return code


async def citizen(client, settings, phone: str | None = None) -> dict[str, str]:  # noqa: ANN001
    """A citizen signed in through the code flow (a new number unless `phone` is given); the Authorization header."""
    phone = phone or f"158{uuid.uuid4().int % 10**8:08d}"
    assert (await client.post("/api/v1/auth/otp", json={"phone": phone})).status_code == 202
    resp = await client.post("/api/v1/auth/token", data={"grant_type": "urn:jianwu:otp", "phone": phone,
                                                          "code": sms_code(settings, phone),
                                                          "client_id": "public-app"})
    assert resp.status_code == 200, resp.text
    return bearer(resp.json())


async def explain_prepared(conn: Any, sql: str, values: list[Any], settings: dict[str, str], *,
                           analyze: bool = False) -> dict[str, Any]:
    """The top plan node of `sql` prepared in SQL (so EXPLAIN EXECUTE shows the plan the plan cache would run) and
    executed with `values` as literals, under the planner `settings` for that one statement; `analyze` runs it."""
    literals = ", ".join("null" if v is None else "'" + str(v).replace("'", "''") + "'" for v in values)
    await conn.execute(f"prepare probe as {sql}")
    await conn.execute("; ".join(f"set {name} = {value}" for name, value in settings.items()))
    try:
        plan = await conn.fetchval(f"explain ({'analyze, ' if analyze else ''}format json) execute probe({literals})")
    finally:
        await conn.execute("; ".join([*(f"reset {name}" for name in settings), "deallocate probe"]))
    return plan[0]["Plan"]


async def index_reads(conn: Any, table: str, sql: str, values: list[Any]) -> list[tuple[str, int]]:
    """Run `sql` (prepared, generic plan) with `values` under EXPLAIN ANALYZE; (index, rows read) of each scan of
    `table` that ran. The test tables are small, where reading a whole history is what PostgreSQL rightly prefers;
    the question asked here is whether an index lets a search stop early, so plans that read everything are off."""
    plan = await explain_prepared(conn, sql, values, {"enable_seqscan": "off", "enable_bitmapscan": "off",
                                                      "plan_cache_mode": "force_generic_plan"}, analyze=True)

    def walk(node: dict[str, Any]) -> list[tuple[str, int]]:
        found = []
        if node.get("Relation Name") == table and node.get("Actual Loops"):
            read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            found.append((node.get("Index Name", node["Node Type"]), read))
        for child in node.get("Plans", []):
            found += walk(child)
        return found
    return walk(plan)
