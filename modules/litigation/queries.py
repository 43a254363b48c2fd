"""Reading clues, cases and recommendations: the office's staff see their office's, a partner client its own
submissions and the recommendations addressed to it. Anything else is 404."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.errors import not_found
from api.pagination import Cursor, Keyset, Page, contains, keyset, page_of
from auth.secretbox import mask_phone
from modules.clocks.store import ClockView, clock_views
from modules.kernel.files import attachments
from modules.kernel.links import link_columns, links, links_of
from modules.kernel.single_read import read_one, related, related_columns
from modules.kernel.steps import pending_proposal, proposal_out
from modules.kernel.timeline import timeline
from modules.litigation.rules import CASE_STATES, CLUE_STATES, PUBLIC_CLUE_STATUS, ROUTE_STEPS, delegation_holds
from modules.litigation.schemas import (
    AgencyRecommendation,
    CaseItem,
    CaseOut,
    ClueItem,
    ClueOut,
    PartnerClueOut,
    QuestionOut,
    RecommendationOut,
    StepOut,
)
from modules.litigation.service import CASE, CLUE, informant_aad

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox
    from modules.kernel.rows import SubjectRow
    from modules.kernel.steps import Subject

__all__ = (
    "CaseFilter", "ClueFilter", "agency_recommendation", "agency_recommendations", "case_item", "case_read",
    "case_view", "clue_item", "clue_read", "clue_view", "list_cases", "list_clues", "partner_clue", "partner_clue_out",
    "partner_clues", "questions", "recommendation_for_agency", "recommendation_of_case", "staff_case", "staff_clue",
)


async def _one(conn: asyncpg.Connection, table: str, item_id: UUID, office_id: UUID | None, lock: bool) -> Any:
    row = await conn.fetchrow(f"select * from {table} where id = $1 and office_id = $2"
                              + (" for update" if lock else ""), item_id, office_id)
    if row is None:
        raise not_found()
    return row


async def staff_clue(conn: asyncpg.Connection, clue_id: UUID, office_id: UUID | None, *,
                     lock: bool = False) -> SubjectRow:
    """A clue of the caller's office (locked when asked), or 404."""
    return await _one(conn, "pil_clues", clue_id, office_id, lock)


async def staff_case(conn: asyncpg.Connection, case_id: UUID, office_id: UUID | None, *,
                     lock: bool = False) -> SubjectRow:
    """A case of the caller's office (locked when asked), or 404."""
    return await _one(conn, "pil_cases", case_id, office_id, lock)


def _steps(subject: Subject, state: str, actions: frozenset[str], route: str | None = None,
           clocks: list[ClockView] | None = None) -> list[StepOut]:
    excluded = ROUTE_STEPS["civil" if route == "administrative" else "administrative"] if route else frozenset()
    out = any(c.code == "delegated_investigation" and c.finished_at is None for c in clocks or ())
    return [StepOut(name=t.name, label=t.label_zh, needs=list(t.needs), approvals=list(t.approvals))
            for t in subject.workflow.available(state, actions)
            if t.name not in excluded and (subject is not CASE or not delegation_holds(t.name, out))]


def _informant(box: SecretBox, row: Any) -> str | None:
    if not row["informant_enc"]:
        return None
    who = msgspec.json.decode(box.decrypt_text(row["informant_enc"], aad=informant_aad(row["office_id"])))
    # Staff see who to call back, masked: the name's first character and the phone's ends.
    return f"{who['name'][:1]}**" + (f" {mask_phone(who['phone'])}" if who.get("phone") else "")


# The staff read of a clue in one statement (modules/kernel/single_read.py).
_CLUE_READ = f"""
select c as item, {related_columns("c.id")}, {link_columns("c.id")}
from pil_clues c where c.id = $1 and c.office_id = $2
"""


async def clue_read(conn: asyncpg.Connection, clue_id: UUID, office_id: UUID | None) -> Any:
    """staff_clue with everything clue_view shows, in one round trip; another office's clue is 404."""
    return await read_one(conn, _CLUE_READ, clue_id, office_id)


