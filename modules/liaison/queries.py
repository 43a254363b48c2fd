"""Reading liaison: who may see which entry, suggestion, invitation and bulletin, and the views of each audience.
Staff see their office's; a representative sees only their own (anything else answers 404)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import not_found
from api.pagination import Cursor, Page, keyset, page_of
from auth.secretbox import mask_phone
from modules.clocks.store import clock_views, views_of
from modules.kernel import follow
from modules.kernel.files import attachments
from modules.kernel.links import LinkOut, describe, link_columns, links, links_of, origins
from modules.kernel.single_read import clocks_column, read_one, related, related_columns
from modules.kernel.steps import pending_proposal, proposal_out
from modules.kernel.timeline import timeline
from modules.liaison.register import quarter
from modules.liaison.rules import REPLY_CLOCKS, WORKFLOW
from modules.liaison.schemas import (
    CadenceOut,
    CadenceRow,
    Concern,
    ContactRecordOut,
    InvitationOut,
    InviteeOut,
    LiaisonBulletinOut,
    LiaisonStats,
    Outcome,
    QuarterCadence,
    RepBulletin,
    RepInvitation,
    RepresentativeOut,
    RepSuggestion,
    StaffSuggestion,
    SuggestionItem,
)
from modules.liaison.suggestions import SUBJECT

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal
    from auth.secretbox import SecretBox
    from modules.kernel.rows import SubjectRow

__all__ = (
    "SuggestionFilter",
    "bulletin_read",
    "bulletins",
    "cadence",
    "contact_out",
    "contacts",
    "invitation",
    "invitation_read",
    "invitations",
    "invitee",
    "me",
    "open_days_held",
    "open_days_owed",
    "own_bulletins",
    "own_invitation",
    "own_invitations",
    "own_suggestion",
    "own_suggestions",
    "rep_bulletin",
    "rep_invitation",
    "rep_read",
    "rep_suggestion",
    "representative",
    "representative_out",
    "representatives",
    "staff_suggestion",
    "staff_view",
    "stats",
    "suggestion",
    "suggestions",
)


async def _one(conn: asyncpg.Connection, sql: str, *args: Any, lock: bool = False) -> Any:
    row = await conn.fetchrow(sql + (" for update" if lock else ""), *args)
    if row is None:
        raise not_found("No such item.")
    return row


# The register

async def representative(conn: asyncpg.Connection, rep_id: UUID, office_id: UUID | None, *,
                         lock: bool = False) -> Any:
    """A register entry of the office; any other is 404."""
    return await _one(conn, "select * from liaison_representatives where id = $1 and office_id = $2", rep_id,
                      office_id, lock=lock)


async def me(conn: asyncpg.Connection, p: Principal) -> Any:
    """The caller's own register entry (a deputy or member signed in), or None when not on the register."""
    return await conn.fetchrow("select * from liaison_representatives where user_id = $1 and office_id = $2 "
                               "and active", p.user_id, p.office_id)


def representative_out(box: SecretBox, r: Any, *, may_see: bool) -> RepresentativeOut:
    """A register entry with its contact details decrypted, masked unless the caller may see them."""
    number = box.decrypt_text(r["phone_enc"], aad=b"phone") if r["phone_enc"] else None
    address = box.decrypt_text(r["address_enc"], aad=b"address") if r["address_enc"] else None
    if not may_see:
        # Like reporters': the number keeps its first three and last four digits, the address only its first part.
        number = mask_phone(number) or None
        address = address[:6] + "…" if address else None
    return RepresentativeOut(
        id=r["id"], kind=r["kind"], level=r["level"], name=r["name"], delegation=r["delegation"], post=r["post"],
        phone=number, address=address, masked=not may_see, handler_id=r["handler_id"], user_id=r["user_id"],
        active=r["active"], created_at=r["created_at"])


async def representatives(conn: asyncpg.Connection, box: SecretBox, *, office_id: UUID, may_see: bool,
                          kind: str | None, handler: UUID | None, after: Cursor | None,
                          limit: int) -> Page[RepresentativeOut]:
    """The office's register, newest first, by kind and handler."""
    q = keyset("created_at", "id")
    q.owner("office_id", office_id)
    if kind:
        q.add("kind = ?", kind)
    if handler:
        q.add("handler_id = ?", handler)
    sql, args = q.sql("select * from liaison_representatives", after, limit)
    return page_of(await conn.fetch(sql, *args), limit, lambda r: representative_out(box, r, may_see=may_see),
                   lambda r: (r["created_at"], r["id"]))


