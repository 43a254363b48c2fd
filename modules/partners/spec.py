"""The partner-only OpenAPI document: the partner routes and the token endpoint, with exactly the schemas, headers
and security schemes they reference, cut from the app's own document (so the two never disagree)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ("PARTNER_PREFIX", "partner_document")

PARTNER_PREFIX = "/api/v1/partner/"
_TOKEN = "/api/v1/auth/token"


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def partner_document(app: Litestar) -> dict[str, Any]:
    """The document partner agencies' developers generate their clients from."""
    full = app.openapi_schema.to_schema()
    paths = {path: item for path, item in full["paths"].items() if path.startswith(PARTNER_PREFIX) or path == _TOKEN}
    components: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    _refs(paths, pending)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        body = full["components"][section][name]
        components.setdefault(section, {})[name] = body
        _refs(body, pending)
    components["securitySchemes"] = full["components"].get("securitySchemes", {})
    info = {**full["info"], "title": "Jianwu partner API (检警通 / 检政通 / 12345)",
            "description": "What partner agencies call: a token with client_credentials (secret or a signed "
                           "assertion), then the routes under /api/v1/partner. See docs/partners.md."}
    document = {"openapi": full["openapi"], "info": info, "paths": dict(sorted(paths.items())),
                "components": {s: dict(sorted(v.items())) for s, v in sorted(components.items())}}
    if "servers" in full:
        document["servers"] = full["servers"]
    if "tags" in full:
        document["tags"] = [t for t in full["tags"] if t.get("name") in {"partner", "auth"}]
    return document
