"""What the staff routes of clues and cases share: one command shape (find and lock the item, act, answer its
view, under the Idempotency-Key) and the upload form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.idempotency import run_once
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.kernel.files import AttachmentUpload, attachment_row, download, upload

if TYPE_CHECKING:
    import asyncpg
    from litestar import Request, Response

    from auth.audit import Actor
    from modules.kernel.steps import Subject

__all__ = ("UploadForm", "actions", "attach", "command", "original")

UploadForm = Annotated[AttachmentUpload, Body(media_type=RequestEncodingType.MULTI_PART,
                                              description="One file in the form field `file`.")]
# Finds an item of an office: (conn, id, office_id, lock=...), 404 for anything else.
Finder = Callable[..., Awaitable[Any]]


async def actions(request: Request[Any, Any, Any]) -> frozenset[str]:
    """The actions the caller's permission list grants."""
    return await request.app.state.permissions.actions_of(current_principal(request))


async def command(
    request: Request[Any, Any, Any], state: AppState, item_id: UUID, data: Any, *, find: Finder,
    act: Callable[[asyncpg.Connection, Any, Actor, frozenset[str]], Awaitable[Any]],
    view: Callable[[asyncpg.Connection, Any, frozenset[str]], Awaitable[Any]], status: int = 200,
    required: bool = False,
) -> Response[Any]:
    """Find the caller's office's item (locked; 404 otherwise), carry out `act(conn, row, actor, actions)` and answer
    the item as it then stands, in one transaction under the Idempotency-Key."""
    p = current_principal(request)
    granted = await actions(request)

    async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, Any]:
        row = await act(conn, row, actor_from(request, p), granted) or row
        return status, await view(conn, row, granted)
    return await run_once(state.db, request, p.sub, data, work, required=required,
                          authorize=lambda conn: find(conn, item_id, p.office_id, lock=True))


async def attach(request: Request[Any, Any, Any], state: AppState, data: AttachmentUpload, *, subject: Subject,
                 find: Finder, item_id: UUID) -> Response[Any]:
    """A staff upload to an item of the caller's office, through the kernel's files flow (internal to staff)."""
    p = current_principal(request)
    async with state.db.connection() as conn:
        row = await find(conn, item_id, p.office_id)
    return await upload(state, request, data, subject=subject, scope=p.sub, principal=p, row=row, public=False,
                        relock=lambda conn: find(conn, item_id, p.office_id, lock=True))


async def original(request: Request[Any, Any, Any], state: AppState, *, find: Finder, item_id: UUID,
                   attachment_id: UUID) -> Any:
    """A file of an item of the caller's office, exactly as received (EXIF and location kept: evidence)."""
    async with state.db.connection() as conn:
        row = await find(conn, item_id, current_principal(request).office_id)
        att = await attachment_row(conn, row["id"], attachment_id, public=False)
    return await download(state, request, att, original=True)
