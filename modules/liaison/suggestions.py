"""Suggestions 代表建议 / 政协提案: submitted or logged, numbered, assigned, answered on time (with review and
approval), followed up, or turned into a complaint. Every function runs in the caller's transaction; state changes
go through the kernel's `apply`, with their timeline entry, audit record and outbox event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError, conflict
from api.outbox import emit
from auth.audit import Actor, record
from modules.clocks.engine import NotApplicable
from modules.clocks.store import clock_views, record_event, start_clock
from modules.kernel import steps
from modules.kernel.links import link
from modules.kernel.steps import Subject, clock_settings
from modules.kernel.timeline import add_event
from modules.liaison.register import check_staff
from modules.liaison.rules import REPLY_CLOCKS, WORKFLOW

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("SUBJECT", "assign", "convert", "decide", "draft_reply", "followup", "reclassify", "submit")
MODULE = "liaison"
# 建议 for a deputy's suggestion, 提案 for a member's proposal.
_PREFIX = {"deputy": "JY", "member": "TA"}


async def tell(conn: asyncpg.Connection, office_id: UUID, user_id: UUID | None, payload: dict[str, Any]) -> None:
    """The office's liaison staff hear of everything; the representative's app of what they are told (ids only)."""
    await emit(conn, "liaison.staff", payload, office_id=office_id)
    if user_id is not None:
        await emit(conn, "liaison.representative", {**payload, "userId": str(user_id)}, office_id=office_id)


async def _notify(conn: asyncpg.Connection, row: Any, event: str, public: bool,
                  extra: dict[str, Any] | None = None) -> None:
    user_id = await conn.fetchval("select user_id from liaison_representatives where id = $1",
                                  row["representative_id"]) if public else None
    await tell(conn, row["office_id"], user_id, {"suggestionId": str(row["id"]), "event": event, **(extra or {})})


SUBJECT = Subject(
    module=MODULE, table="liaison_suggestions", kind="suggestion", workflow=WORKFLOW, notify=_notify,
    field_columns={"department": "department", "handlerId": "handler_id", "reply": "reply",
                   "satisfaction": "satisfaction", "comment": "satisfaction_comment"},
    listing={"handler_id": "t.handler_id", "department": "t.department", "ref": "t.number", "title": "t.title"},
    category={"code": "t.classification",
              "label": "case t.classification when 'difficult' then '疑难' else '一般' end"},
)


async def _number(conn: asyncpg.Connection, office: Any, kind: str, at: datetime) -> str:
    """The next number of the office's year, e.g. JINS-JY-2026-0007 (the counter row serialises submissions)."""
    n = await conn.fetchval(
        "insert into liaison_counters (office_id, year, last) values ($1, $2, 1) "
        "on conflict (office_id, year) do update set last = liaison_counters.last + 1 returning last",
        office["id"], at.year)
    return f"{office['code'][:4].upper()}-{_PREFIX[kind]}-{at.year}-{n:04d}"


async def submit(conn: asyncpg.Connection, actor: Actor, office: Any, rep: Any, *, channel: str, title: str,
                 body: str, created_by: UUID | None) -> Any:
    """Register a suggestion and start its 3-month reply clock. Art. 51 counts from the day the organ receives it
    (交办); received directly from the representative, that is the day of submission."""
    now = datetime.now(UTC)
    row = await conn.fetchrow(
        """
        insert into liaison_suggestions (office_id, number, representative_id, channel, title, body, state,
                                         created_by, created_at)
        values ($1, $2, $3, $4, $5, $6, 'submitted', $7, $8) returning *
        """,
        office["id"], await _number(conn, office, rep["kind"], now), rep["id"], channel, title, body, created_by, now)
    await add_event(conn, MODULE, row["id"], actor, "submitted", public=True,
                    body=f"已收到，编号 {row['number']}。", data={"channel": channel})
    overrides = (await clock_settings(conn, office["id"], MODULE)).get(REPLY_CLOCKS["normal"])
    await start_clock(conn, office_id=office["id"], module=MODULE, subject_id=row["id"], code=REPLY_CLOCKS["normal"],
                      started_at=now, overrides=overrides)
    await record(conn, actor, "suggestion.created", office_id=office["id"], object_type="suggestion",
                 object_id=row["id"], detail={"channel": channel, "number": row["number"]})
    await _notify(conn, row, "suggestion.created", False)
    return row


async def assign(conn: asyncpg.Connection, actor: Actor, row: Any, *, department: str,
                 handler_id: UUID | None) -> Any:
    """Hand the suggestion to the owning department (and its handler); again to move it elsewhere."""
    if handler_id is not None:
        await check_staff(conn, row["office_id"], handler_id, "handlerId")
    fields = {"department": department, "handlerId": handler_id}
    return await steps.apply(conn, SUBJECT, actor, row, "assign", fields,
                             body=f"已交{department}办理。",
                             event_data={"department": department,
                                         "handlerId": str(handler_id) if handler_id else None})


