"""Every core route anyone may call without a token. Modules list theirs in their manifests; a test keeps the union
(`modules.registry.public_routes`) and the routes in step."""

from __future__ import annotations

__all__ = ("PUBLIC_ROUTES",)

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/otp"),
    ("POST", "/api/v1/auth/sso/start"),  # single sign-on (404 unless configured), before anyone is signed in
    ("GET", "/api/v1/offices"),
    # The OpenAPI document and its docs UI (assets are our own vendored files).
    ("GET", "/schema"),
    ("GET", "/schema/docs"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/schema/{path:str}"),  # Litestar's catch-all under /schema: answers 404 for unknown pages
    ("GET", "/schema/assets/{file_path:path}"),
    ("HEAD", "/schema/assets/{file_path:path}"),
    # The admin console's sign-in form and its vendored assets; its other pages need a console session
    # (api/console/session.py), whose access token the app-wide guard checks as it checks any other.
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/console/assets/{file_path:path}"),
    ("HEAD", "/console/assets/{file_path:path}"),
})
