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


def _sample(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


async def test_metrics_count_every_request_at_the_next_scrape(client) -> None:  # noqa: ANN001
    # Requests are tallied in the worker's memory; a scrape writes them out first, so none is missing or late.
    scrape = {"Authorization": "Bearer scrape-token-for-tests"}
    count = 'jianwu_http_requests_total{method="GET",route="/health/live",status="200"}'
    fast = 'jianwu_http_request_duration_seconds_bucket{le="10.0",method="GET",route="/health/live"}'
    before = (await client.get("/metrics", headers=scrape)).text
    for _ in range(7):
        await client.get("/health/live")
    after = (await client.get("/metrics", headers=scrape)).text
    assert _sample(after, count) - _sample(before, count) == 7
    assert _sample(after, fast) - _sample(before, fast) == 7