async def contacts(conn: asyncpg.Connection, office_id: UUID, *, representative: UUID | None, staff: UUID | None,
                   after: Cursor | None, limit: int) -> Page[ContactRecordOut]:
    """The office's contact history, newest first: of one representative, by one member of staff."""
    q = keyset("created_at", "id")
    q.owner("office_id", office_id)
    if representative is not None:
        q.add("representative_id = ?", representative)
    if staff is not None:
        q.add("staff_id = ?", staff)
    sql, args = q.sql("select * from liaison_contacts", after, limit)
    return page_of(await conn.fetch(sql, *args), limit, contact_out, lambda r: (r["created_at"], r["id"]))


def contact_out(r: Any) -> ContactRecordOut:
    """One contact of the history."""
    return ContactRecordOut(id=r["id"], representative_id=r["representative_id"], kind=r["kind"],
                      contacted_on=r["contacted_on"], staff_id=r["staff_id"], summary=r["summary"],
                      created_at=r["created_at"])


async def cadence(conn: asyncpg.Connection, office_id: UUID, policy: dict[str, Any], day: date) -> CadenceOut:
    """Each person the policy names, with the distinct deputies and members they contacted this quarter."""
    first, last = quarter(day)
    roles = policy.get("roles") or ["chief", "dept_head"]
    need_d, need_m = policy.get("deputies", 5), policy.get("members", 5)
    rows = await conn.fetch(
        """
        select u.id, u.display_name, u.roles,
               count(distinct c.representative_id) filter (where r.kind = 'deputy') as deputies,
               count(distinct c.representative_id) filter (where r.kind = 'member') as members,
               (select w.created_at from liaison_warnings w where w.office_id = $1 and w.kind = 'cadence'
                  and w.staff_id = u.id and w.period_start = $2) as warned_at
        from users u
        left join liaison_contacts c on c.staff_id = u.id and c.contacted_on between $2 and $3
        left join liaison_representatives r on r.id = c.representative_id
        where u.office_id = $1 and u.kind = 'staff' and u.disabled_at is null and u.retired_at is null
          and u.roles && $4::text[]
        group by u.id order by u.display_name, u.id
        """,
        office_id, first, last, roles)
    return CadenceOut(quarter_start=first, quarter_end=last, required_deputies=need_d, required_members=need_m,
                      roles=list(roles), rows=[CadenceRow(
                          staff_id=r["id"], name=r["display_name"], roles=list(r["roles"]), deputies=r["deputies"],
                          members=r["members"], behind=r["deputies"] < need_d or r["members"] < need_m,
                          warned_at=r["warned_at"])
                          for r in rows])


# Suggestions

async def suggestion(conn: asyncpg.Connection, suggestion_id: UUID, office_id: UUID | None, *,
                     lock: bool = False) -> SubjectRow:
    """A suggestion of the office; any other is 404."""
    return await _one(conn, "select * from liaison_suggestions where id = $1 and office_id = $2", suggestion_id,
                      office_id, lock=lock)


async def own_suggestion(conn: asyncpg.Connection, suggestion_id: UUID, rep: Any, *, lock: bool = False) -> SubjectRow:
    """One of the representative's own suggestions; any other (or no register entry) is 404."""
    return await _one(conn, "select * from liaison_suggestions where id = $1 and representative_id = $2",
                      suggestion_id, rep["id"] if rep else None, lock=lock)


async def _outcomes(conn: asyncpg.Connection, suggestion_id: UUID,
                    found: list[LinkOut] | None = None) -> list[Outcome]:
    """Links both ways (a complaint, a PIL clue), each with its number, state and public progress (`found`: the
    links a single read already brought)."""
    out = []
    for ln in found if found is not None else await links(conn, suggestion_id):
        ref, state = await describe(conn, ln.module, ln.id)
        out.append(Outcome(module=ln.module, kind=ln.kind, direction=ln.direction, id=ln.id, ref=ref, state=state,
                           progress=await timeline(conn, ln.id, public_only=True)))
    return out


_SUGGESTION_READ = f"""
select s as item, (select r from liaison_representatives r where r.id = s.representative_id) as rep,
       {related_columns("s.id")}, {link_columns("s.id")}
from liaison_suggestions s where s.id = $1 and s.office_id = $2
"""