async def clue_view(conn: asyncpg.Connection, box: SecretBox, row: Any, actions: frozenset[str],
                    read: Any = None) -> ClueOut:
    """A clue as staff see it, with its links, timeline, files, pending proposal and the steps open to the caller.
    `read` is a `clue_read` answer (then nothing more is read); else each part is read."""
    if read is not None:
        row = read["item"]
        _, events, files, pending = await related(conn, read, row["id"])
        linked = links_of(read["links"], row["id"])
    else:
        pending = await pending_proposal(conn, row["id"])
        events = await timeline(conn, row["id"], public_only=False)
        files = await attachments(conn, row["id"], staff=True)
        linked = await links(conn, row["id"])
    return ClueOut(
        id=row["id"], clue_no=row["clue_no"], state=row["state"], state_label=CLUE_STATES[row["state"]],
        source=row["source"], domain=row["domain"], title=row["title"], description=row["description"],
        address=row["address"], latitude=row["latitude"], longitude=row["longitude"],
        public_interest=row["public_interest"], responsible_party=row["responsible_party"],
        submitted_by=row["submitted_by"], partner_reference=row["partner_ref"], informant=_informant(box, row),
        possible_duplicates=list(row["duplicate_of"]), case_id=row["case_id"], referred_to=row["referred_to"],
        created_at=row["created_at"], links=linked, timeline=events, attachments=files,
        pending_proposal=proposal_out(CLUE, pending) if pending else None,
        available_steps=[] if pending else _steps(CLUE, row["state"], actions))


def recommendation_out(r: Any) -> RecommendationOut:
    """A recommendation row as staff see it."""
    return RecommendationOut(id=r["id"], rec_no=r["rec_no"], agency=r["agency_client"], agency_name=r["agency_name"],
                             content=r["content"], urgent=r["urgent"], issued_at=r["issued_at"],
                             received_at=r["received_at"], replied_at=r["replied_at"], reply_text=r["reply_text"],
                             reply_rectified=r["reply_rectified"], reply_late=r["reply_late"])


# The staff read of a case in one statement (modules/kernel/single_read.py).
_CASE_READ = f"""
select c as item, (select r from pil_recommendations r where r.case_id = c.id) as rec, {related_columns("c.id")},
       {link_columns("c.id")}
from pil_cases c where c.id = $1 and c.office_id = $2
"""


async def case_read(conn: asyncpg.Connection, case_id: UUID, office_id: UUID | None) -> Any:
    """staff_case with everything case_view shows, in one round trip; another office's case is 404."""
    return await read_one(conn, _CASE_READ, case_id, office_id)


async def case_view(conn: asyncpg.Connection, row: Any, actions: frozenset[str], read: Any = None) -> CaseOut:
    """A case as staff see it: its recommendation, deadlines, timeline, files and the steps open to the caller.
    `read` is a `case_read` answer (then nothing more is read); else each part is read."""
    if read is not None:
        row, rec = read["item"], read["rec"]
        clock_list, events, files, pending = await related(conn, read, row["id"])
        linked = links_of(read["links"], row["id"])
    else:
        pending = await pending_proposal(conn, row["id"])
        rec = await conn.fetchrow("select * from pil_recommendations where case_id = $1", row["id"])
        clock_list = (await clock_views(conn, [row["id"]])).get(row["id"], [])
        events = await timeline(conn, row["id"], public_only=False)
        files = await attachments(conn, row["id"], staff=True)
        linked = await links(conn, row["id"])
    return CaseOut(
        id=row["id"], case_no=row["case_no"], clue_id=row["clue_id"], route=row["route"], state=row["state"],
        state_label=CASE_STATES[row["state"]], domain=row["domain"], title=row["title"], agency=row["agency_client"],
        respondent=row["respondent"], handler_id=row["handler_id"], disposition=row["disposition"],
        created_at=row["created_at"], closed_at=row["closed_at"],
        recommendation=recommendation_out(rec) if rec else None, clocks=clock_list, timeline=events,
        attachments=files, links=linked, pending_proposal=proposal_out(CASE, pending) if pending else None,
        available_steps=[] if pending else _steps(CASE, row["state"], actions, row["route"], clock_list))


