"""Request ids are honoured or generated and echoed; metrics use route templates, not raw paths."""

from __future__ import annotations


async def test_request_id_is_echoed(client) -> None:  # noqa: ANN001
    resp = await client.get("/health/live", headers={"x-request-id": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"


async def test_request_id_is_generated_when_missing_or_unsafe(client) -> None:  # noqa: ANN001
    plain = await client.get("/health/live")
    assert len(plain.headers["x-request-id"]) == 32
    hostile = await client.get("/health/live", headers={"x-request-id": "evil value; drop"})
    assert hostile.headers["x-request-id"] != "evil value; drop"
    assert len(hostile.headers["x-request-id"]) == 32


async def test_unmatched_paths_get_a_request_id_too(client) -> None:  # noqa: ANN001
    resp = await client.get("/nowhere", headers={"x-request-id": "lost-1"})
    assert resp.status_code == 404
    assert resp.headers["x-request-id"] == "lost-1"
    assert resp.json()["requestId"] == "lost-1"


async def test_metrics_label_routes_by_template(client) -> None:  # noqa: ANN001
    await client.get("/schema/assets/swagger-ui.css")
    text = (await client.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})).text
    assert 'route="/schema/assets/{file_path}"' in text
    assert "swagger-ui.css" not in text
