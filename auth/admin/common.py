"""What the admin controllers share: the wire shapes of their answers and the checks on granted actions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.errors import ErrorCode, ProblemError
from auth.actions import grantable

if TYPE_CHECKING:
    import asyncpg

__all__ = ("SECURITY", "AuditOut", "ClientOut", "UserOut", "audit_out", "check_actions", "client_out", "not_found",
           "user_out")

SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


class UserOut(msgspec.Struct, rename="camel"):
    """An account as the office's admin sees it."""

    id: UUID
    kind: str
    username: str | None
    display_name: str
    roles: list[str]
    totp_enabled: bool
    disabled: bool
    created_at: datetime


class ClientOut(msgspec.Struct, rename="camel"):
    """A partner-agency client."""

    id: UUID
    client_id: str
    name: str
    agency_kind: str
    scopes: list[str]
    rate_limit_per_minute: int
    has_secret: bool
    has_public_key: bool
    disabled: bool
    created_at: datetime
    jwks_url: str | None = None
    allowed_networks: list[str] = []
    daily_quota: int | None = None
    previous_secret_until: datetime | None = None


class AuditOut(msgspec.Struct, rename="camel"):
    """One audit record."""

    id: int
    at: datetime
    actor_id: str | None
    actor_kind: str | None
    action: str
    object_type: str | None
    object_id: str | None
    device_id: str | None
    ip: str | None
    request_id: str | None
    detail: dict[str, Any]
    hash: str


def user_out(r: asyncpg.Record) -> UserOut:
    """An account row as the admin sees it."""
    return UserOut(id=r["id"], kind=r["kind"], username=r["username"], display_name=r["display_name"],
                   roles=list(r["roles"]), totp_enabled=r["totp_confirmed_at"] is not None,
                   disabled=r["disabled_at"] is not None, created_at=r["created_at"])


def client_out(r: asyncpg.Record) -> ClientOut:
    """A partner client row, without its secret or key."""
    return ClientOut(id=r["id"], client_id=r["client_id"], name=r["name"], agency_kind=r["agency_kind"],
                     scopes=list(r["scopes"]), rate_limit_per_minute=r["rate_limit_per_minute"],
                     has_secret=r["secret_hash"] is not None, has_public_key=r["public_jwk"] is not None,
                     disabled=r["disabled_at"] is not None, created_at=r["created_at"], jwks_url=r["jwks_url"],
                     allowed_networks=[str(n) for n in r["allowed_networks"]], daily_quota=r["daily_quota"],
                     previous_secret_until=r["previous_secret_until"])


def audit_out(r: asyncpg.Record) -> AuditOut:
    """An audit row."""
    return AuditOut(id=r["id"], at=r["at"], actor_id=r["actor_id"], actor_kind=r["actor_kind"], action=r["action"],
                    object_type=r["object_type"], object_id=r["object_id"], device_id=r["device_id"], ip=r["ip"],
                    request_id=r["request_id"], detail=r["detail"], hash=r["hash"])


def not_found(what: str) -> ProblemError:
    """The 404 for a row that does not exist or belongs to another office."""
    return ProblemError(ErrorCode.NOT_FOUND, f"No such {what}.")


def check_actions(actions: list[str], field: str, role: str) -> None:
    """Refuse actions that do not exist, or that this role may never hold (no staff power for outsiders)."""
    bad = sorted(a for a in set(actions) if not grantable(role, a))
    if bad:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, f"Actions {role} may not be granted.",
                           errors=[{"field": field, "message": f"{a} is unknown or not grantable to {role}"}
                                   for a in bad])