class ClueFilter(msgspec.Struct, kw_only=True):
    """What the clue list is narrowed to (each None when not asked for)."""

    state: str | None = None
    domain: str | None = None
    source: str | None = None
    q: str | None = None


class CaseFilter(msgspec.Struct, kw_only=True):
    """What the case list is narrowed to (each None when not asked for)."""

    state: str | None = None
    domain: str | None = None
    route: str | None = None
    handler: UUID | None = None
    due_before: date | None = None
    q: str | None = None


def _office_list(office_id: UUID | None, **equal: Any) -> Keyset:
    """An office's list, newest first, narrowed to rows whose column equals each filter given (None: not asked)."""
    q = keyset("c.created_at", "c.id")
    q.owner("c.office_id", office_id)
    for column, value in equal.items():
        if value is not None:
            q.add(f"c.{column} = ?", value)
    return q


def clue_item(r: Any) -> ClueItem:
    """A clue as the list shows it."""
    return ClueItem(id=r["id"], clue_no=r["clue_no"], state=r["state"], source=r["source"], domain=r["domain"],
                    title=r["title"], address=r["address"], possible_duplicates=len(r["duplicate_of"]),
                    created_at=r["created_at"])


async def list_clues(conn: asyncpg.Connection, *, office_id: UUID | None, limit: int, after: Cursor | None,
                     where: ClueFilter) -> Page[ClueItem]:
    """A page of the office's clue registry, newest first."""
    q = _office_list(office_id, state=where.state, domain=where.domain, source=where.source)
    if where.q:
        q.add("((c.title || ' ' || c.description || ' ' || coalesce(c.address, '')) ilike ? or c.clue_no = ?)",
              contains(where.q), where.q.strip())
    sql, args = q.sql("select c.id, c.clue_no, c.state, c.source, c.domain, c.title, c.address, c.duplicate_of, "
                      "c.created_at from pil_clues c", after, limit)
    return page_of(await conn.fetch(sql, *args), limit, clue_item, lambda r: (r["created_at"], r["id"]))


_CASE_SELECT = ("select c.id, c.case_no, c.route, c.state, c.domain, c.title, c.handler_id, c.created_at, "
                "(select min(k.due) from clocks k where k.subject_id = c.id and k.status in ('running', 'paused')) "
                "as next_due from pil_cases c")


def case_item(r: Any) -> CaseItem:
    """A case as the list shows it."""
    return CaseItem(id=r["id"], case_no=r["case_no"], route=r["route"], state=r["state"], domain=r["domain"],
                    title=r["title"], handler_id=r["handler_id"], created_at=r["created_at"], next_due=r["next_due"])


async def list_cases(conn: asyncpg.Connection, *, office_id: UUID | None, limit: int, after: Cursor | None,
                     where: CaseFilter) -> Page[CaseItem]:
    """A page of the office's cases, newest first, with the nearest open deadline of each."""
    q = _office_list(office_id, state=where.state, domain=where.domain, route=where.route, handler_id=where.handler)
    if where.due_before:
        q.add("exists (select 1 from clocks k where k.subject_id = c.id and k.status in ('running', 'paused') "
              "and k.due <= ?::date)", where.due_before)
    if where.q:
        q.add("(c.title ilike ? or c.case_no = ?)", contains(where.q), where.q.strip())
    sql, args = q.sql(_CASE_SELECT, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, case_item, lambda r: (r["created_at"], r["id"]))




def partner_clue_out(r: Any) -> PartnerClueOut:
    """A transferred clue as its partner sees it."""
    return PartnerClueOut(id=r["id"], clue_no=r["clue_no"], reference=r["partner_ref"],
                          status=PUBLIC_CLUE_STATUS[r["state"]],  # type: ignore[arg-type]  # the mapping's values are the Literal's members
                          received_at=r["created_at"])


