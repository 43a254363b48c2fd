"""The file name a client declared, made safe to store and show: a label only, never used to find or type a file."""

from __future__ import annotations

import re
import unicodedata

__all__ = ("MAX_NAME_CHARS", "sanitize_name")

MAX_NAME_CHARS = 200
# Control (Cc), format (Cf: bidi overrides that disguise "gpj.exe" as "exe.jpg", zero-width marks), lone
# surrogates (Cs: not encodable as UTF-8 for PostgreSQL) and line/paragraph separators (Zl, Zp).
_DROP = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")


def sanitize_name(declared: str | None) -> str | None:
    """The last path part of the declared name, NFC, without control characters, at most 200 characters; or None."""
    if declared is None:
        return None
    # Both separators: Windows clients send "C:\\Users\\...\\photo.jpg".
    base = re.split(r"[/\\]", declared)[-1]
    cleaned = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c) not in _DROP)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if cleaned in ("", ".", ".."):
        return None
    return cleaned[:MAX_NAME_CHARS].rstrip() or None
