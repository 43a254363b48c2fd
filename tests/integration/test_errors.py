"""Every error a client can provoke is RFC 9457 problem+json with a stable code, never a bare 500."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.errors import PROBLEM_JSON



class Item(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    count: int


@post("/probe/items", opt={"public": True}, sync_to_thread=False)
def create_item(data: JSONBody[Item]) -> Item:
    return data


@get("/probe/boom", opt={"public": True}, sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("secret internal detail: password=hunter2")


@pytest.fixture(scope="module", name="probe_client")
async def fx_probe_client(settings):  # noqa: ANN001, ANN201
    app: Litestar = create_app(settings)
    app.register(create_item)
    app.register(boom)
    async with AsyncTestClient(app=app) as client:
        yield client


def _problem(resp, status: int, code: str) -> dict:  # noqa: ANN001
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    body = resp.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:jianwu:problem:{code}"
    assert body["title"]
    return body


async def test_unknown_path_is_404_problem(client) -> None:  # noqa: ANN001
    body = _problem(await client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert body["instance"] == "/api/v1/no-such-thing"
    assert body["requestId"]


async def test_wrong_method_is_405_problem(client) -> None:  # noqa: ANN001
    _problem(await client.delete("/health/live"), 405, "method_not_allowed")


async def test_invalid_fields_are_named(probe_client) -> None:  # noqa: ANN001
    resp = await probe_client.post("/probe/items", json={"title": 5, "count": 1})
    body = _problem(resp, 400, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["title"]


async def test_missing_field_is_named(probe_client) -> None:  # noqa: ANN001
    body = _problem(await probe_client.post("/probe/items", json={"title": "x"}), 400, "validation_failed")
    assert "count" in body["errors"][0]["message"]


async def test_malformed_json_is_400(probe_client) -> None:  # noqa: ANN001
    resp = await probe_client.post("/probe/items", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["code"] in {"validation_failed", "malformed_body"}


async def test_wrong_media_type_is_415(probe_client) -> None:  # noqa: ANN001
    resp = await probe_client.post("/probe/items", content=b"title=x", headers={"content-type": "text/plain"})
    _problem(resp, 415, "unsupported_media_type")


async def test_oversized_body_is_413(probe_client, settings) -> None:  # noqa: ANN001
    big = b'{"title": "' + b"x" * (settings.max_body_bytes + 10) + b'", "count": 1}'
    resp = await probe_client.post("/probe/items", content=big, headers={"content-type": "application/json"})
    _problem(resp, 413, "body_too_large")


async def test_unexpected_error_is_500_without_internals(probe_client) -> None:  # noqa: ANN001
    resp = await probe_client.get("/probe/boom", headers={"x-request-id": "trace-500"})
    body = _problem(resp, 500, "internal_error")
    assert "hunter2" not in resp.text and "Traceback" not in resp.text
    assert body["requestId"] == "trace-500"
