"""The register of deputies and members: entries, their handler, contact history, and their sign-ins. Every function
runs in the caller's transaction and leaves an audit record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.errors import ErrorCode, ProblemError, conflict, invalid
from api.state import AppState
from auth.accounts import AccountCreated, AccountIn, create_account
from auth.audit import Actor, record
from auth.tokens import checked_phone
from modules.clocks.store import today

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal
    from auth.secretbox import SecretBox
    from modules.liaison.schemas import ContactRecordIn, RepresentativeIn, RepresentativeUpdate

__all__ = ("add", "check_staff", "contact", "create_sign_in", "quarter", "update")


async def check_staff(conn: asyncpg.Connection, office_id: UUID, user_id: UUID, field: str) -> None:
    """422 naming `field` unless the id is an active staff member of the office."""
    ok = await conn.fetchval("select exists (select 1 from users where id = $1 and office_id = $2 and kind = 'staff' "
                             "and disabled_at is null and retired_at is null)", user_id, office_id)
    if not ok:
        raise ProblemError(ErrorCode.UNPROCESSABLE, "Not a staff member of this office.",
                           errors=[{"field": field, "message": "no such staff member here"}])


def _sealed(box: SecretBox, number: str | None, address: str | None) -> tuple[str | None, str | None, str | None]:
    return (box.encrypt_text(number, aad=b"phone") if number else None,
            box.blind_index(number, purpose="phone") if number else None,
            box.encrypt_text(address, aad=b"address") if address else None)


async def add(conn: asyncpg.Connection, box: SecretBox, actor: Actor, office_id: UUID, data: RepresentativeIn) -> Any:
    """Put a deputy or member on the office's register; contact details are stored encrypted."""
    if data.handler_id is not None:
        await check_staff(conn, office_id, data.handler_id, "handlerId")
    phone_enc, phone_index, address_enc = _sealed(box, checked_phone(data.phone), data.address)
    row = await conn.fetchrow(
        """
        insert into liaison_representatives (office_id, kind, level, name, delegation, post, phone_enc, phone_index,
                                             address_enc, handler_id)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *
        """,
        office_id, data.kind, data.level, data.name, data.delegation, data.post, phone_enc, phone_index, address_enc,
        data.handler_id)
    await record(conn, actor, "liaison.representative.added", office_id=office_id, object_type="representative",
                 object_id=row["id"], detail={"kind": data.kind, "level": data.level})
    return row


async def update(conn: asyncpg.Connection, box: SecretBox, actor: Actor, row: Any, data: RepresentativeUpdate) -> Any:
    """Change a register entry (absent fields unchanged); the audit record names the fields changed, not values."""
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    columns: dict[str, Any] = {}
    for name in ("level", "delegation", "post", "active"):
        if name in changes:
            columns[name] = changes[name]
    if "handler_id" in changes:
        if changes["handler_id"] is not None:
            await check_staff(conn, row["office_id"], changes["handler_id"], "handlerId")
        columns["handler_id"] = changes["handler_id"]
    if "phone" in changes:
        number = checked_phone(changes["phone"])
        columns["phone_enc"], columns["phone_index"], _ = _sealed(box, number, None)
    if "address" in changes:
        columns["address_enc"] = _sealed(box, None, changes["address"])[2]
    if not columns:
        return row
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    row = await conn.fetchrow(f"update liaison_representatives set {sets}, updated_at = now() where id = $1 "
                              "returning *", row["id"], *columns.values())
    await record(conn, actor, "liaison.representative.changed", office_id=row["office_id"],
                 object_type="representative", object_id=row["id"], detail={"fields": sorted(changes)})
    return row


async def contact(conn: asyncpg.Connection, actor: Actor, row: Any, data: ContactRecordIn, *, recorded_by: UUID) -> Any:
    """Add a visit, call or meeting to the representative's history (not in the future, at most a year back)."""
    if not today() - timedelta(days=366) <= data.contacted_on <= today():
        raise invalid("contactedOn is not a plausible day.", ("contactedOn", "not in the future, at most a year ago"))
    staff_id = data.staff_id or recorded_by
    await check_staff(conn, row["office_id"], staff_id, "staffId")
    out = await conn.fetchrow(
        """
        insert into liaison_contacts (office_id, representative_id, kind, contacted_on, staff_id, summary, created_by)
        values ($1, $2, $3, $4, $5, $6, $7) returning *
        """,
        row["office_id"], row["id"], data.kind, data.contacted_on, staff_id, data.summary, recorded_by)
    await record(conn, actor, "liaison.contact.recorded", office_id=row["office_id"], object_type="representative",
                 object_id=row["id"], detail={"kind": data.kind, "on": data.contacted_on.isoformat(),
                                              "staff": str(staff_id)})
    return out


async def create_sign_in(conn: asyncpg.Connection, state: AppState, p: Principal, actor: Actor, row: Any, office: Any,
                         username: str, secret: tuple[str, str]) -> tuple[AccountCreated, str, str | None]:
    """Create the representative's account from the register entry (kind, name and phone from it) and link it.
    Answers what the admin route answers: the account, the one-time password, and the phone to text it to."""
    if row["user_id"] is not None:
        raise conflict("This representative already has an account.")
    number = state.box.decrypt_text(row["phone_enc"], aad=b"phone") if row["phone_enc"] else None
    try:
        spec = msgspec.convert({"username": username, "displayName": row["name"], "kind": row["kind"],
                                "phone": number}, AccountIn)
    except msgspec.ValidationError as exc:
        raise invalid("Not a valid username.", ("username", str(exc))) from None
    created, password, sms_to = await create_account(conn, state, p, spec, office, actor, secret)
    await conn.execute("update liaison_representatives set user_id = $2, updated_at = now() where id = $1",
                       row["id"], created.account.id)
    await record(conn, actor, "liaison.representative.account_created", office_id=row["office_id"],
                 object_type="representative", object_id=row["id"], detail={"user": str(created.account.id)})
    return created, password, sms_to


def quarter(day: date) -> tuple[date, date]:
    """The first and last day of the calendar quarter holding `day`."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    nxt = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, nxt - timedelta(days=1)
