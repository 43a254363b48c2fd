"""API8:2023 Security Misconfiguration: answers are never cached or sniffed, the docs page cannot be framed or
run foreign scripts."""

from __future__ import annotations

from tests.helpers import bearer, token_for
from tests.security.conftest import first_allowed
from tests.security.spec import operations

# Answers that are the same for everyone and carry no personal data may be cached.
_SHARED = {"/api/v1/offices", "/api/v1/offices/{office}/complaint-catalog"}


async def test_every_api_answer_is_no_store_and_nosniff(app, client, callers) -> None:  # noqa: ANN001
    walked = 0
    for op in operations(app):
        if op.method != "GET" or not op.path.startswith("/api/") or op.path in _SHARED:
            continue
        url = op.url(office="jinshan")
        headers = {} if op.public else await first_allowed(client, callers, "GET", url)
        resp = await client.get(url, headers=headers or {})  # 200, or a 404 for the made-up id: both are checked
        assert "no-store" in resp.headers.get("cache-control", ""), (str(op), resp.status_code)
        assert resp.headers.get("x-content-type-options") == "nosniff", str(op)
        walked += 1
    assert walked >= 15, walked
    token = await client.post("/api/v1/auth/token", data={"grant_type": "nope"})
    assert "no-store" in token.headers["cache-control"]


async def test_docs_page_has_a_content_security_policy_and_cannot_be_framed(client) -> None:  # noqa: ANN001
    page = await client.get("/schema")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in \
        csp.split("script-src")[1].split(";")[0]
    assert page.headers["x-frame-options"] == "DENY"


async def test_module_config_is_validated_on_save(client, conn, make_user, make_office) -> None:  # noqa: ANN001
    code = await make_office()
    admin = await make_user(office=code, roles=("admin",))
    h = bearer(await token_for(client, admin["username"], admin["password"]))
    url = "/api/v1/admin/modules/complaints"
    for config, field in (({"assignment": "oops"}, "config.assignment"),
                          ({"assignment": {"eligibleRoles": ["god"]}}, "config.assignment.eligibleRoles[0]"),
                          ({"assignmnet": {}}, "config")):
        bad = await client.put(url, headers=h, json={"enabled": True, "config": config})
        assert bad.status_code == 422, (config, bad.text)
        assert bad.json()["errors"][0]["field"] == field
    stored = await conn.fetchval("select count(*) from office_modules where office_id = "
                                 "(select id from offices where code = $1)", code)
    assert stored == 0
    ok = await client.put(url, headers=h, json={"enabled": True,
                                                "config": {"assignment": {"eligibleRoles": ["prosecutor"]}}})
    assert ok.status_code == 200


async def test_metrics_need_the_scrape_token(client) -> None:  # noqa: ANN001
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer scrape-token-for-tests "}):
        resp = await client.get("/metrics", headers=headers)
        assert resp.status_code == 404 and "# TYPE" not in resp.text
    ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})
    assert ok.status_code == 200 and "# TYPE" in ok.text
