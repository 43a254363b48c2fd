"""Admin console: the office's partner-agency clients."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import jwt as pyjwt
import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.errors import ErrorCode, ProblemError, problem_docs
from api.pagination import Limit, Page, decode_cursor, page_of
from auth import queries
from auth.admin import service
from auth.admin.common import SECURITY, ClientOut, check_actions, client_out, not_found
from auth.audit import Actor, actor_from, record
from auth.passwords import hash_password
from auth.principal import current_principal

if TYPE_CHECKING:
    from litestar.datastructures import State

__all__ = ("AdminClientsController", "ClientCreated", "ClientIn", "ClientPatch", "register_client",
           "rotate_client_secret")


class ClientIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Register a partner client (`clientId` starts with the office code and `-`); a secret is generated unless a
    public key (JWK) is given."""

    client_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    agency_kind: Literal["police", "government", "hotline"]
    scopes: list[str] = []
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 600
    public_jwk: dict[str, Any] | None = None


class ClientCreated(msgspec.Struct, rename="camel"):
    """The new client, with its secret shown this once."""

    client: ClientOut
    client_secret: str | None


class ClientPatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Change a partner client."""

    scopes: list[str] | msgspec.UnsetType = msgspec.UNSET
    disabled: bool | msgspec.UnsetType = msgspec.UNSET
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | msgspec.UnsetType = msgspec.UNSET


class AdminClientsController(Controller):
    """Partner clients. Every query is limited to the caller's own office: others' rows answer 404."""

    path = "/admin"
    tags = ["admin"]
    security = SECURITY

    @get("/partner-clients", operation_id="adminListClients", summary="List partner clients",
         opt={"action": "admin.clients.read"}, responses=problem_docs(400, 401, 403))
    async def list_clients(
        self, request: Request[Any, Any, Any], state: State, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
    ) -> Page[ClientOut]:
        """The office's partner-agency clients, newest first."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await queries.partner_client_page(conn, office_id=p.office_id, after=decode_cursor(cursor),
                                                     limit=limit)
        return page_of(rows, limit, client_out, lambda r: (r["created_at"], r["id"]))

    @get("/partner-clients/{client_uuid:uuid}", operation_id="adminGetClient", summary="One partner client",
         opt={"action": "admin.clients.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_client(self, request: Request[Any, Any, Any], state: State, client_uuid: FromPath[UUID]) -> ClientOut:
        """A partner client of the caller's office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await queries.partner_client(conn, client_uuid=client_uuid, office_id=p.office_id)
        if row is None:
            raise not_found("partner client")
        return client_out(row)

    @post("/partner-clients", operation_id="adminCreateClient", summary="Register a partner client",
          opt={"action": "admin.clients.manage"}, responses=problem_docs(400, 401, 403, 409))
    async def create_client(
        self, request: Request[Any, Any, Any], state: State, data: JSONBody[ClientIn]
    ) -> ClientCreated:
        """Answers the generated secret once; only its hash is kept."""
        p = current_principal(request)
        return await register_client(state, actor_from(request, p), p.office_id, data)

    @post("/partner-clients/{client_uuid:uuid}/secret", operation_id="adminRotateClientSecret",
          summary="Give a partner client a new secret", opt={"action": "admin.clients.manage"}, status_code=200,
          responses=problem_docs(400, 401, 403, 404, 409))
    async def rotate_secret(self, request: Request[Any, Any, Any], state: State,
                            client_uuid: FromPath[UUID]) -> ClientCreated:
        """The old secret and every token issued with it stop working at once; the new one is answered this once.
        A client that signs with a key (no secret) answers 409."""
        p = current_principal(request)
        return await rotate_client_secret(state, actor_from(request, p), p.office_id, client_uuid)

    @patch("/partner-clients/{client_uuid:uuid}", operation_id="adminUpdateClient", summary="Change a partner client",
           opt={"action": "admin.clients.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def update_client(
        self, request: Request[Any, Any, Any], state: State, client_uuid: FromPath[UUID], data: JSONBody[ClientPatch]
    ) -> ClientOut:
        """Change scopes, the rate limit, or disable (its tokens stop working at once)."""
        p = current_principal(request)
        scopes = None if isinstance(data.scopes, msgspec.UnsetType) else data.scopes
        if scopes is not None:
            check_actions(scopes, "scopes", "partner")
        async with state.db.transaction() as conn:
            row = await service.update_client(
                conn, state=state, actor=actor_from(request, p), office_id=p.office_id, client_uuid=client_uuid,
                scopes=scopes,
                rate_limit_per_minute=None if isinstance(data.rate_limit_per_minute, msgspec.UnsetType)
                else data.rate_limit_per_minute,
                disabled=None if isinstance(data.disabled, msgspec.UnsetType) else data.disabled,
                detail={k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET},
            )
            if row is None:
                raise not_found("partner client")
        return client_out(row)


async def register_client(state: State, actor: Actor, office_id: UUID | None, data: ClientIn) -> ClientCreated:
    """Register a partner client of the office (the API route and the console both use it): scopes it may be
    granted, an id starting with the office's code, a generated secret (answered this once) unless a public key is
    given."""
    check_actions(data.scopes, "scopes", "partner")
    async with state.db.connection() as conn:
        office_code = await queries.office_code(conn, office_id=office_id)
    if not data.client_id.startswith(f"{office_code}-"):
        # Client ids are one namespace for all offices: an office-prefixed id can only ever collide with the
        # caller's own clients, so the 409 below never tells whether another office has registered a name.
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "A client id starts with your office's code.",
                           errors=[{"field": "clientId", "message": f"must start with {office_code}-"}])
    secret = None if data.public_jwk else "cs_" + secrets.token_urlsafe(32)
    if data.public_jwk:
        _check_jwk(data.public_jwk)
    secret_hash = await hash_password(secret) if secret else None
    async with state.db.transaction() as conn:
        row = await service.create_client(
            conn, actor=actor, office_id=office_id, client_id=data.client_id, name=data.name,
            agency_kind=data.agency_kind, secret_hash=secret_hash, public_jwk=data.public_jwk, scopes=data.scopes,
            rate_limit_per_minute=data.rate_limit_per_minute,
        )
    return ClientCreated(client=client_out(row), client_secret=secret)


async def rotate_client_secret(state: State, actor: Actor, office_id: UUID | None,
                               client_uuid: UUID) -> ClientCreated:
    """A new generated secret for a partner client of the office (the API route and the console both use it); its
    tokens are revoked at once. 404 for another office's client, 409 for one that signs with a key."""
    secret = "cs_" + secrets.token_urlsafe(32)
    secret_hash = await hash_password(secret)
    async with state.db.transaction() as conn:
        row = await queries.partner_client(conn, client_uuid=client_uuid, office_id=office_id)
        if row is None:
            raise not_found("partner client")
        if row["secret_hash"] is None:
            raise ProblemError(409, ErrorCode.CONFLICT, "This client signs with a key; it has no secret to rotate.")
        row = await conn.fetchrow("update partner_clients set secret_hash = $2 where id = $1 returning *",
                                  client_uuid, secret_hash)
        await state.revocations.revoke_subject(f"client:{row['client_id']}")
        await record(conn, actor, "admin.client.secret_rotated", object_type="partner_client",
                     object_id=row["client_id"])
    return ClientCreated(client=client_out(row), client_secret=secret)


def _check_jwk(jwk: dict[str, Any]) -> None:
    try:
        pyjwt.PyJWK(jwk)
    except (pyjwt.PyJWTError, ValueError, TypeError, KeyError):
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "publicJwk is not a usable public key.",
                           errors=[{"field": "publicJwk", "message": "invalid JWK"}]) from None
    if any(k in jwk for k in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "Send only the public key.",
                           errors=[{"field": "publicJwk", "message": "contains private key material"}])