async def suggestion_read(conn: asyncpg.Connection, suggestion_id: UUID, office_id: UUID | None) -> Any:
    """A suggestion of the office with everything staff_view shows, in one round trip; any other is 404."""
    return await read_one(conn, _SUGGESTION_READ, suggestion_id, office_id)


async def staff_view(conn: asyncpg.Connection, box: SecretBox, row: Any, *, may_see: bool,
                     actions: frozenset[str], read: Any = None) -> StaffSuggestion:
    """A suggestion as staff see it: the representative (masked unless allowed), clocks, timeline, proposal.
    `read` is a `suggestion_read` answer (then nothing more is read, unless it links to other subjects)."""
    if read is not None:
        row, rep = read["item"], read["rep"]
        clock_list, events, files, proposal = await related(conn, read, row["id"])
        outcomes = await _outcomes(conn, row["id"], links_of(read["links"], row["id"]))
    else:
        rep = await conn.fetchrow("select * from liaison_representatives where id = $1", row["representative_id"])
        proposal = await pending_proposal(conn, row["id"])
        clock_list = (await clock_views(conn, [row["id"]])).get(row["id"], [])
        events = await timeline(conn, row["id"], public_only=False)
        files = await attachments(conn, row["id"], staff=True)
        outcomes = await _outcomes(conn, row["id"])
    return StaffSuggestion(
        id=row["id"], number=row["number"], representative=representative_out(box, rep, may_see=may_see),
        channel=row["channel"], title=row["title"], body=row["body"], state=row["state"],
        state_label=WORKFLOW.states[row["state"]], classification=row["classification"],
        department=row["department"], handler_id=row["handler_id"], reply=row["reply"],
        satisfaction=row["satisfaction"], satisfaction_comment=row["satisfaction_comment"],
        created_at=row["created_at"], updated_at=row["updated_at"], closed_at=row["closed_at"],
        clocks=clock_list, timeline=events, attachments=files, links=outcomes,
        pending_proposal=proposal_out(SUBJECT, proposal) if proposal else None,
        available_steps=[t.name for t in WORKFLOW.available(row["state"], actions)],
    )


# The representative's read in one statement: their own suggestion (through their active register entry in the
# office) with the public side's related rows and its links.
_REP_READ = f"""
select s as item, {related_columns("s.id", public=True)}, {link_columns("s.id")}
from liaison_suggestions s join liaison_representatives r on r.id = s.representative_id
where s.id = $1 and r.user_id = $2 and r.office_id = $3 and r.active
"""


async def rep_read(conn: asyncpg.Connection, suggestion_id: UUID, p: Principal) -> Any:
    """own_suggestion with what rep_suggestion shows, in one round trip; anyone else's (or none on the register)
    is 404."""
    return await read_one(conn, _REP_READ, suggestion_id, p.user_id, p.office_id)


async def rep_suggestion(conn: asyncpg.Connection, row: Any, *, read: Any = None) -> RepSuggestion:
    """A suggestion as its representative sees it: the public timeline, the delivered reply, what it became.
    `read` is a `rep_read` answer (then nothing more is read, unless it links to other subjects)."""
    if read is not None:
        row = read["item"]
        clock_list, events, files, _ = await related(conn, read, row["id"], public=True)
        outcomes = await _outcomes(conn, row["id"], links_of(read["links"], row["id"]))
    else:
        clock_list = (await clock_views(conn, [row["id"]])).get(row["id"], [])
        events = await timeline(conn, row["id"], public_only=True)
        files = await attachments(conn, row["id"], staff=False)
        outcomes = await _outcomes(conn, row["id"])
    # The reply column holds the draft while it waits for approval; the representative sees it once delivered.
    delivered = row["state"] in ("replied", "closed") or row["satisfaction"] is not None
    return RepSuggestion(
        id=row["id"], number=row["number"], title=row["title"], body=row["body"], state=row["state"],
        state_label=WORKFLOW.states[row["state"]], classification=row["classification"],
        department=row["department"], reply=row["reply"] if delivered else None, satisfaction=row["satisfaction"],
        can_rate=row["state"] == "replied", created_at=row["created_at"],
        deadlines=[c for c in clock_list if c.exemption is None], timeline=events, attachments=files,
        outcomes=outcomes,
    )