async def reclassify(conn: asyncpg.Connection, actor: Actor, row: Any, *, reason: str) -> Any:
    """Classify as wide-ranging or difficult: the 3-month clock stops applying (it is not met) and the 6-month
    one runs from the same start [代表法 2025 Art. 51]. Refused once the 3 months have run out: reclassifying
    then would hide an overdue reply."""
    if row["classification"] == "difficult":
        raise conflict("The suggestion is already classified as difficult.")
    if row["state"] not in ("submitted", "assigned"):
        raise conflict(f"A suggestion that is {row['state']} is not reclassified.", state=row["state"])
    clock = await conn.fetchrow("select * from clocks where subject_id = $1 and code = $2 and finished_at is null "
                                "order by occurrence desc limit 1", row["id"], REPLY_CLOCKS["normal"])
    if clock is None:
        raise conflict("The suggestion has no running 3-month deadline.")
    # Judged as the engine sees it now (the stored status may wait for the sweep).
    current = next(v for v in (await clock_views(conn, [row["id"]]))[row["id"]]
                   if v.code == REPLY_CLOCKS["normal"] and v.finished_at is None)
    if current.status == "overdue":
        raise ProblemError(ErrorCode.CONFLICT, "The 3-month deadline has passed; it can no longer be moved.",
                           extra={"due": current.due.isoformat()})
    now = datetime.now(UTC)
    await record_event(conn, subject_id=row["id"], code=REPLY_CLOCKS["normal"],
                       event=NotApplicable(at=now, reason_code="reclassified"))
    overrides = (await clock_settings(conn, row["office_id"], MODULE)).get(REPLY_CLOCKS["difficult"])
    state = await start_clock(conn, office_id=row["office_id"], module=MODULE, subject_id=row["id"],
                              code=REPLY_CLOCKS["difficult"], started_at=clock["started_at"], overrides=overrides)
    row = await conn.fetchrow("update liaison_suggestions set classification = 'difficult', updated_at = now() "
                              "where id = $1 returning *", row["id"])
    data = {"reason": reason, "due": state.due.isoformat()}
    await add_event(conn, MODULE, row["id"], actor, "reclassified", public=True,
                    body=f"本件涉及面广、处理难度大，答复期限延至 {state.due.isoformat()}。", data=data)
    await record(conn, actor, "suggestion.reclassified", office_id=row["office_id"], object_type="suggestion",
                 object_id=row["id"], detail=data)
    await _notify(conn, row, "suggestion.reclassified", True)
    return row


async def draft_reply(conn: asyncpg.Connection, actor: Actor, row: Any, *, text: str) -> Any:
    """Propose the reply: it is delivered only once the department head has reviewed and the chief approved it."""
    return await steps.take_step(conn, SUBJECT, actor, row, "reply", {"reply": text}, body=text)


async def decide(conn: asyncpg.Connection, actor: Actor, actions: frozenset[str], row: Any, *, proposal_id: UUID,
                 decision: steps.Decision, reason: str | None) -> Any:
    """Review, approve (the last approval delivers the reply and stops the reply clock), return or withdraw."""
    _, row = await steps.decide(conn, SUBJECT, actor, actions, row, proposal_id, decision, reason=reason)
    return row


async def followup(conn: asyncpg.Connection, actor: Actor, row: Any, *, satisfaction: str,
                   comment: str | None) -> Any:
    """The satisfaction follow-up 回访问效, recorded by staff or given in the app: satisfied or basically satisfied
    concludes the suggestion; not satisfied sends it back to its department to be handled again."""
    step = "reopen" if satisfaction == "not_satisfied" else "conclude"
    body = comment or {"satisfied": "满意", "basically_satisfied": "基本满意", "not_satisfied": "不满意"}[satisfaction]
    return await steps.apply(conn, SUBJECT, actor, row, step, {"satisfaction": satisfaction, "comment": comment},
                             body=body)


async def convert(conn: asyncpg.Connection, box: SecretBox, actor: Actor, row: Any, *, office: Any, category: Any,
                  reason: str) -> tuple[Any, Any]:
    """Turn the suggestion into a complaint of `category` filed for the representative (their name and phone as
    the reporter's), conclude the suggestion, and link the two both ways. Returns (suggestion, complaint)."""
    from modules.complaints.service import Reporter
    from modules.complaints.service import create as file_complaint

    WORKFLOW.move(row["state"], "convert", {})
    if any(f.get("required") for f in category["fields"] or []):
        raise ProblemError(ErrorCode.UNPROCESSABLE, "That category asks for fields a suggestion does not carry.",
                           errors=[{"field": "category", "message": "has required fields"}])
    rep = await conn.fetchrow("select * from liaison_representatives where id = $1", row["representative_id"])
    number = box.decrypt_text(rep["phone_enc"], aad=b"phone") if rep["phone_enc"] else None
    complaint, _ = await file_complaint(
        conn, box, actor, office=office, category=category, title=row["title"], body=row["body"], location=None,
        persons=[], fields={}, channel="letter", reporter=Reporter(name=rep["name"], phone=number, id_number=None),
        complainant_id=None, created_by=UUID(actor.id) if actor.id else None,
        clock_overrides=await clock_settings(conn, office["id"], "complaints"))
    row = await steps.apply(conn, SUBJECT, actor, row, "convert", {}, body=reason,
                            event_data={"complaintId": str(complaint["id"]), "receiptNo": complaint["receipt_no"]})
    await link(conn, actor, row["office_id"], source=(MODULE, row["id"]), target=("complaints", complaint["id"]),
               kind="converted_to_complaint", public=True)
    return row, complaint
