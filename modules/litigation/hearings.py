"""Hearings 听证 and rectification evaluations 整改评估 that outside people sit on: staff schedule one on a case and
invite its panel (deputies and CPPCC members by account, approved volunteers, anyone else by name), the invitees
answer from their apps, staff write the record once it was held. Every change lands with its timeline entry, its
audit record and its outbox event; names of volunteers and outsiders are stored encrypted and shown masked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import conflict, invalid, not_found
from api.outbox import emit
from api.pagination import Cursor, Page, keyset, page_of
from auth.audit import record
from modules.kernel.timeline import add_event
from modules.litigation.schemas import HearingInvitationOut, HearingOut, MyInvitationOut

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor
    from auth.secretbox import SecretBox
    from modules.litigation.schemas import HearingIn, HearingInvitationAnswerIn

__all__ = ("answer", "hearing_of", "hearings", "my_invitation", "my_invitations", "schedule", "write_record")

MODULE = "litigation"
# A rectification evaluation follows the agency's reply; a hearing may be held at any stage before the case ends.
EVALUATION_STATES = frozenset({"agency_replied", "following_up"})


def _name_aad(office_id: UUID) -> bytes:
    return f"pil-invitee:{office_id}".encode()


def _volunteer_aad(office_id: UUID) -> bytes:
    # The same binding as the volunteer's application (modules.litigation.volunteers).
    return f"pil-volunteer:{office_id}".encode()


async def _invitee_account(conn: asyncpg.Connection, office_id: UUID, kind: str, user_id: UUID | None) -> None:
    """A deputy or member is an account of that kind at the office; a volunteer, one the office approved."""
    if kind in ("deputy", "member"):
        ok = await conn.fetchval("select exists (select 1 from users where id = $1 and office_id = $2 and kind = $3 "
                                 "and disabled_at is null)", user_id, office_id, kind)
    else:
        ok = await conn.fetchval("select exists (select 1 from pil_volunteers where user_id = $1 and office_id = $2 "
                                 "and state = 'approved')", user_id, office_id)
    if not ok:
        raise invalid(f"Invite a {kind} of this office by account id.", ("invitees.userId", f"not a {kind} here"))


async def schedule(conn: asyncpg.Connection, box: SecretBox, actor: Actor, case: Any, data: HearingIn) -> HearingOut:
    """Schedule a hearing (a panel of at least one panelist) or an evaluation and invite everyone named."""
    if case["state"] in ("closed", "terminated", "archived"):
        raise conflict("The case is concluded.")
    if data.kind == "evaluation" and case["state"] not in EVALUATION_STATES:
        raise conflict("A rectification evaluation follows the agency's reply.", state=case["state"])
    if data.kind == "hearing" and not any(i.role == "panelist" for i in data.invitees):
        raise invalid("A hearing has a panel.", ("invitees", "at least one panelist"))
    seen: set[UUID] = set()
    for i in data.invitees:
        if (i.kind == "other") != (i.user_id is None) or (i.kind == "other") != (i.name is not None):
            raise invalid("Accounts are invited by userId, anyone else by name.", ("invitees", "userId or name"))
        if i.user_id is not None:
            if i.user_id in seen:
                raise invalid("Each person is invited once.", ("invitees.userId", "repeated"))
            seen.add(i.user_id)
            await _invitee_account(conn, case["office_id"], i.kind, i.user_id)
    hearing = await conn.fetchrow(
        "insert into pil_hearings (office_id, case_id, kind, topic, scheduled_at, place, created_by) "
        "values ($1, $2, $3, $4, $5, $6, $7) returning *",
        case["office_id"], case["id"], data.kind, data.topic, data.scheduled_at, data.place, actor.id)
    for i in data.invitees:
        sealed = box.encrypt_text(i.name, aad=_name_aad(case["office_id"])) if i.name else None
        inv = await conn.fetchrow(
            "insert into pil_invitations (office_id, hearing_id, invitee_kind, role, user_id, name_enc, organisation) "
            "values ($1, $2, $3, $4, $5, $6, $7) returning id",
            case["office_id"], hearing["id"], i.kind, i.role, i.user_id, sealed, i.organisation)
        if i.user_id is not None:
            # The invitee's app hears of it (ids only).
            await emit(conn, "litigation.invitation", {"invitationId": str(inv["id"]), "userId": str(i.user_id)},
                       office_id=case["office_id"])
    data_ = {"hearingId": str(hearing["id"]), "kind": data.kind, "scheduledAt": data.scheduled_at.isoformat(),
             "invitees": len(data.invitees)}
    await add_event(conn, MODULE, case["id"], actor, "hearing.scheduled", public=False, body=data.topic, data=data_)
    await record(conn, actor, "case.hearing.scheduled", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=data_)
    await emit(conn, "litigation.staff", {"subjectId": str(case["id"]), "event": "case.hearing.scheduled"},
               office_id=case["office_id"])
    return await hearing_of(conn, box, case["id"], hearing["id"])


async def _invitations(conn: asyncpg.Connection, box: SecretBox, hearing_ids: list[UUID]) -> dict[UUID, list[Any]]:
    rows = await conn.fetch(
        "select i.*, u.display_name, v.name_enc as volunteer_enc from pil_invitations i "
        "left join users u on u.id = i.user_id "
        "left join pil_volunteers v on v.user_id = i.user_id and v.office_id = i.office_id "
        "where i.hearing_id = any($1::uuid[]) order by i.created_at, i.id", hearing_ids)
    out: dict[UUID, list[Any]] = {}
    for r in rows:
        if r["invitee_kind"] == "other":
            name = box.decrypt_text(r["name_enc"], aad=_name_aad(r["office_id"]))[:1] + "**"
        elif r["invitee_kind"] == "volunteer":
            name = box.decrypt_text(r["volunteer_enc"], aad=_volunteer_aad(r["office_id"]))[:1] + "**"
        else:
            # Deputies and members sit in their public capacity.
            name = r["display_name"]
        out.setdefault(r["hearing_id"], []).append(HearingInvitationOut(
            id=r["id"], kind=r["invitee_kind"], role=r["role"], user_id=r["user_id"], name=name,
            organisation=r["organisation"], answer=r["answer"], answer_note=r["answer_note"],
            answered_at=r["answered_at"]))
    return out


def _hearing_out(h: Any, invitations: list[HearingInvitationOut]) -> HearingOut:
    return HearingOut(id=h["id"], case_id=h["case_id"], kind=h["kind"], topic=h["topic"],
                      scheduled_at=h["scheduled_at"], place=h["place"], state=h["state"], record=h["record"],
                      held_at=h["held_at"], created_at=h["created_at"], invitations=invitations)


async def hearings(conn: asyncpg.Connection, box: SecretBox, case_id: UUID) -> list[HearingOut]:
    """The case's hearings and evaluations in the order they are scheduled."""
    rows = await conn.fetch("select * from pil_hearings where case_id = $1 order by scheduled_at, id", case_id)
    invs = await _invitations(conn, box, [r["id"] for r in rows])
    return [_hearing_out(r, invs.get(r["id"], [])) for r in rows]