_ITEM_SELECT = """
select s.id, s.number, s.title, s.state, s.classification, s.department, s.representative_id, s.created_at,
       (select min(k.due) from clocks k where k.subject_id = s.id and k.status in ('running', 'paused')) as next_due
from liaison_suggestions s
"""


def _item(r: Any) -> SuggestionItem:
    return SuggestionItem(id=r["id"], number=r["number"], title=r["title"], state=r["state"],
                          classification=r["classification"], department=r["department"],
                          representative_id=r["representative_id"], created_at=r["created_at"],
                          next_due=r["next_due"])


class SuggestionFilter:
    """The staff list's filters."""

    __slots__ = ("classification", "department", "due_before", "representative", "state")

    def __init__(self, *, state: str | None = None, department: str | None = None,
                 classification: str | None = None, representative: UUID | None = None,
                 due_before: date | None = None) -> None:
        self.state, self.department, self.classification = state, department, classification
        self.representative, self.due_before = representative, due_before


async def suggestions(conn: asyncpg.Connection, *, office_id: UUID | None = None, rep_id: UUID | None = None,
                      where: SuggestionFilter | None = None, after: Cursor | None, limit: int) -> Page[SuggestionItem]:
    """The office's suggestions (or one representative's), newest first."""
    q = keyset("s.created_at", "s.id")
    if rep_id is not None:
        q.owner("s.representative_id", rep_id)
    else:
        q.owner("s.office_id", office_id)
    f = where or SuggestionFilter()
    for clause, value in (("s.state = ?", f.state), ("s.department = ?", f.department),
                          ("s.classification = ?", f.classification), ("s.representative_id = ?", f.representative)):
        if value is not None:
            q.add(clause, value)
    if f.due_before is not None:
        q.add("exists (select 1 from clocks k where k.subject_id = s.id and k.status in ('running', 'paused') "
              "and k.due <= ?)", f.due_before)
    sql, args = q.sql(_ITEM_SELECT, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, _item, lambda r: (r["created_at"], r["id"]))


async def own_suggestions(conn: asyncpg.Connection, rep: Any, *, after: Cursor | None,
                          limit: int) -> Page[SuggestionItem]:
    """The representative's own suggestions (none when not on the register)."""
    if rep is None:
        return Page(items=[])
    return await suggestions(conn, rep_id=rep["id"], after=after, limit=limit)


async def staff_suggestion(conn: asyncpg.Connection, suggestion_id: UUID, p: Principal, *, lock: bool = False) -> Any:
    """A suggestion of the caller's office (404 otherwise)."""
    return await suggestion(conn, suggestion_id, p.office_id, lock=lock)


# Invitations

async def invitation(conn: asyncpg.Connection, invitation_id: UUID, office_id: UUID | None, *,
                     lock: bool = False) -> SubjectRow:
    """An invitation of the office; any other is 404."""
    return await _one(conn, "select * from liaison_invitations where id = $1 and office_id = $2", invitation_id,
                      office_id, lock=lock)


async def own_invitation(conn: asyncpg.Connection, invitation_id: UUID, rep: Any, *, lock: bool = False) -> SubjectRow:
    """An invitation the representative received; any other is 404."""
    return await _one(conn, "select i.* from liaison_invitations i join liaison_invitees v on v.invitation_id = i.id "
                      "where i.id = $1 and v.representative_id = $2", invitation_id, rep["id"] if rep else None,
                      lock=lock)


async def invitee(conn: asyncpg.Connection, invitation_id: UUID, rep: Any) -> Any:
    """The representative's row of an invitation."""
    return await conn.fetchrow("select * from liaison_invitees where invitation_id = $1 and representative_id = $2",
                               invitation_id, rep["id"])


# An invitation with its deadlines and its invitees (by name), in one statement. Each invitee is an anonymous record,
# read by position: (representative_id, name, kind, response, responded_at, attended, opinion).
_INVITATION_READ = (
    f"select i.*, {clocks_column('i.id')}, array(select row(v.representative_id, r.name, r.kind, v.response,"
    " v.responded_at, v.attended, v.opinion) from liaison_invitees v join liaison_representatives r"
    " on r.id = v.representative_id where v.invitation_id = i.id order by r.name, r.id) as invitees"
    " from liaison_invitations i where i.id = $1 and i.office_id = $2")


