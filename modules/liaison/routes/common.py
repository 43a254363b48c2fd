"""What the liaison routes share: one command shape (find the object locked, then act, under the Idempotency-Key)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from api.idempotency import run_once
from api.state import AppState
from auth.audit import Actor, actor_from
from auth.principal import current_principal

if TYPE_CHECKING:
    import asyncpg
    from litestar import Request, Response

    from auth.principal import Principal

__all__ = ("command", "locked", "nothing")

Find = Callable[["asyncpg.Connection", "Principal"], Awaitable[Any]]
Fetch = Callable[..., Awaitable[Any]]
Act = Callable[["asyncpg.Connection", Any, Actor, "Principal"], Awaitable[tuple[int, Any]]]


async def command(request: Request[Any, Any, Any], state: AppState, data: Any, find: Find, act: Act, *,
                  required: bool = False, kept: Callable[[Any], Any] | None = None) -> Response[Any]:
    """Find the object (locked; 404 for anyone else's) before any stored answer is replayed, then `act` in the same
    transaction under the Idempotency-Key; `act` answers (status, body). `kept`: what a retry gets instead."""
    p = current_principal(request)

    async def work(conn: asyncpg.Connection, found: Any) -> tuple[int, Any]:
        return await act(conn, found, actor_from(request, p), p)
    return await run_once(state.db, request, p.sub, data, work, required=required,
                          authorize=lambda conn: find(conn, p), kept=kept)


def locked(fetch: Fetch, item_id: Any) -> Find:
    """A finder for `command`: the item of the caller's office by `fetch(conn, id, office_id, lock=True)` (404
    for anyone else's)."""
    async def find(conn: asyncpg.Connection, p: Principal) -> Any:
        return await fetch(conn, item_id, p.office_id, lock=True)
    return find


async def nothing(conn: asyncpg.Connection, p: Principal) -> None:
    """The finder of a create: nothing to find."""
    return
