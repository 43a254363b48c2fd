"""Headers every answer carries: no MIME sniffing, no caching of API answers (they carry personal data) unless a
route says otherwise, and a content security policy with frame protection on pages a browser renders."""

from __future__ import annotations

from typing import Any

__all__ = ("security_headers",)


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