async def invitation_read(conn: asyncpg.Connection, invitation_id: UUID, office_id: UUID | None) -> InvitationOut:
    """An invitation of the office (any other is 404) with its invitees' answers, attendance and opinions."""
    row = await _one(conn, _INVITATION_READ, invitation_id, office_id)
    invitees = [InviteeOut(representative_id=rid, name=name, kind=kind, response=response, responded_at=at,
                           attended=attended, opinion=opinion)
                for rid, name, kind, response, at, attended, opinion in row["invitees"]]
    return InvitationOut(
        id=row["id"], kind=row["kind"], title=row["title"], place=row["place"], body=row["body"],
        starts_at=row["starts_at"], capacity=row["capacity"], state=row["state"],
        accepted=sum(1 for v in invitees if v.response == "accepted"), created_at=row["created_at"],
        clocks=(await views_of(conn, row["clocks"])).get(row["id"], []), invitees=invitees)


def _listed_invitation(r: Any) -> InvitationOut:
    return InvitationOut(id=r["id"], kind=r["kind"], title=r["title"], place=r["place"], body=r["body"],
                         starts_at=r["starts_at"], capacity=r["capacity"], state=r["state"], accepted=r["accepted"],
                         invitees=[], created_at=r["created_at"])


async def invitations(conn: asyncpg.Connection, office_id: UUID, *, kind: str | None, state: str | None,
                      after: Cursor | None, limit: int) -> Page[InvitationOut]:
    """The office's invitations, newest first (invitees in the single view)."""
    q = keyset("i.created_at", "i.id")
    q.owner("i.office_id", office_id)
    if kind:
        q.add("i.kind = ?", kind)
    if state:
        q.add("i.state = ?", state)
    sql, args = q.sql("select i.*, (select count(*) from liaison_invitees v where v.invitation_id = i.id "
                      "and v.response = 'accepted') as accepted from liaison_invitations i", after, limit)
    return page_of(await conn.fetch(sql, *args), limit, _listed_invitation, lambda r: (r["created_at"], r["id"]))


def rep_invitation(row: Any, mine: Any) -> RepInvitation:
    """An invitation as its invited representative sees it."""
    from datetime import UTC, datetime

    ahead = row["state"] == "open" and row["starts_at"] > datetime.now(UTC)
    return RepInvitation(
        id=row["id"], kind=row["kind"], title=row["title"], place=row["place"], body=row["body"],
        starts_at=row["starts_at"], state=row["state"], response=mine["response"], attended=mine["attended"],
        opinion=mine["opinion"], can_respond=ahead,
        can_give_opinion=mine["attended"] is True and mine["opinion"] is None)


async def own_invitations(conn: asyncpg.Connection, rep: Any, *, after: Cursor | None,
                          limit: int) -> Page[RepInvitation]:
    """The invitations the representative received, newest first."""
    if rep is None:
        return Page(items=[])
    q = keyset("v.invited_at", "v.invitation_id")
    q.owner("v.representative_id", rep["id"])
    sql, args = q.sql("select i.*, v.invited_at, v.invitation_id, v.response, v.attended, v.opinion "
                      "from liaison_invitees v join liaison_invitations i on i.id = v.invitation_id", after, limit)
    return page_of(await conn.fetch(sql, *args), limit, lambda r: rep_invitation(r, r),
                   lambda r: (r["invited_at"], r["invitation_id"]))


# Bulletins

# A bulletin with who has read it (first reading first) and whom it was sent to by name, in one statement.
_BULLETIN = ("select b.*, coalesce((select array_agg(r.representative_id order by r.read_at) "
             "from liaison_bulletin_reads r where r.bulletin_id = b.id), '{}') as readers, "
             "coalesce((select array_agg(c.representative_id order by c.representative_id) "
             "from liaison_bulletin_recipients c where c.bulletin_id = b.id), '{}') as chosen "
             "from liaison_bulletins b")


def _bulletin_out(r: Any) -> LiaisonBulletinOut:
    return LiaisonBulletinOut(id=r["id"], kind=r["kind"], audience=r["audience"], title=r["title"], body=r["body"],
                              published_at=r["published_at"], read_by=list(r["readers"]),
                              recipients=list(r["chosen"]))


async def bulletin_read(conn: asyncpg.Connection, bulletin_id: UUID, office_id: UUID | None) -> LiaisonBulletinOut:
    """A bulletin of the office with who has read it (any other is 404), in one statement."""
    return _bulletin_out(await _one(conn, f"{_BULLETIN} where b.id = $1 and b.office_id = $2", bulletin_id,
                                    office_id))