async def hearing_of(conn: asyncpg.Connection, box: SecretBox, case_id: UUID, hearing_id: UUID) -> HearingOut:
    """One hearing of the case, or 404."""
    row = await conn.fetchrow("select * from pil_hearings where id = $1 and case_id = $2", hearing_id, case_id)
    if row is None:
        raise not_found("No such hearing on this case.")
    return _hearing_out(row, (await _invitations(conn, box, [row["id"]])).get(row["id"], []))


async def write_record(conn: asyncpg.Connection, box: SecretBox, actor: Actor, case: Any, hearing_id: UUID,
                       text: str) -> HearingOut:
    """The record of a hearing once it began; written once."""
    row = await conn.fetchrow("select * from pil_hearings where id = $1 and case_id = $2 for update",
                              hearing_id, case["id"])
    if row is None:
        raise not_found("No such hearing on this case.")
    if row["state"] == "held":
        raise conflict("The record of this hearing is written already.")
    if row["scheduled_at"] > datetime.now(UTC):
        raise conflict("The hearing has not begun yet.", scheduledAt=row["scheduled_at"].isoformat())
    await conn.execute("update pil_hearings set state = 'held', record = $2, held_at = now() where id = $1",
                       hearing_id, text)
    info = {"hearingId": str(hearing_id), "kind": row["kind"]}
    await add_event(conn, MODULE, case["id"], actor, "hearing.held", public=False, body=text, data=info)
    await record(conn, actor, "case.hearing.held", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=info)
    await emit(conn, "litigation.staff", {"subjectId": str(case["id"]), "event": "case.hearing.held"},
               office_id=case["office_id"])
    return await hearing_of(conn, box, case["id"], hearing_id)


_MINE = ("select i.*, h.kind, h.topic, h.scheduled_at, h.place, h.case_id, o.code as office_code "
         "from pil_invitations i join pil_hearings h on h.id = i.hearing_id join offices o on o.id = i.office_id")


def _mine_out(r: Any) -> MyInvitationOut:
    return MyInvitationOut(id=r["id"], office=r["office_code"], kind=r["kind"], topic=r["topic"],
                           scheduled_at=r["scheduled_at"], place=r["place"], role=r["role"], answer=r["answer"],
                           answered_at=r["answered_at"], created_at=r["created_at"])


async def my_invitations(conn: asyncpg.Connection, user_id: UUID | None, *, limit: int,
                         after: Cursor | None) -> Page[MyInvitationOut]:
    """The caller's invitations, newest first."""
    q = keyset("i.created_at", "i.id")
    q.add("i.user_id = ?", user_id)
    sql, args = q.sql(_MINE, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, _mine_out, lambda r: (r["created_at"], r["id"]))


async def my_invitation(conn: asyncpg.Connection, invitation_id: UUID, user_id: UUID | None, *,
                        lock: bool = False) -> Any:
    """An invitation addressed to the caller, or 404 (anyone else's, or none)."""
    row = await conn.fetchrow(f"{_MINE} where i.id = $1 and i.user_id = $2" + (" for update of i" if lock else ""),
                              invitation_id, user_id)
    if row is None:
        raise not_found()
    return row


async def answer(conn: asyncpg.Connection, actor: Actor, row: Any, data: HearingInvitationAnswerIn) -> MyInvitationOut:
    """Accept or decline (or change one's mind) until the hearing begins; the case's timeline records it."""
    if row["scheduled_at"] <= datetime.now(UTC):
        raise conflict("The hearing has begun; answers are closed.")
    value = "accepted" if data.answer == "accept" else "declined"
    updated = await conn.fetchrow(
        "update pil_invitations set answer = $2, answer_note = $3, answered_at = now() where id = $1 returning *",
        row["id"], value, data.note)
    info = {"hearingId": str(row["hearing_id"]), "invitationId": str(row["id"]), "answer": value}
    await add_event(conn, MODULE, row["case_id"], actor, "hearing.answered", public=False, body=data.note, data=info)
    await record(conn, actor, "case.hearing.answered", office_id=row["office_id"], object_type="case",
                 object_id=row["case_id"], detail=info)
    await emit(conn, "litigation.staff", {"subjectId": str(row["case_id"]), "event": "case.hearing.answered"},
               office_id=row["office_id"])
    return _mine_out({**dict(row), **dict(updated)})