async def partner_clue(conn: asyncpg.Connection, clue_id: UUID, client_id: str) -> PartnerClueOut:
    """One clue this partner client transferred, or 404."""
    row = await conn.fetchrow("select * from pil_clues where id = $1 and partner_client = $2", clue_id, client_id)
    if row is None:
        raise not_found()
    return partner_clue_out(row)


async def partner_clues(conn: asyncpg.Connection, client_id: str, *, limit: int,
                        after: Cursor | None) -> Page[PartnerClueOut]:
    """The clues this partner client transferred, newest first."""
    q = keyset("c.created_at", "c.id")
    q.add("c.partner_client = ?", client_id)
    sql, args = q.sql("select c.* from pil_clues c", after, limit)
    return page_of(await conn.fetch(sql, *args), limit, partner_clue_out, lambda r: (r["created_at"], r["id"]))


_AGENCY_SELECT = (
    "select r.*, o.name as office_name, c.title as case_title, "
    "(select k.due from clocks k where k.subject_id = r.case_id and k.code = 'agency_reply' "
    " order by k.occurrence desc limit 1) as reply_due "
    "from pil_recommendations r join pil_cases c on c.id = r.case_id join offices o on o.id = r.office_id")


def agency_recommendation(r: Any) -> AgencyRecommendation:
    """A recommendation as its agency sees it."""
    return AgencyRecommendation(id=r["id"], rec_no=r["rec_no"], office=r["office_name"], case_title=r["case_title"],
                                content=r["content"], urgent=r["urgent"], issued_at=r["issued_at"],
                                received_at=r["received_at"], reply_due=r["reply_due"], replied_at=r["replied_at"],
                                reply_late=r["reply_late"])


async def recommendation_for_agency(conn: asyncpg.Connection, rec_id: UUID, client_id: str, *,
                                    lock: bool = False) -> Any:
    """A recommendation addressed to this agency (with its case title, office and reply due date), or 404."""
    row = await conn.fetchrow(f"{_AGENCY_SELECT} where r.id = $1 and r.agency_client = $2"
                              + (" for update of r" if lock else ""), rec_id, client_id)
    if row is None:
        raise not_found()
    return row


async def recommendation_of_case(conn: asyncpg.Connection, case_id: UUID) -> Any:
    """The recommendation issued on the case, with its office's name (`office_name`), or 404 before it is issued."""
    row = await conn.fetchrow("select r.*, o.name as office_name from pil_recommendations r "
                              "join offices o on o.id = r.office_id where r.case_id = $1", case_id)
    if row is None:
        raise not_found("No recommendation has been issued on this case.")
    return row


async def agency_recommendations(conn: asyncpg.Connection, client_id: str, *, limit: int,
                                 after: Cursor | None) -> Page[AgencyRecommendation]:
    """The agency's inbox: recommendations addressed to it, newest first."""
    q = keyset("r.issued_at", "r.id")
    q.add("r.agency_client = ?", client_id)
    sql, args = q.sql(_AGENCY_SELECT, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, agency_recommendation, lambda r: (r["issued_at"], r["id"]))


async def questions(conn: asyncpg.Connection, rec: Any) -> list[QuestionOut]:
    """The agency's questions on a recommendation, oldest first, each with the office's answer once given: read from
    the case's timeline, nothing else of it."""
    rows = await conn.fetch(
        "select at, type, body, data->>'questionId' as qid from timeline_events where subject_id = $1 "
        "and module = 'litigation' and type in ('recommendation.question', 'recommendation.answer') "
        "and data->>'recommendationId' = $2 order by id", rec["case_id"], str(rec["id"]))
    answers = {r["qid"]: r for r in rows if r["type"] == "recommendation.answer"}
    return [QuestionOut(id=UUID(r["qid"]), text=r["body"], asked_at=r["at"],
                        answer=answers[r["qid"]]["body"] if r["qid"] in answers else None,
                        answered_at=answers[r["qid"]]["at"] if r["qid"] in answers else None)
            for r in rows if r["type"] == "recommendation.question"]
