"""A nesting limit for JSON bodies: the decoder recurses once per level, so a deep enough body would end in a
RecursionError (HTTP 500) before any schema is checked."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from api.errors import ErrorCode, ProblemError

if TYPE_CHECKING:
    from litestar import Request

__all__ = ("MAX_DEPTH", "json_depth", "refuse_deep_json")

MAX_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") == 0:
        return 0
    deepest = depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKET):
        if byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


async def refuse_deep_json(request: Request[Any, Any, Any]) -> None:
    """400 for a JSON body nested deeper than MAX_DEPTH; the body read here is kept for the handler."""
    body = await request.body()
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and json_depth(body) > MAX_DEPTH:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, f"JSON nested deeper than {MAX_DEPTH} levels.",
                           errors=[{"field": "body", "message": f"at most {MAX_DEPTH} levels of nesting",
                                    "source": "body"}])
