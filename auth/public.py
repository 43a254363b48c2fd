"""Every route anyone may call without a token, in one place. A test keeps this list and the routes in step."""

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
    # Complaints without an account: the catalog, anonymous filing, and following an item with its query code.
    ("GET", "/api/v1/offices/{office:str}/complaint-catalog"),
    ("POST", "/api/v1/public/complaints"),
    ("GET", "/api/v1/public/complaints/{receipt_no:str}"),
    ("POST", "/api/v1/public/complaints/{receipt_no:str}/materials"),
    ("POST", "/api/v1/public/complaints/{receipt_no:str}/rating"),
    ("POST", "/api/v1/public/complaints/{receipt_no:str}/reviews"),
    # Attachments without an account, with the query code like the routes above: upload, and the public copy.
    ("POST", "/api/v1/public/complaints/{receipt_no:str}/attachments"),
    ("GET", "/api/v1/public/complaints/{receipt_no:str}/attachments/{attachment_id:uuid}"),
    # The OpenAPI document and its docs UI (assets are our own vendored files).
    ("GET", "/schema"),
    ("GET", "/schema/docs"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/schema/{path:str}"),  # Litestar's catch-all under /schema: answers 404 for unknown pages
    ("GET", "/schema/assets/{file_path:path}"),
    ("HEAD", "/schema/assets/{file_path:path}"),
})
