"""OpenAPI configuration and a docs page whose every asset is served by us (the intranet has no internet)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.static_files import create_static_files_router

if TYPE_CHECKING:
    from litestar import Request

__all__ = ("OPENAPI_DIR", "VERSION", "docs_assets_router", "openapi_config")

VERSION = "0.1.0"
# In a checkout the folder sits beside api/; an installed image names it with JIANWU_OPENAPI_DIR.
OPENAPI_DIR = Path(os.environ.get("JIANWU_OPENAPI_DIR") or Path(__file__).resolve().parent.parent / "openapi")
ASSETS_PATH = "/schema/assets"


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI from our own copy of its files; no CDN, no validator call, no external fonts."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/docs"], favicon="<link rel='icon' href='data:,'>")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The HTML page of the docs UI."""
        spec = self.get_openapi_json_route(request)
        script = (f'window.ui = SwaggerUIBundle({{url: "{spec}", dom_id: "#ui", deepLinking: true,\n'
                  "validatorUrl: null, tryItOutEnabled: false});")
        # Only our own files and this one inline script may run; no page may frame the docs (api/headers.py).
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        request.scope.setdefault("state", {})["content_security_policy"] = (  # type: ignore[typeddict-item]
            f"default-src 'none'; script-src 'self' 'sha256-{digest}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{openapi_schema["info"]["title"]} API</title>
{self.favicon}<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css"></head>
<body><div id="ui"></div><script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script>{script}</script></body></html>""".encode()


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI 3.1 document's metadata, security schemes and the docs UI."""
    return OpenAPIConfig(
        title="Jianwu",
        version=VERSION,
        description=(
            "Mobile backend for field procuratorial work: complaints, public-interest litigation and liaison "
            "with deputies and members. Every error is RFC 9457 problem+json with a stable `code`."
        ),
        # The schema and docs UI are public: partner developers read them before they have credentials.
        openapi_router=Router(path="/schema", route_handlers=[], opt={"public": True}, include_in_schema=False),
        render_plugins=[LocalSwaggerPlugin()],
        servers=[Server(url="/")],
        use_handler_docstrings=True,
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT",
                                         description="Access token from POST /api/v1/auth/token."),
            }
        ),
        create_examples=False,
    )


def docs_assets_router() -> Router:
    """Serve the vendored docs UI files."""
    return create_static_files_router(
        path=ASSETS_PATH, directories=[OPENAPI_DIR / "ui"], include_in_schema=False, opt={"public": True},
        name="docs-assets",
    )
