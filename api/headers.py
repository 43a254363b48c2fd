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


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")
_FRAMES_DENIED = (b"x-frame-options", b"DENY")
_NO_REFERRER = (b"referrer-policy", b"no-referrer")


def security_headers(headers: list[tuple[bytes, bytes]], scope: Any) -> None:
    """Response-start hook: add to `headers` (the answer's own list) the headers its route did not set itself."""
    nosniff = cached = False
    for name, _ in headers:  # one pass, no set: this runs on every answer
        lowered = name.lower()
        if lowered == b"x-content-type-options":
            nosniff = True
        elif lowered == b"cache-control":
            cached = True
    if not nosniff:
        headers.append(_NOSNIFF)
    # Identities, complaints and tokens must not stay in a browser's, proxy's or app's cache. Routes whose answer is
    # the same for everyone (the catalogue) set their own Cache-Control.
    if not cached and scope["path"].startswith("/api/"):
        headers.append(_NO_STORE)
    state = scope.get("state")
    csp = state.get("content_security_policy") if state else None
    if csp:
        present = {name.lower() for name, _ in headers}
        for name, value in ((b"content-security-policy", csp.encode()), _FRAMES_DENIED, _NO_REFERRER):
            if name not in present:
                headers.append((name, value))


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
