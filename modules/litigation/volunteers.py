"""Volunteers 益心为公: citizens apply to an office (name, area, expertise), the office approves them, and an
approved volunteer submits clues from the scene and follows what became of them (the public part only). A
volunteer's name is personal data: stored encrypted, shown to staff masked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import conflict, forbidden, not_found
from api.pagination import Cursor, Page, keyset, page_of
from auth.audit import record
from modules.litigation.rules import PUBLIC_CLUE_STATUS
from modules.litigation.schemas import VolunteerClueOut, VolunteerItem, VolunteerOut

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor
    from auth.secretbox import SecretBox

__all__ = ("apply", "approved_at", "decide", "list_volunteers", "own_applications", "own_clue", "own_clues",
           "staff_volunteer")



def _aad(office_id: UUID) -> bytes:
    return f"pil-volunteer:{office_id}".encode()


def _out(r: Any) -> VolunteerOut:
    return VolunteerOut(id=r["id"], office=r["office_code"], state=r["state"], area=r["area"],
                        expertise=r["expertise"], created_at=r["created_at"], decided_at=r["decided_at"])


async def apply(conn: asyncpg.Connection, box: SecretBox, actor: Actor, *, user_id: UUID, office: Any, name: str,
                area: str, expertise: str | None) -> VolunteerOut:
    """Apply to an office; once turned down one may apply again, while waiting or approved one may not (409)."""
    existing = await conn.fetchrow("select state from pil_volunteers where office_id = $1 and user_id = $2 "
                                   "for update", office["id"], user_id)
    if existing is not None and existing["state"] != "rejected":
        raise conflict(f"You have already applied to this office ({existing['state']}).")
    row = await conn.fetchrow(
        """
        insert into pil_volunteers (office_id, user_id, name_enc, area, expertise) values ($1, $2, $3, $4, $5)
        on conflict (office_id, user_id) do update set name_enc = excluded.name_enc, area = excluded.area,
            expertise = excluded.expertise, state = 'applied', reason = null, decided_by = null, decided_at = null,
            created_at = now()
        returning *, $6::text as office_code
        """,
        office["id"], user_id, box.encrypt_text(name, aad=_aad(office["id"])), area, expertise, office["code"])
    await record(conn, actor, "litigation.volunteer.applied", office_id=office["id"], object_type="pil_volunteer",
                 object_id=row["id"], detail={"area": area})
    return _out(row)


async def own_applications(conn: asyncpg.Connection, user_id: UUID) -> list[VolunteerOut]:
    """A citizen's applications, one per office at most."""
    rows = await conn.fetch("select v.*, o.code as office_code from pil_volunteers v join offices o "
                            "on o.id = v.office_id where v.user_id = $1 order by v.created_at desc", user_id)
    return [_out(r) for r in rows]


async def approved_at(conn: asyncpg.Connection, user_id: UUID, office_id: UUID) -> None:
    """403 unless the citizen is an approved volunteer of the office."""
    ok = await conn.fetchval("select exists (select 1 from pil_volunteers where user_id = $1 and office_id = $2 "
                             "and state = 'approved')", user_id, office_id)
    if not ok:
        raise forbidden("Only a volunteer the office has approved can submit clues to it.")


def _item(box: SecretBox, r: Any) -> VolunteerItem:
    name = box.decrypt_text(r["name_enc"], aad=_aad(r["office_id"]))
    return VolunteerItem(id=r["id"], name=f"{name[:1]}**", area=r["area"], expertise=r["expertise"],
                         state=r["state"], created_at=r["created_at"])


async def list_volunteers(conn: asyncpg.Connection, box: SecretBox, office_id: UUID | None, *, state: str | None,
                          limit: int, after: Cursor | None) -> Page[VolunteerItem]:
    """The office's applications and volunteers, newest first, names masked."""
    q = keyset("v.created_at", "v.id")
    q.owner("v.office_id", office_id)
    if state:
        q.add("v.state = ?", state)
    sql, args = q.sql("select v.* from pil_volunteers v", after, limit)
    return page_of(await conn.fetch(sql, *args), limit, lambda r: _item(box, r),
                   lambda r: (r["created_at"], r["id"]))


async def staff_volunteer(conn: asyncpg.Connection, volunteer_id: UUID, office_id: UUID | None, *,
                          lock: bool = False) -> Any:
    """An application of the caller's office (locked when asked), or 404."""
    row = await conn.fetchrow("select * from pil_volunteers where id = $1 and office_id = $2"
                              + (" for update" if lock else ""), volunteer_id, office_id)
    if row is None:
        raise not_found()
    return row


async def decide(conn: asyncpg.Connection, box: SecretBox, actor: Actor, row: Any, *, decision: str,
                 reason: str | None) -> VolunteerItem:
    """Approve an application, or turn it down with a reason; an approved volunteer can later be withdrawn."""
    state = "approved" if decision == "approve" else "rejected"
    if row["state"] == state:
        raise conflict(f"The application is already {state}.")
    row = await conn.fetchrow("update pil_volunteers set state = $2, reason = $3, decided_by = $4, "
                              "decided_at = now() where id = $1 returning *", row["id"], state, reason, actor.id)
    await record(conn, actor, f"litigation.volunteer.{state}", office_id=row["office_id"],
                 object_type="pil_volunteer", object_id=row["id"], detail={"reason": reason})
    return _item(box, row)


def clue_out(r: Any) -> VolunteerClueOut:
    """A volunteer's clue as they see it: what they sent and what became of it, nothing internal."""
    return VolunteerClueOut(id=r["id"], clue_no=r["clue_no"], office=r["office_code"], domain=r["domain"],
                            title=r["title"], status=PUBLIC_CLUE_STATUS[r["state"]],  # type: ignore[arg-type]  # the mapping's values are the Literal's members
                            created_at=r["created_at"])


_OWN = "select c.*, o.code as office_code from pil_clues c join offices o on o.id = c.office_id"


async def own_clue(conn: asyncpg.Connection, clue_id: UUID, user_id: UUID | None, *, lock: bool = False) -> Any:
    """A clue the volunteer submitted, or 404."""
    row = await conn.fetchrow(f"{_OWN} where c.id = $1 and c.volunteer_user = $2"
                              + (" for update of c" if lock else ""), clue_id, user_id)
    if row is None:
        raise not_found()
    return row


async def own_clues(conn: asyncpg.Connection, user_id: UUID | None, *, limit: int,
                    after: Cursor | None) -> Page[VolunteerClueOut]:
    """The volunteer's clues, newest first."""
    q = keyset("c.created_at", "c.id")
    q.add("c.volunteer_user = ?", user_id)
    sql, args = q.sql(_OWN, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, clue_out, lambda r: (r["created_at"], r["id"]))
