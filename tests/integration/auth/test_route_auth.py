"""Every route makes an explicit auth decision: public ones are listed (auth/public.py and the module manifests),
every other demands a token."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from auth.actions import ACTIONS, AUTHENTICATED
from modules.registry import public_routes


def _handlers(app):  # noqa: ANN001, ANN202
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method == "OPTIONS":
                    continue
                yield method, route.path_format if "{" not in route.path else route.path, handler


def _concrete(path: str) -> str:
    # Fill path parameters with values of the right shape, so the request reaches the guard.
    path = re.sub(r"\{[^}:]+:uuid\}", "00000000-0000-4000-8000-000000000000", path)
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x", path)


def test_public_list_matches_the_routes(app) -> None:  # noqa: ANN001
    public = {(m, p) for m, p, h in _handlers(app) if h.opt.get("public")}
    assert public == set(public_routes())


def test_every_other_route_names_a_known_action(app) -> None:  # noqa: ANN001
    for method, path, handler in _handlers(app):
        if handler.opt.get("public"):
            continue
        action = handler.opt.get("action")
        assert action, f"{method} {path} makes no auth decision"
        assert action == AUTHENTICATED or action in ACTIONS, f"{method} {path} names unknown action {action}"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_every_protected_route_refuses_without_a_valid_token(app, client, headers) -> None:  # noqa: ANN001
    checked = 0
    for method, path, handler in _handlers(app):
        if handler.opt.get("public"):
            continue
        resp = await client.request(method, _concrete(path), headers=headers)
        assert resp.status_code == 401, f"{method} {path} answered {resp.status_code}"
        assert resp.headers["content-type"].startswith("application/problem+json")
        checked += 1
    assert checked >= 10
