"""The OpenAPI document as the code produces it, and its committed copy under openapi/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from api.docs import OPENAPI_DIR

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ("COMMITTED", "export", "render")

COMMITTED = OPENAPI_DIR / "openapi.json"


def render(app: Litestar) -> bytes:
    """The document, with stable key order and indentation so diffs stay readable."""
    document = app.openapi_schema.to_schema()
    return msgspec.json.format(msgspec.json.encode(document, order="sorted"), indent=2) + b"\n"


def export(app: Litestar, output: str | None = None) -> Path:
    """Write the document to `output` (default: the committed copy)."""
    path = Path(output) if output else COMMITTED
    path.write_bytes(render(app))
    return path
