"""What the complaint routes of every audience share: filing, the switch check for offices known only from the
item, and the handler bodies of the public-filer and citizen twins (material, rating, review, files)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.idempotency import run_once
from api.offices import office_by_code, office_by_id
from api.state import AppState
from auth.audit import actor_from
from auth.tokens import checked_phone as phone
from modules.complaints import service
from modules.complaints.queries import category, category_by_id, public_view
from modules.complaints.schemas import CategoryField, ComplaintReceipt, MaterialIn, PublicComplaint, RatingIn, ReviewIn
from modules.kernel.files import AttachmentOut, AttachmentUpload, UploadForm, attachment_row, download, upload

if TYPE_CHECKING:
    import asyncpg
    from litestar import Request, Response

    from auth.principal import Principal

__all__ = (
    "MODULE",
    "Finder",
    "UploadForm",
    "actions",
    "add_material",
    "attach",
    "attachment",
    "file_item",
    "open_office",
    "phone",
    "rate",
    "receipt",
    "require_on",
    "review",
)

MODULE = "complaints"
# Finds the caller's item inside a transaction (locked when asked), or 404: by owner, by receipt and code.
Finder = Callable[["asyncpg.Connection", bool], Awaitable[Any]]
_fields_decoder = msgspec.json.Decoder(list[CategoryField])


async def actions(state: AppState, p: Principal) -> frozenset[str]:
    """The actions the caller's permission list grants."""
    return await state.permissions.actions_of(p)


async def require_on(state: AppState, office_id: Any) -> dict[str, Any]:
    """The module's config for an office known only from the item or the body, or 403 `module_disabled`."""
    return await state.modules.require(office_id, MODULE)


async def open_office(state: AppState, conn: asyncpg.Connection, code: str) -> Any:
    """An office by code that has the module on (404 for no such office, 403 when it is off)."""
    office = await office_by_code(conn, code)
    await require_on(state, office["id"])
    return office


def receipt(row: Any, query_code: str | None) -> ComplaintReceipt:
    """The answer to a filing."""
    return ComplaintReceipt(id=row["id"], receipt_no=row["receipt_no"], state=row["state"],
                            created_at=row["created_at"], query_code=query_code)


async def file_item(state: AppState, request: Request[Any, Any, Any], conn: asyncpg.Connection, data: Any, *,
                    principal: Principal | None, reporter: service.Reporter,
                    channel: str) -> tuple[int, ComplaintReceipt]:
    """File an item with the office the body names (public, citizens) or the caller's own (staff)."""
    if hasattr(data, "office"):
        office = await office_by_code(conn, data.office)
    else:
        office = await office_by_id(conn, principal.office_id)  # type: ignore[union-attr, arg-type]  # staff have an office
    config = await require_on(state, office["id"])
    cat = await category(conn, office["id"], data.category)
    fields = service.check_fields(_fields_decoder.decode(msgspec.json.encode(cat["fields"])), data.fields)
    citizen = principal if principal is not None and principal.kind == "citizen" else None
    row, code = await service.create(
        conn, state.box, actor_from(request, principal), office=office, category=cat, title=data.title,
        body=data.body, location=data.location, persons=msgspec.to_builtins(data.persons_reported), fields=fields,
        channel=channel, reporter=reporter, complainant_id=citizen.user_id if citizen else None,
        created_by=principal.user_id if principal is not None and principal.kind == "staff" else None,
        received_at=service.check_received_at(getattr(data, "received_at", None),
                                              state.settings.received_at_max_days),
        clock_overrides=config.get("clocks"),
    )
    return HTTP_201_CREATED, receipt(row, code)


# The twins: the same handling whether the complainant signed in or follows the item with its query code.

async def add_material(state: AppState, request: Request[Any, Any, Any], p: Principal | None, scope: str, find: Finder,
                       data: MaterialIn) -> Response[PublicComplaint]:
    """More material (Idempotency-Key required); an item waiting for it goes back to triage."""
    async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, PublicComplaint]:
        row = await service.add_material(conn, actor_from(request, p), row, text=data.text)
        return 201, await public_view(conn, row)
    return await run_once(state.db, request, scope, data, work, authorize=lambda conn: find(conn, True))


async def rate(state: AppState, request: Request[Any, Any, Any], p: Principal | None, find: Finder,
               data: RatingIn) -> PublicComplaint:
    """1 to 5 and a comment, once, after closure."""
    async with state.db.transaction() as conn:
        row = await find(conn, True)
        row = await service.rate(conn, actor_from(request, p), row, score=data.score, comment=data.comment)
        return await public_view(conn, row)


async def review(state: AppState, request: Request[Any, Any, Any], p: Principal | None, scope: str, find: Finder,
                 data: ReviewIn, query_code: str | None) -> Response[ComplaintReceipt]:
    """A review 复查 (or 复核 of a review) as a linked item, followed like the first (Idempotency-Key required)."""
    async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, ComplaintReceipt]:
        # 复查 and 复核 are for the organ one level up (信访工作条例 Art. 35, 36), where it runs this module.
        office = await office_by_id(conn, row["office_id"])
        if office["parent_id"] is not None and (await state.modules.get(office["parent_id"], MODULE))[0]:
            office = await office_by_id(conn, office["parent_id"])
        new = await service.request_review(conn, state.box, actor_from(request, p), row, data.reason, office,
                                           await category_by_id(conn, row["category_id"]), query_code=query_code)
        return 201, receipt(new, None)
    return await run_once(state.db, request, scope, data, work, authorize=lambda conn: find(conn, True))


async def attach(state: AppState, request: Request[Any, Any, Any], p: Principal | None, scope: str, find: Finder,
                 form: AttachmentUpload) -> Response[AttachmentOut]:
    """A public-side upload onto the caller's item."""
    async with state.db.connection() as conn:
        row = await find(conn, False)
    return await upload(state, request, form, subject=service.SUBJECT, scope=scope, principal=p, row=row,
                        public=True, relock=lambda conn: find(conn, True))


async def attachment(state: AppState, request: Request[Any, Any, Any], find: Finder, attachment_id: Any) -> Stream:
    """The public copy of one of the item's files (never one staff attached)."""
    async with state.db.connection() as conn:
        row = await find(conn, False)
        att = await attachment_row(conn, row["id"], attachment_id, public=True)
    return await download(state, request, att, original=False)  # type: ignore[return-value]  # download() answers a Stream; the route declares it for the spec's binary body
