"""OpenAPI configuration and a docs page whose every asset is served by us (the intranet has no internet)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIType,
    Operation,
    Schema,
    SecurityScheme,
    Server,
)
from litestar.static_files import create_static_files_router

if TYPE_CHECKING:
    from litestar import Request

from api.idempotency import HEADER_DOC

if TYPE_CHECKING:
    from litestar import Litestar, Request

__all__ = ("OPENAPI_DIR", "VERSION", "declare_operations", "docs_assets_router", "openapi_config")

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
        request.scope.setdefault("state", {})["content_security_policy"] = (
            f"default-src 'none'; script-src 'self' 'sha256-{digest}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{openapi_schema["info"]["title"]} API</title>
{self.favicon}<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css"></head>
<body><div id="ui"></div><script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script>{script}</script></body></html>""".encode()


# Litestar names a generic struct's schema after its repr (`Page_modules.complaints.schemas.ListItem_`), which
# generators turn into unreadable types; `Page[ListItem]` is published as `ListItemPage` instead.
_GENERIC_NAME = re.compile(r"^(\w+)_(?:\w+\.)*(\w+)_$")


def _clean_names(document: dict[str, Any]) -> dict[str, Any]:
    """Rename generic schemas in `components/schemas` and every `$ref` to them."""
    schemas = document.get("components", {}).get("schemas", {})
    renamed = {name: f"{m[2]}{m[1]}" for name in schemas if (m := _GENERIC_NAME.match(name))}
    if not renamed:
        return document
    clashes = set(renamed.values()) & set(schemas)
    if clashes or len(set(renamed.values())) != len(renamed):
        raise RuntimeError(f"generic schema names clash: {sorted(renamed.values())}")
    refs = {f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renamed.items()}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: refs.get(v, v) if k == "$ref" else walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    document = walk(document)
    document["components"]["schemas"] = dict(sorted(
        (renamed.get(name, name), schema) for name, schema in document["components"]["schemas"].items()))
    return document


# Struct types published as the alternatives of a request body (opt["body_variants"]), added to the components.
_VARIANTS: dict[str, type] = {}


def _add_variants(document: dict[str, Any]) -> dict[str, Any]:
    """Put the body alternatives' schemas in the components, and drop a schema no operation refers to any more
    (the lenient form a variant body replaced in the document)."""
    if not _VARIANTS:
        return document
    _, components = msgspec.json.schema_components(list(_VARIANTS.values()), ref_template="#/components/schemas/{name}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for component in components.values():
        for prop in component.get("properties", {}).values():
            if "enum" in prop and "type" not in prop:  # msgspec leaves a Literal's type implicit; generators want it
                prop["type"] = "string"
    schemas.update(components)
    text = msgspec.json.encode(document).decode()
    for name in [n for n in schemas if n not in components]:
        if f'"#/components/schemas/{name}"' not in text and name in _REPLACED:
            del schemas[name]
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


_REPLACED: set[str] = set()


def _literal(struct: type, field: str) -> str:
    """The one value a variant's discriminating field may take (a Literal)."""
    info = msgspec.inspect.type_info(struct)
    [value] = next(f.type for f in info.fields if f.name == field).values  # type: ignore[attr-defined]  # the field's type is a msgspec Literal type info, which has .values
    return str(value)


def _close_sets(document: dict[str, Any]) -> dict[str, Any]:
    """Publish each closed set of `api.enums.CLOSED_SETS` as an enum on its property (on the items of a list, on
    the string member of a nullable), so generated clients get enums the catalogues keep current."""
    from api.enums import CLOSED_SETS

    schemas = document.get("components", {}).get("schemas", {})
    for (schema, prop), values in CLOSED_SETS.items():
        node = schemas.get(schema, {}).get("properties", {}).get(prop)
        if node is None:
            continue  # a schema no route uses (yet): nothing to publish
        for target in (node, *node.get("oneOf", ())):
            target = target.get("items", target)
            if target.get("type") == "string":
                target["enum"] = sorted(set(values()))
    return document


class _Document(OpenAPI):
    """The OpenAPI object Litestar builds, written out with clean generic names and closed sets as enums."""

    def to_schema(self) -> dict[str, Any]:
        return _close_sets(_add_variants(_clean_names(super().to_schema())))


class _Config(OpenAPIConfig):
    def to_openapi_schema(self) -> OpenAPI:
        document = super().to_openapi_schema()
        document.__class__ = _Document
        return document


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI 3.1 document's metadata, security schemes and the docs UI."""
    return _Config(
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
            headers={name: OpenAPIHeader(description=text, schema=Schema(type=OpenAPIType.STRING, **extra))
                     for name, (text, extra) in _HEADERS.items()},
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


# What the server sends, declared once (components/headers) so every operation's spec can name it: the request id
# (api/observability.py), a replayed answer (api/idempotency.py), rate limits (auth/ratelimit.py), entity tags.
_HEADERS: dict[str, tuple[str, dict[str, Any]]] = {
    "X-Request-ID": ("The request's id (yours when you sent a sane one); quote it when reporting a problem.", {}),
    "Idempotent-Replayed": (("`true` when this is the stored answer to an earlier request with the same "
                             "Idempotency-Key."), {"enum": ["true"]}),
    "Retry-After": ("Seconds to wait before trying again.", {"pattern": "^[0-9]+$"}),
    "RateLimit-Limit": ("Requests allowed in the window.", {"pattern": "^[0-9]+$"}),
    "RateLimit-Remaining": ("Requests left in the window.", {"pattern": "^[0-9]+$"}),
    "RateLimit-Reset": ("Seconds until the window starts again.", {"pattern": "^[0-9]+$"}),
    "ETag": ("The entity tag: send it back in If-None-Match to get a 304 while it is current.", {}),
    "Cache-Control": ("How long the answer may be kept.", {}),
    "Location": ("The path of what was created.", {}),
}
_IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "description": HEADER_DOC, "schema": {
    "type": "string", "minLength": 8, "maxLength": 200, "pattern": "^[A-Za-z0-9._:-]{8,200}$"}}


def _refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _plain_query_parameters(document: dict[str, Any]) -> None:
    """A query parameter is left out or given, never null: drop the `null` alternative Litestar writes for an
    optional one (generators turn it into awkward nullable wrappers), and publish closed sets as enums."""
    from api.enums import QUERY_SETS

    for param in document.get("parameters", ()):
        schema = param.get("schema", {})
        if param.get("in") != "query":
            continue
        alternatives = [s for s in schema.get("oneOf", ()) if s.get("type") != "null"]
        if "oneOf" in schema and len(alternatives) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "oneOf"}, **alternatives[0]}
        if isinstance(schema.get("type"), list) and "null" in schema["type"]:
            [schema["type"]] = [t for t in schema["type"] if t != "null"]
            if "enum" in schema:
                schema["enum"] = [v for v in schema["enum"] if v is not None]
        if param["name"] in QUERY_SETS:
            target = schema.get("items", schema)
            target["enum"] = sorted(set(QUERY_SETS[param["name"]]()))
        param["schema"] = schema


