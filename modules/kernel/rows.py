"""Typed access to the subject rows handlers read. asyncpg answers Records, whose columns mypy sees as Any; this
Protocol names the columns every subject table has, so `row["id"]` is a UUID to the checker. It is an annotation
only: the row stays the Record asyncpg answered, nothing is converted or copied per request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from uuid import UUID

__all__ = ("SubjectRow",)


class SubjectRow(Protocol):
    """A subject's row (a complaint, clue, case, suggestion, invitation, document ...) as asyncpg answers it: `id`
    and `office_id` are UUIDs, `state` is text, `created_at` and `updated_at` are times (every subject table has
    them, see modules.kernel.steps.Subject); any other column by name is Any."""

    @overload
    def __getitem__(self, key: Literal["id", "office_id"]) -> UUID: ...
    @overload
    def __getitem__(self, key: Literal["state"]) -> str: ...
    @overload
    def __getitem__(self, key: Literal["created_at", "updated_at"]) -> datetime: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def keys(self) -> Iterator[str]:
        """The column names (what `{**row}` reads)."""
