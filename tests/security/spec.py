"""The operations of the app's own OpenAPI document, for tests that walk every route (a new route is covered
without a new test), and a way to fill their path parameters."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ("Operation", "operations")


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the spec describes it."""

    method: str
    path: str
    spec: dict[str, Any]

    @property
    def public(self) -> bool:
        """Callable without a token."""
        return not self.spec.get("security")

    def params(self, where: str) -> list[dict[str, Any]]:
        """Its parameters in `query`, `header` or `path`."""
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    def url(self, **values: str) -> str:
        """The path with each parameter filled: from `values`, else a well-formed value that names nothing."""
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            schema = next((p.get("schema", {}) for p in self.params("path") if p["name"] == name), {})
            if schema.get("format") == "uuid":
                return str(uuid.uuid4())
            return "1" if schema.get("type") == "integer" else "x"
        return re.sub(r"\{([^}]+)\}", fill, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: Any) -> list[Operation]:
    """Every operation of the app's OpenAPI document, read from the app itself."""
    spec = app.openapi_schema.to_schema()
    return [Operation(method.upper(), path, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