def _declare(document: dict[str, Any], opt: dict[str, Any]) -> dict[str, Any]:
    """Add to one operation's document what the route's opt says and the server sends: the Idempotency-Key
    parameter, the permission action, and the response headers."""
    _plain_query_parameters(document)
    idempotency, action = opt.get("idempotency"), opt.get("action")
    if idempotency:
        params = [p for p in document.get("parameters", []) if p.get("name") != "Idempotency-Key"]
        document["parameters"] = [{**_IDEMPOTENCY_KEY, "required": idempotency == "required"}, *params]
    if isinstance(action, str):
        document["x-jianwu-action"] = action
        sentence = f"Permission action: `{action}`."
        if sentence not in document.get("description", ""):
            document["description"] = f"{document.get('description', '').rstrip()}\n\n{sentence}".lstrip()
    variants, discriminator = opt.get("body_variants") or ((), "")
    for content in document.get("requestBody", {}).get("content", {}).values() if variants else ():
        _REPLACED.add(content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1])
        _VARIANTS.update({v.__name__: v for v in variants})
        content["schema"] = {
            "oneOf": [{"$ref": f"#/components/schemas/{v.__name__}"} for v in variants],
            "discriminator": {"propertyName": discriminator, "mapping": {
                _literal(v, discriminator): f"#/components/schemas/{v.__name__}" for v in variants}}}
    responses: dict[str, Any] = document.get("responses", {})
    cached = "304" in responses
    for status, response in responses.items():
        if "$ref" in response:
            continue
        headers = _refs("X-Request-ID")
        if status.startswith("2") and idempotency:
            headers |= _refs("Idempotent-Replayed")
        if status == "201" and opt.get("location"):
            headers |= _refs("Location")
        if cached and status in ("200", "304"):
            headers |= _refs("ETag", "Cache-Control")
        if status == "429" or (status == "409" and idempotency):
            headers |= _refs("Retry-After")
        if status == "429":
            headers |= _refs("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
        response["headers"] = {**response.get("headers", {}), **headers}
    return document


def _operation_class(base: type[Operation], opt: dict[str, Any]) -> type[Operation]:
    """The route's own operation class, with `_declare` applied when the document is written."""

    def to_schema(self: Operation) -> dict[str, Any]:
        return _declare(base.to_schema(self), opt)

    return type(base.__name__, (base,), {"to_schema": to_schema, "__doc__": base.__doc__})


def declare_operations(app: Litestar) -> None:
    """Make every documented operation declare what its route requires and sends (see `_declare`); the spec is
    built lazily, so setting each handler's operation class here, after registration, is in time."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if getattr(handler, "include_in_schema", False) and hasattr(handler, "operation_class"):
                handler.operation_class = _operation_class(handler.operation_class, dict(handler.opt))