async def bulletins(conn: asyncpg.Connection, office_id: UUID, *, after: Cursor | None,
                    limit: int) -> Page[LiaisonBulletinOut]:
    """The office's bulletins, newest first, with read receipts."""
    q = keyset("b.published_at", "b.id")
    q.owner("b.office_id", office_id)
    sql, args = q.sql(_BULLETIN, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, _bulletin_out, lambda r: (r["published_at"], r["id"]))


# Published to the representative: their office's, to all, to their kind, or to them by name.
_FOR_REP = ("b.office_id = ? and (b.audience in ('all', ?) or (b.audience = 'selected' and exists "
            "(select 1 from liaison_bulletin_recipients c where c.bulletin_id = b.id and c.representative_id = ?)))")


async def rep_bulletin(conn: asyncpg.Connection, bulletin_id: UUID, rep: Any) -> Any:
    """A bulletin published to the representative (their office, their audience); any other is 404."""
    if rep is None:
        raise not_found("No such item.")
    return await _one(conn, "select b.*, exists (select 1 from liaison_bulletin_reads r where r.bulletin_id = b.id "
                      "and r.representative_id = $4) as read from liaison_bulletins b "
                      "where b.id = $1 and b.office_id = $2 and (b.audience in ('all', $3) or "
                      "(b.audience = 'selected' and exists (select 1 from liaison_bulletin_recipients c "
                      "where c.bulletin_id = b.id and c.representative_id = $4)))",
                      bulletin_id, rep["office_id"], rep["kind"], rep["id"])


def rep_bulletin_out(r: Any) -> RepBulletin:
    """A bulletin as a representative reads it."""
    return RepBulletin(id=r["id"], kind=r["kind"], title=r["title"], body=r["body"], published_at=r["published_at"],
                       read=r["read"])


async def own_bulletins(conn: asyncpg.Connection, rep: Any, *, after: Cursor | None,
                        limit: int) -> Page[RepBulletin]:
    """The bulletins published to the representative, newest first, each saying whether it was read."""
    if rep is None:
        return Page(items=[])
    q = keyset("b.published_at", "b.id")
    q.add(_FOR_REP, rep["office_id"], rep["kind"], rep["id"])
    sql, args = q.sql("select b.* from liaison_bulletins b", after, limit)
    rows = await conn.fetch(sql, *args)
    read = {r["bulletin_id"] for r in await conn.fetch(
        "select bulletin_id from liaison_bulletin_reads where representative_id = $1 and bulletin_id = any($2::uuid[])",
        rep["id"], [r["id"] for r in rows])}
    return page_of(rows, limit, lambda r: rep_bulletin_out({**r, "read": r["id"] in read}),
                   lambda r: (r["published_at"], r["id"]))


# Rates

async def stats(conn: asyncpg.Connection, office_id: UUID, year: int, config: dict[str, Any],
                day: date) -> LiaisonStats:
    """The year's figures: replies on time (both reply clocks; a reclassified 3-month clock is not counted, by the
    engine's one definition of on time), satisfaction as last rated, open days held against the policy, and per
    quarter so far how many people the cadence policy names met it."""
    from modules.clocks.engine import compliance_of
    from modules.clocks.store import sweep_stale

    await sweep_stale(conn, office_id=office_id)
    first, last = date(year, 1, 1), date(year, 12, 31)
    zone = await conn.fetchval("select coalesce(time_zone, 'Asia/Shanghai') from offices where id = $1", office_id)
    counts = {r["status"]: r["n"] for r in await conn.fetch(
        "select status, count(*) as n from clocks where office_id = $1 and module = 'liaison' and code = any($2) "
        "and started_at >= $3::timestamp at time zone $5 and started_at < ($4::date + 1)::timestamp at time zone $5 "
        "group by status", office_id, list(REPLY_CLOCKS.values()), first, last, zone)}
    on_time = compliance_of(counts)
    rated = {r["satisfaction"]: r["n"] for r in await conn.fetch(
        "select satisfaction, count(*) as n from liaison_suggestions where office_id = $1 and satisfaction is not null "
        "and created_at >= $2::timestamp at time zone $4 and created_at < ($3::date + 1)::timestamp at time zone $4 "
        "group by satisfaction", office_id, first, last, zone)}
    total = await conn.fetchval(
        "select count(*) from liaison_suggestions where office_id = $1 and created_at >= $2::timestamp at time zone $4 "
        "and created_at < ($3::date + 1)::timestamp at time zone $4", office_id, first, last, zone)
    held = await open_days_held(conn, office_id, year, zone)
    required = int(config.get("open_days_per_year", 2))
    quarters = []
    for month in (1, 4, 7, 10):
        start = date(year, month, 1)
        if start > day:
            break
        rows = (await cadence(conn, office_id, config.get("cadence") or {}, start)).rows
        quarters.append(QuarterCadence(quarter_start=start, people=len(rows), met=sum(not r.behind for r in rows)))
    n_rated = sum(rated.values())
    pleased = rated.get("satisfied", 0) + rated.get("basically_satisfied", 0)
    return LiaisonStats(
        year=year, suggestions=total, answered_on_time=on_time.met_on_time, answers_due=on_time.due,
        on_time_rate=round(on_time.rate, 4) if on_time.rate is not None else None,
        satisfied=rated.get("satisfied", 0), basically_satisfied=rated.get("basically_satisfied", 0),
        not_satisfied=rated.get("not_satisfied", 0),
        satisfaction_rate=round(pleased / n_rated, 4) if n_rated else None, open_days_held=held,
        open_days_required=required,
        open_days_behind=held < open_days_owed(required, year, day),
        cadence=quarters)


