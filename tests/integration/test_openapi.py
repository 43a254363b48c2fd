"""The OpenAPI document is a contract: committed, complete, and its docs page loads nothing from outside."""

from __future__ import annotations

import re

from api.spec import COMMITTED, render

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
_EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?\s*(?:https?:)?//""", re.I)


def test_committed_spec_matches_code(app) -> None:  # noqa: ANN001
    assert COMMITTED.exists(), "run `make openapi` and commit openapi/openapi.json"
    assert COMMITTED.read_bytes() == render(app), "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_schema_names_are_plain(app) -> None:  # noqa: ANN001
    """Two modules naming a struct alike get module-qualified names (`partners_schemas_ContactOut`) that
    generators mangle: every schema keeps a plain name of its own."""
    names = app.openapi_schema.to_schema()["components"]["schemas"]
    assert [n for n in names if not n.isidentifier() or "_" in n] == []


def test_every_operation_is_documented(app) -> None:  # noqa: ANN001
    schema = app.openapi_schema.to_schema()
    assert schema["openapi"].startswith("3.1")
    seen = set()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in _HTTP_METHODS:
                continue
            where = f"{method.upper()} {path}"
            assert op.get("operationId"), f"{where} has no operationId"
            assert op["operationId"] not in seen, f"{where} repeats operationId {op['operationId']}"
            seen.add(op["operationId"])
            assert op.get("summary"), f"{where} has no summary"
            assert op.get("tags"), f"{where} has no tags"
            responses = op.get("responses", {})
            for status in ("500", "503"):
                assert status in responses, f"{where} does not document {status}"
                assert "application/problem+json" in responses[status]["content"], f"{where} {status} not problem+json"
            for status, response in responses.items():
                # Every error is problem+json; a route that leaves a status out of `problem_docs` gets Litestar's
                # default application/json body documented instead (found by the API fuzzing, tests/fuzz).
                if int(status) >= 400:
                    assert list(response.get("content", {})) == ["application/problem+json"], \
                        f"{where} documents {status} as {list(response.get('content', {}))}; add it to problem_docs"


def _operations(app):  # noqa: ANN001, ANN202
    """(handler opt, operation document) for every documented route handler and method."""
    schema = app.openapi_schema.to_schema()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            item = schema["paths"].get(route.path_format)
            for method in getattr(handler, "http_methods", ()):
                if item and method.lower() in item:
                    yield handler.opt, item[method.lower()]


def test_idempotency_key_and_action_are_declared(app) -> None:  # noqa: ANN001
    """App teams generate clients from the spec: a required header missing there is an argument missing there."""
    required = set()
    for opt, op in _operations(app):
        keys = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if opt.get("idempotency"):
            assert len(keys) == 1 and keys[0]["in"] == "header", op["operationId"]
            assert keys[0]["required"] is (opt["idempotency"] == "required"), op["operationId"]
            if keys[0]["required"]:
                required.add(op["operationId"])
            for status, response in op["responses"].items():
                if status.startswith("2"):
                    assert "Idempotent-Replayed" in response["headers"], op["operationId"]
        else:
            assert not keys, op["operationId"]
        if isinstance(opt.get("action"), str):
            assert op["x-jianwu-action"] == opt["action"]
            assert f"`{opt['action']}`" in op["description"], op["operationId"]
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"], (op["operationId"], status)
            if status == "429":
                assert {"Retry-After", "RateLimit-Remaining"} <= set(response["headers"]), op["operationId"]
    # The creates the server refuses without a key (tests/integration/complaints/test_idempotency_and_lists.py).
    assert {"complaintFileAnonymous", "complaintFile", "complaintFileForVisitor", "complaintNote", "complaintReply",
            "complaintAttach", "adminCreateUser", "adminCreateOffice"} <= required


def test_types_apps_build_on(app) -> None:  # noqa: ANN001
    """Clean names for generic pages, enums for closed sets, typed catalog fields and problem errors."""
    schema = app.openapi_schema.to_schema()
    names = set(schema["components"]["schemas"])
    assert "ListItemPage" in names and not [n for n in names if "." in n], sorted(names)
    item = schema["components"]["schemas"]["ListItem"]["properties"]
    assert "closed" in item["state"]["enum"] and "hotline" in item["channel"]["enum"]
    fields = schema["components"]["schemas"]["CategoryOut"]["properties"]["fields"]
    assert fields["items"] == {"$ref": "#/components/schemas/CategoryField"}
    params = {p["name"]: p for p in schema["paths"]["/api/v1/staff/complaints"]["get"]["parameters"]}
    assert "in_progress" in str(params["state"]["schema"]) and "receiptNo" in params


async def test_spec_served_as_json(client) -> None:  # noqa: ANN001
    resp = await client.get("/schema/openapi.json")
    assert resp.status_code == 200
    assert resp.json()["info"]["title"] == "Jianwu"


async def test_docs_page_loads_only_our_own_assets(client) -> None:  # noqa: ANN001
    resp = await client.get("/schema")
    assert resp.status_code == 200
    page = resp.text
    assert not _EXTERNAL.search(page), "docs page references an external URL"
    assets = re.findall(r"""(?:src|href)="(/[^"]+)\"""", page)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        got = await client.get(asset)
        assert got.status_code == 200, asset
        assert len(got.content) > 1000, asset
