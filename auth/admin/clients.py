"""Admin console: the office's partner-agency clients."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Annotated, Any, Literal
from uuid import UUID

import jwt as pyjwt
import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.errors import ErrorCode, ProblemError, problem_docs
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth import queries
from auth.admin import service
from auth.admin.common import SECURITY, ClientOut, check_actions, client_out, not_found
from auth.audit import Actor, actor_from
from auth.partner_keys import jwks_url_allowed
from auth.passwords import hash_password
from auth.principal import current_principal

__all__ = ("AdminClientsController", "ClientCreated", "ClientIn", "ClientPatch", "SecretRotated", "SecretRotationIn",
           "register_client", "rotate_client_secret")


Network = Annotated[str, msgspec.Meta(min_length=2, max_length=64, description="An address or CIDR network.")]
Networks = Annotated[list[Network], msgspec.Meta(max_length=50)]
DailyQuota = Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]


class ClientIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Register a partner client (`clientId` starts with the office code and `-`): its kind, the actions it may use
    (`scopes`), its credentials (a secret is generated unless a public key (JWK) or a JWKS URL on the operator's
    allow-list is given), the networks it may call from (empty: any) and its daily quota (none: only the per-minute
    budget)."""

    client_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    agency_kind: Literal["police", "government", "hotline", "court"]
    scopes: list[str] = []
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 600
    public_jwk: dict[str, Any] | None = None
    jwks_url: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    allowed_networks: Networks = []
    daily_quota: DailyQuota | None = None


class ClientCreated(msgspec.Struct, rename="camel"):
    """The new client, with its secret shown this once."""

    client: ClientOut
    client_secret: str | None


class ClientPatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Change a partner client."""

    scopes: list[str] | msgspec.UnsetType = msgspec.UNSET
    disabled: bool | msgspec.UnsetType = msgspec.UNSET
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | msgspec.UnsetType = msgspec.UNSET
    allowed_networks: Networks | msgspec.UnsetType = msgspec.UNSET
    # null removes the daily quota.
    daily_quota: DailyQuota | None | msgspec.UnsetType = msgspec.UNSET


class SecretRotationIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """How long the current secret stays valid beside the new one (0: it stops at once)."""

    overlap_hours: Annotated[int, msgspec.Meta(ge=0, le=720)] = 24


class SecretRotated(msgspec.Struct, rename="camel"):
    """The client with its new secret, shown this once; the old one works until `previousSecretUntil`."""

    client: ClientOut
    client_secret: str


class AdminClientsController(Controller):
    """Partner clients. Every query is limited to the caller's own office: others' rows answer 404."""

    path = "/admin"
    tags = ["admin"]
    security = SECURITY

    @get("/partner-clients", operation_id="adminListClients", summary="List partner clients",
         opt={"action": "admin.clients.read"}, responses=problem_docs(400, 401, 403))
    async def list_clients(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
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
    async def get_client(self, request: Request[Any, Any, Any], state: AppState,
                         client_uuid: FromPath[UUID]) -> ClientOut:
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
        self, request: Request[Any, Any, Any], state: AppState, data: JSONBody[ClientIn]
    ) -> ClientCreated:
        """Answers the generated secret once; only its hash is kept."""
        p = current_principal(request)
        return await register_client(state, actor_from(request, p), p.office_id, data)

    @patch("/partner-clients/{client_uuid:uuid}", operation_id="adminUpdateClient", summary="Change a partner client",
           opt={"action": "admin.clients.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def update_client(
        self, request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID], data: JSONBody[ClientPatch]
    ) -> ClientOut:
        """Change scopes, the rate limit, the networks it may call from, its daily quota, or suspend it (`disabled`:
        its tokens stop working at once)."""
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
                allowed_networks=None if isinstance(data.allowed_networks, msgspec.UnsetType)
                else _networks(data.allowed_networks),
                daily_quota=data.daily_quota,
                detail={k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET},
            )
            if row is None:
                raise not_found("partner client")
        return client_out(row)


    @post("/partner-clients/{client_uuid:uuid}/secret-rotation", operation_id="adminRotateClientSecret",
          summary="Rotate a partner client's secret", opt={"action": "admin.clients.manage"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def rotate_secret(self, request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID],
                            data: JSONBody[SecretRotationIn]) -> SecretRotated:
        """A new secret, shown once; the current one stays valid for `overlapHours`, so the agency switches
        without a gap. With `overlapHours: 0` (a leaked secret) the old one and every token issued with it stop
        at once. A client that signs with a key answers 409."""
        p = current_principal(request)
        return await rotate_client_secret(state, actor_from(request, p), p.office_id, client_uuid,
                                          overlap_hours=data.overlap_hours)


async def register_client(state: AppState, actor: Actor, office_id: UUID | None, data: ClientIn) -> ClientCreated:
    """Register a partner client of the office (the API route and the console both use it): scopes it may be
    granted, an id starting with the office's code, keys only from allowed hosts, and a generated secret (answered
    this once) unless it signs with a key."""
    check_actions(data.scopes, "scopes", "partner")
    async with state.db.connection() as conn:
        office_code = await queries.office_code(conn, office_id=office_id)
    if not data.client_id.startswith(f"{office_code}-"):
        # Client ids are one namespace for all offices: an office-prefixed id can only ever collide with the
        # caller's own clients, so the 409 below never tells whether another office has registered a name.
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "A client id starts with your office's code.",
                           errors=[{"field": "clientId", "message": f"must start with {office_code}-"}])
    secret = None if data.public_jwk or data.jwks_url else "cs_" + secrets.token_urlsafe(32)
    if data.public_jwk:
        _check_jwk(data.public_jwk)
    if data.jwks_url and not jwks_url_allowed(state.settings, data.jwks_url):
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Keys are fetched only from allowed hosts.",
                           errors=[{"field": "jwksUrl", "message": "https on a host of JIANWU_PARTNER_JWKS_HOSTS"}])
    networks = _networks(data.allowed_networks)
    secret_hash = await hash_password(secret) if secret else None
    async with state.db.transaction() as conn:
        row = await service.create_client(
            conn, actor=actor, office_id=office_id, client_id=data.client_id, name=data.name,
            agency_kind=data.agency_kind, secret_hash=secret_hash, public_jwk=data.public_jwk, scopes=data.scopes,
            rate_limit_per_minute=data.rate_limit_per_minute, jwks_url=data.jwks_url, allowed_networks=networks,
            daily_quota=data.daily_quota,
        )
    return ClientCreated(client=client_out(row), client_secret=secret)


async def rotate_client_secret(state: AppState, actor: Actor, office_id: UUID | None, client_uuid: UUID, *,
                               overlap_hours: int) -> SecretRotated:
    """A new generated secret for a partner client of the office (the API route and the console both use it).
    404 for another office's client, 409 for one that signs with a key; no overlap also revokes its tokens."""
    secret = "cs_" + secrets.token_urlsafe(32)
    secret_hash = await hash_password(secret)
    async with state.db.transaction() as conn:
        current = await queries.partner_client(conn, client_uuid=client_uuid, office_id=office_id)
        if current is None:
            raise not_found("partner client")
        if current["secret_hash"] is None:
            raise ProblemError(ErrorCode.CONFLICT, "This client signs with a key; it has no secret to rotate.")
        row = await service.rotate_client_secret(conn, actor=actor, office_id=office_id, client_uuid=client_uuid,
                                                 secret_hash=secret_hash, overlap_hours=overlap_hours)
        if overlap_hours == 0:
            await state.revocations.revoke_subject(f"client:{current['client_id']}")
    return SecretRotated(client=client_out(row), client_secret=secret)


def _networks(raw: list[str]) -> list[str]:
    """Addresses and CIDR networks as stored (host bits cleared), or 400 naming the bad one."""
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "Not an address or network.",
                               errors=[{"field": f"allowedNetworks[{i}]", "message": "e.g. 10.1.2.0/24"}]) from None
    return sorted(set(out))


def _check_jwk(jwk: dict[str, Any]) -> None:
    try:
        pyjwt.PyJWK(jwk)
    except (pyjwt.PyJWTError, ValueError, TypeError, KeyError):
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "publicJwk is not a usable public key.",
                           errors=[{"field": "publicJwk", "message": "invalid JWK"}]) from None
    if any(k in jwk for k in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Send only the public key.",
                           errors=[{"field": "publicJwk", "message": "contains private key material"}])