def open_days_owed(required: int, year: int, day: date) -> int:
    """Open days that should have been held by `day`: the yearly number spread evenly (all of it once the year is
    over, none before it begins), so the office is warned while there is still time to hold them."""
    if day.year > year:
        return required
    if day.year < year:
        return 0
    return required * day.timetuple().tm_yday // (366 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 365)


async def open_days_held(conn: asyncpg.Connection, office_id: UUID, year: int, zone: str) -> int:
    """Open days of the office marked held in the year (office-local)."""
    return await conn.fetchval(
        "select count(*) from liaison_invitations where office_id = $1 and kind = 'open_day' and state = 'held' "
        "and starts_at >= $2::timestamp at time zone $4 and starts_at < $3::timestamp at time zone $4",
        office_id, date(year, 1, 1), date(year + 1, 1, 1), zone)


# Cases of concern

async def raised(conn: asyncpg.Connection, rep: Any, ref: str) -> tuple[str, UUID]:
    """A followable case of the representative's office, by its number (a complaint, a PIL case), that they raised:
    it is, or came through links from (a case from its clue, the clue from a suggestion), their own suggestion or
    a complaint whose reporter's phone is the one on their entry (compared by blind index). Anything else, a wrong
    number included, is 404 alike."""
    found = await follow.find(conn, rep["office_id"], ref) if rep is not None else None
    if found is not None:
        chain = [found[1], *await origins(conn, found[1])]
        if await conn.fetchval(
                "select exists (select 1 from liaison_suggestions where id = any($1::uuid[]) "
                "and representative_id = $2) or ($3::text is not null and exists (select 1 from complaints "
                "where id = any($1::uuid[]) and office_id = $4 and reporter_phone_index = $3))",
                chain, rep["id"], rep["phone_index"], rep["office_id"]):
            return found
    raise not_found("No such item.")


async def concern_out(conn: asyncpg.Connection, module: str, subject_id: UUID, followed_at: Any) -> Concern:
    """A followed case with its number, state and the progress its module lets a follower see."""
    seen = await follow.view(conn, module, subject_id)
    if seen is None:
        raise not_found("No such item.")
    return Concern(module=module, id=subject_id, ref=seen.ref, state=seen.state, progress=seen.progress,
                   followed_at=followed_at)


async def concerns(conn: asyncpg.Connection, rep: Any, *, after: Cursor | None, limit: int) -> Page[Concern]:
    """The cases the representative follows, newest first."""
    if rep is None:
        return Page(items=[])
    q = keyset("created_at", "subject_id")
    q.owner("representative_id", rep["id"])
    sql, args = q.sql("select * from liaison_concerns", after, limit)
    page = page_of(await conn.fetch(sql, *args), limit, lambda r: r, lambda r: (r["created_at"], r["subject_id"]))
    return Page(items=[await concern_out(conn, r["module"], r["subject_id"], r["created_at"]) for r in page.items],
                next_cursor=page.next_cursor)
