"""The register of deputies and members, their contact history, their sign-ins, and the contact cadence view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.offices import office_by_id
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.accounts import AccountCreated, one_time_passwords, send_one_time_password
from auth.principal import current_principal
from modules.clocks.store import today
from modules.liaison import queries, register
from modules.liaison.routes.common import command, locked, nothing
from modules.liaison.schemas import (
    CadenceOut,
    ContactRecordIn,
    ContactRecordOut,
    LiaisonStats,
    RepKind,
    RepresentativeIn,
    RepresentativeOut,
    RepresentativeUpdate,
)
from modules.registry import module_config

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor
    from auth.principal import Principal

__all__ = ("AccountFor", "RegisterController")


class AccountFor(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """The username of the representative's new sign-in (name, kind and phone come from the register)."""

    username: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]


async def _may_see(state: AppState, p: Principal) -> bool:
    return "liaison.contact.view" in await state.permissions.actions_of(p)


class RegisterController(Controller):
    """The office's register of deputies and members. Another office's entries answer 404."""

    path = "/staff/liaison"
    tags = ["liaison"]
    security = [{"bearer": []}]

    @post("/representatives", operation_id="liaisonRepresentativeAdd", summary="Add a deputy or member",
          opt={"location": "/api/v1/staff/liaison/representatives/{id}",
               "action": "liaison.register.manage", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 422), status_code=HTTP_201_CREATED)
    async def add(self, request: Request[Any, Any, Any], state: AppState,
                  data: JSONBody[RepresentativeIn]) -> Response[RepresentativeOut]:
        """Contact details are stored encrypted (Idempotency-Key required)."""
        may_see = await _may_see(state, current_principal(request))

        async def act(conn: asyncpg.Connection, _: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row = await register.add(conn, state.box, actor, p.office, data)
            return 201, queries.representative_out(state.box, row, may_see=may_see)
        return await command(request, state, data, nothing, act, required=True)

    @get("/representatives", operation_id="liaisonRepresentativeList", summary="The register",
         opt={"action": "liaison.read"}, responses=problem_docs(400, 401, 403))
    async def list_entries(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                           limit: FromQuery[Limit] = 50, kind: FromQuery[RepKind | None] = None,
                           handler: FromQuery[UUID | None] = None) -> Page[RepresentativeOut]:
        """Newest first; by kind (deputy, member) and handler. Contact details masked unless allowed."""
        p = current_principal(request)
        after, may_see = decode_cursor(cursor), await _may_see(state, p)
        async with state.db.read() as conn:
            return await queries.representatives(conn, state.box, office_id=p.office,
                                                 may_see=may_see, kind=kind, handler=handler, after=after,
                                                 limit=limit)

    @get("/representatives/{representative_id:uuid}", operation_id="liaisonRepresentativeGet",
         summary="One register entry", opt={"action": "liaison.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_entry(self, request: Request[Any, Any, Any], state: AppState,
                        representative_id: FromPath[UUID]) -> RepresentativeOut:
        """Contact details masked unless the permission list allows them."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await queries.representative(conn, representative_id, p.office_id)
        return queries.representative_out(state.box, row, may_see=await _may_see(state, p))

    @patch("/representatives/{representative_id:uuid}", operation_id="liaisonRepresentativeChange",
           summary="Change a register entry", opt={"action": "liaison.register.manage", "idempotency": "optional"},
           responses=problem_docs(400, 401, 403, 404, 422))
    async def change(self, request: Request[Any, Any, Any], state: AppState, representative_id: FromPath[UUID],
                     data: JSONBody[RepresentativeUpdate]) -> Response[RepresentativeOut]:
        """Absent fields stay; null clears delegation, post, phone, address or handler."""
        may_see = await _may_see(state, current_principal(request))

        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row = await register.update(conn, state.box, actor, row, data)
            return 200, queries.representative_out(state.box, row, may_see=may_see)
        return await command(request, state, data, locked(queries.representative, representative_id), act)

    @post("/representatives/{representative_id:uuid}/contacts", operation_id="liaisonContactRecord",
          summary="Record a visit, call or meeting",
          opt={"location": "/api/v1/staff/liaison/representatives/{representative_id}",
               "action": "liaison.contact.record", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 422), status_code=HTTP_201_CREATED)
    async def contact(self, request: Request[Any, Any, Any], state: AppState, representative_id: FromPath[UUID],
                      data: JSONBody[ContactRecordIn]) -> Response[ContactRecordOut]:
        """Who (the caller unless `staffId`), when, what was discussed (Idempotency-Key required)."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            r = await register.contact(conn, actor, row, data, recorded_by=p.account)
            return 201, queries.contact_out(r)
        return await command(request, state, data, locked(queries.representative, representative_id), act,
                             required=True)

    @get("/contacts", operation_id="liaisonContactList", summary="The contact history",
         opt={"action": "liaison.read"}, responses=problem_docs(400, 401, 403))
    async def contacts(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                       limit: FromQuery[Limit] = 50, representative: FromQuery[UUID | None] = None,
                       staff: FromQuery[UUID | None] = None) -> Page[ContactRecordOut]:
        """Newest first; of one representative, or by one member of staff."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.read() as conn:
            return await queries.contacts(conn, p.office, representative=representative,
                                          staff=staff, after=after, limit=limit)

    @post("/representatives/{representative_id:uuid}/account", operation_id="liaisonAccountCreate",
          summary="Create the representative's sign-in",
          opt={"location": "/api/v1/staff/liaison/representatives/{representative_id}",
               "action": "liaison.account.create", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=HTTP_201_CREATED)
    async def account(self, request: Request[Any, Any, Any], state: AppState, representative_id: FromPath[UUID],
                      data: JSONBody[AccountFor]) -> Response[AccountCreated]:
        """A deputy or member account of the office, its one-time password texted to the register's phone or shown
        once (never on a retry). Needs an Idempotency-Key."""
        secret = (await one_time_passwords(1))[0]
        sent: list[tuple[str, str]] = []

        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            office = await office_by_id(conn, row["office_id"])
            created, password, phone = await register.create_sign_in(conn, state, p, actor, row, office,
                                                                     data.username, secret)
            if phone:
                sent.append((phone, password))
            return 201, created
        response = await command(request, state, data, locked(queries.representative, representative_id), act,
                                 required=True, kept=lambda body: msgspec.structs.replace(body, one_time_password=None))
        for phone, password in sent:  # only filled when the work ran (never on a replay)
            await send_one_time_password(state, phone, data.username, password)
        response.headers.update({"Cache-Control": "no-store"})
        return response

    @get("/cadence", operation_id="liaisonCadence", summary="Who is behind on contacts this quarter",
         opt={"action": "liaison.read"}, responses=problem_docs(401, 403))
    async def cadence(self, request: Request[Any, Any, Any], state: AppState) -> CadenceOut:
        """The office policy (module config `cadence`: roles, deputies, members per quarter; by default each chief
        and department head five of each) against the distinct representatives each contacted this quarter."""
        p = current_principal(request)
        policy = module_config(request).get("cadence") or {}
        async with state.db.connection() as conn:
            return await queries.cadence(conn, p.office, policy, today())

    @get("/stats", operation_id="liaisonStats", summary="The office's liaison figures for a year",
         opt={"action": "liaison.read"}, responses=problem_docs(400, 401, 403))
    async def stats(self, request: Request[Any, Any, Any], state: AppState,
                    year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None) -> LiaisonStats:
        """Suggestions answered on time, satisfaction, open days held against the policy (module config
        `open_days_per_year`, two by default), and the contact cadence met per quarter. The current year by default."""
        p = current_principal(request)
        day = today()
        async with state.db.read() as conn:
            return await queries.stats(conn, p.office, year or day.year, module_config(request),
                                       day)
