"""Headers every answer carries: no MIME sniffing, no caching of API answers (they carry personal data) unless a
route says otherwise, and a content security policy with frame protection on pages a browser renders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from litestar import Request

from litestar.openapi import ResponseSpec

__all__ = ("NOT_MODIFIED", "created_location", "matches_etag", "security_headers")

# 304 is no error, so problem_docs does not know it; routes that send an ETag add it beside their problem statuses.
NOT_MODIFIED = {304: ResponseSpec(data_container=None, description="Not modified (`If-None-Match` matched the ETag).")}


async def security_headers(message: Any, scope: Any) -> None:
    """before_send hook: add the headers a route did not set itself."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}

    def add(name: bytes, value: str) -> None:
        if name not in present:
            headers.append((name, value.encode()))

    add(b"x-content-type-options", "nosniff")
    if scope.get("path", "").startswith("/api/"):
        # Identities, complaints and tokens must not stay in a browser's, proxy's or app's cache. Routes whose
        # answer is the same for everyone (the catalogue) set their own Cache-Control.
        add(b"cache-control", "no-store")
    csp = scope.get("state", {}).get("content_security_policy")
    if csp:
        add(b"content-security-policy", csp)
        add(b"x-frame-options", "DENY")
        add(b"referrer-policy", "no-referrer")
    message["headers"] = headers


def matches_etag(request: Request[Any, Any, Any], etag: str) -> bool:
    """Whether the request's If-None-Match names `etag` (or `*`), so a 304 answers it (weak tags compare equal)."""
    match = request.headers.get("if-none-match")
    if not match:
        return False
    return match.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in match.split(",")]


def created_location(request: Request[Any, Any, Any], body: Any) -> dict[str, str]:
    """The Location header of a 201: the route's `opt["location"]` template (the API path of what was created),
    filled from the path parameters and the answer's fields (wire names); no header when the route has none."""
    template = request.route_handler.opt.get("location")
    if not template:
        return {}
    fields = body if isinstance(body, dict) else msgspec.to_builtins(body)
    return {"Location": template.format_map({**request.path_params, **fields})}
