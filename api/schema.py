"""Base classes for what crosses the wire: camelCase names, unknown input fields refused."""

from __future__ import annotations

import msgspec

__all__ = ("Input", "Output")


class Input(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """A request body: camelCase on the wire; a misspelled field is an error, not silently dropped."""


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """A response body: camelCase on the wire."""
