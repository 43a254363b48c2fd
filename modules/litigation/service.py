"""The rules of public-interest litigation: clue intake and duplicates, the decisions on clues and cases through
the kernel's approval chains, the recommendation loop with the agency, filings. Every function runs inside the
caller's transaction and leaves a timeline event, an audit record and an outbox event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from api.db import opaque
from api.errors import ErrorCode, ProblemError, conflict, forbidden, invalid, not_found
from api.outbox import emit
from auth.audit import record
from modules.clocks.rules import Period
from modules.clocks.store import clock_request, start_chained, start_clock, stop_clock, today
from modules.kernel import steps
from modules.kernel.links import link
from modules.kernel.nearby import within_500m
from modules.kernel.steps import Subject
from modules.kernel.timeline import add_event
from modules.litigation.rules import (
    CASE_WORKFLOW,
    CLUE_WORKFLOW,
    DEFAULT_DOMAINS,
    FILINGS,
    ONLY_DELEGATED_OUT,
    ROUTE_STEPS,
    SUSPENDED_CLOCKS,
    WHILE_DELEGATED_OUT,
    delegation_holds,
)

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor
    from auth.secretbox import SecretBox

__all__ = (
    "CASE", "CLUE", "MODULE", "answer", "ask", "assign_handler", "carried_out", "case_step", "clock_event",
    "clue_from_complaint", "clue_step", "create_clue", "decide", "domains", "file_report", "informant_aad",
    "link_consultation", "possible_duplicates", "receive", "reply", "set_domain",
)

MODULE = "litigation"
# Two months, or 15 days when urgent (检察建议工作规定 2019; the recommendation says which).
REPLY_PERIOD = Period(2, "months")
URGENT_REPLY_PERIOD = Period(15)


async def _notify(conn: asyncpg.Connection, row: Any, event: str, public: bool,
                  extra: dict[str, Any] | None = None) -> None:
    """The office's staff hear of every step on a clue or a case (ids only)."""
    await emit(conn, "litigation.staff", {"subjectId": str(row["id"]), "event": event, **(extra or {})},
               office_id=row["office_id"])


# Counted by domain: the office's own label, else the module's default one (an office without a list of its own).
_DOMAIN = {"code": "t.domain", "label": "coalesce((select d.label_zh from pil_domains d where d.office_id = t.office_id"
           " and d.code = t.domain), case t.domain "
           + " ".join(f"when '{c}' then '{lbl}'" for c, lbl in DEFAULT_DOMAINS) + " else t.domain end)"}

# Listed with their numbers (flow monitoring, and what a complaint or suggestion became); clues run no clocks. A
# representative who raised a case (through a suggestion or complaint) follows its steps, never their content.
CLUE = Subject(module=MODULE, table="pil_clues", kind="clue", workflow=CLUE_WORKFLOW, notify=_notify,
               field_columns={"referredTo": "referred_to", "reason": "reason"},
               listing={"handler_id": "null::uuid", "department": "null::text", "ref": "t.clue_no",
                        "title": "t.title"}, category=_DOMAIN)
CASE = Subject(module=MODULE, table="pil_cases", kind="case", workflow=CASE_WORKFLOW, notify=_notify,
               field_columns={"disposition": "disposition"},
               listing={"handler_id": "t.handler_id", "department": "null::text", "ref": "t.case_no",
                        "title": "t.title"}, category=_DOMAIN, follow="steps")


def informant_aad(office_id: UUID) -> bytes:
    """What an informant's ciphertext is bound to (a row's value pasted into another office's fails to decrypt)."""
    return f"pil-informant:{office_id}".encode()


async def domains(conn: asyncpg.Connection, office_id: UUID) -> list[tuple[str, str, bool]]:
    """The office's domains (code, label, active): its own list, or the module's defaults until it keeps one."""
    rows = await conn.fetch("select code, label_zh, active from pil_domains where office_id = $1 "
                            "order by position, code", office_id)
    if not rows:
        return [(code, label, True) for code, label in DEFAULT_DOMAINS]
    return [(r["code"], r["label_zh"], r["active"]) for r in rows]


async def _check_domain(conn: asyncpg.Connection, office_id: UUID, code: str) -> None:
    if not any(c == code and active for c, _, active in await domains(conn, office_id)):
        raise invalid("No such domain at this office.", ("domain", "unknown or inactive domain"))


async def set_domain(conn: asyncpg.Connection, actor: Actor, office_id: UUID, code: str, *, label: str,
                     active: bool, position: int) -> None:
    """Add or change a domain of the office's list (the defaults become the office's own list first)."""
    await conn.executemany(
        "insert into pil_domains (office_id, code, label_zh, position) values ($1, $2, $3, $4) "
        "on conflict do nothing", [(office_id, c, lbl, i * 10) for i, (c, lbl) in enumerate(DEFAULT_DOMAINS)])
    await conn.execute(
        "insert into pil_domains (office_id, code, label_zh, active, position) values ($1, $2, $3, $4, $5) "
        "on conflict (office_id, code) do update set label_zh = excluded.label_zh, active = excluded.active, "
        "position = excluded.position", office_id, code, label, active, position)
    await record(conn, actor, "litigation.domain.set", office_id=office_id, object_type="pil_domain", object_id=code,
                 detail={"label": label, "active": active})


async def _next_number(conn: asyncpg.Connection, office_id: UUID, kind: str, year: int) -> int:
    """The next number of its kind for the office and year; concurrent takers queue on the counter's row."""
    return await conn.fetchval(
        "insert into pil_counters (office_id, kind, year, last) values ($1, $2, $3, 1) "
        "on conflict (office_id, kind, year) do update set last = pil_counters.last + 1 returning last",
        office_id, kind, year)


async def _office_code(conn: asyncpg.Connection, office_id: UUID) -> str:
    return (await conn.fetchval("select code from offices where id = $1", office_id)).upper()


def _duplicates_sql() -> str:
    # Every value is opaque to the planner, or it would plan the search again for every clue (api.db.opaque).
    office, domain, address, lat, lon, exclude = map(
        opaque, ("$1::uuid", "$2::text", "$3::text", "$4::float8", "$5::float8", "$6::uuid"))
    return f"""
    select id from (
        (select id, created_at from pil_clues
         where {address} is not null and office_id = {office} and domain = {domain} and address = {address}
           and created_at > now() - interval '1 year' order by created_at desc limit 10)
        union
        (select id, created_at from pil_clues
         where {lat} is not null and office_id = {office} and domain = {domain} and {within_500m(lat, lon)}
           and created_at > now() - interval '1 year' limit 10)
    ) found where {exclude} is null or id <> {exclude} order by created_at desc limit 10
    """


_DUPLICATES = _duplicates_sql()


async def possible_duplicates(conn: asyncpg.Connection, *, office_id: UUID, domain: str, address: str | None,
                              latitude: float | None, longitude: float | None,
                              exclude: UUID | None = None) -> list[UUID]:
    """Clues of the last year in the same domain and place (the same address, or within about 500 m): flagged to
    staff, never merged. Each branch walks its own index and stops at ten rows."""
    rows = await conn.fetch(
        _DUPLICATES,
        office_id, domain, address, latitude, longitude, exclude)
    return [r["id"] for r in rows]


async def create_clue(
    conn: asyncpg.Connection, box: SecretBox | None, actor: Actor, *, office_id: UUID, source: str, domain: str,
    title: str,
    description: str, address: str | None, latitude: float | None, longitude: float | None,
    public_interest: str | None, responsible_party: str | None, partner_client: str | None = None,
    partner_ref: str | None = None, informant: dict[str, str | None] | None = None,
    volunteer_user: UUID | None = None,
) -> Any:
    """Register a clue in the office's registry: numbered, checked for possible duplicates, on the timeline (409
    when the partner client already transferred one under this reference)."""
    if partner_ref is not None:
        existing = await conn.fetchval("select id from pil_clues where partner_client = $1 and partner_ref = $2",
                                       partner_client, partner_ref)
        if existing is not None:
            raise conflict("A clue was already transferred under this reference.", clueId=str(existing))
    await _check_domain(conn, office_id, domain)
    now = datetime.now(UTC)
    n = await _next_number(conn, office_id, "clue", now.year)
    clue_no = f"{await _office_code(conn, office_id)}-XS-{now.year}-{n:05d}"
    dupes = await possible_duplicates(conn, office_id=office_id, domain=domain, address=address, latitude=latitude,
                                      longitude=longitude)
    sealed = None
    if informant:
        import msgspec

        if box is None:
            raise ValueError("an informant is stored sealed: pass the secret box")
        sealed = box.encrypt_text(msgspec.json.encode(informant).decode(), aad=informant_aad(office_id))
    row = await conn.fetchrow(
        """
        insert into pil_clues (office_id, clue_no, source, domain, title, description, address, latitude, longitude,
            public_interest, responsible_party, submitted_by, partner_client, partner_ref, informant_enc, duplicate_of,
            volunteer_user)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
        returning *
        """,
        office_id, clue_no, source, domain, title, description, address, latitude, longitude, public_interest,
        responsible_party, f"{actor.kind}:{actor.id}", partner_client, partner_ref, sealed, dupes, volunteer_user)
    data = {"clueNo": clue_no, "source": source, "domain": domain,
            **({"possibleDuplicates": [str(d) for d in dupes]} if dupes else {})}
    await add_event(conn, MODULE, row["id"], actor, "created", public=False, data=data)
    await record(conn, actor, "clue.create", office_id=office_id, object_type="clue", object_id=row["id"],
                 detail=data)
    await _notify(conn, row, "clue.created", False)
    return row


async def clue_from_complaint(conn: asyncpg.Connection, box: SecretBox, actor: Actor, *, office_id: UUID,
                              complaint_id: UUID, domain: str, public_interest: str | None,
                              responsible_party: str | None) -> Any:
    """A complaint of the office becomes a clue, linked both ways ("transferred_to_clue" on its timeline, the
    origin on the clue's). Its text and place come over; the complainant's identity does not."""
    origin = await conn.fetchrow(
        "select id, title, body, address, latitude, longitude from complaints where id = $1 and office_id = $2",
        complaint_id, office_id)
    return await _clue_from(conn, box, actor, office_id, ("complaints", "complaint"), origin, domain=domain,
                            public_interest=public_interest, responsible_party=responsible_party)


async def clue_from_suggestion(conn: asyncpg.Connection, box: SecretBox, actor: Actor, *, office_id: UUID,
                               suggestion_id: UUID, domain: str, public_interest: str | None,
                               responsible_party: str | None) -> Any:
    """A deputy's suggestion or member's proposal of the office becomes a clue (source `deputy`), linked both ways,
    so the representative sees what became of it. Its text comes over; the representative's identity does not."""
    origin = await conn.fetchrow(
        "select id, title, body, null::text as address, null::float8 as latitude, null::float8 as longitude "
        "from liaison_suggestions where id = $1 and office_id = $2", suggestion_id, office_id)
    return await _clue_from(conn, box, actor, office_id, ("liaison", "deputy"), origin, domain=domain,
                            public_interest=public_interest, responsible_party=responsible_party)


async def _clue_from(conn: asyncpg.Connection, box: SecretBox, actor: Actor, office_id: UUID,
                     origin_of: tuple[str, str], origin: Any, *, domain: str, public_interest: str | None,
                     responsible_party: str | None) -> Any:
    """Register a clue from another module's item of the office (404 when there is none, 409 when it became a clue
    already) and link the two both ways."""
    module, source = origin_of
    if origin is None:
        raise not_found("No such item at this office.")
    done = await conn.fetchval(
        "select to_id from subject_links where from_id = $1 and kind = 'transferred_to_clue'", origin["id"])
    if done is not None:
        raise conflict("This item was already converted into a clue.", clueId=str(done))
    row = await create_clue(conn, box, actor, office_id=office_id, source=source, domain=domain,
                            title=origin["title"], description=origin["body"], address=origin["address"],
                            latitude=origin["latitude"], longitude=origin["longitude"],
                            public_interest=public_interest, responsible_party=responsible_party)
    await link(conn, actor, office_id, source=(module, origin["id"]), target=(MODULE, row["id"]),
               kind="transferred_to_clue")
    return row


def _fields(data: Any) -> dict[str, Any]:
    """A step request's fields as the workflow and the proposal keep them (camelCase, only those given)."""
    return {k: v for k, v in {
        "reason": data.reason, "route": data.route, "agency": data.agency, "respondent": data.respondent,
        "referredTo": data.referred_to, "referredOffice": data.referred_office, "delegatedTo": data.delegated_to,
        "content": data.content,
        "urgent": data.urgent or None,
        "judgment": data.judgment, "disposition": data.disposition, "conclusion": data.conclusion,
        "evidence": sorted(set(data.evidence)) if data.evidence else None,
        "onSite": data.on_site or None}.items() if v is not None}


async def _agency(conn: asyncpg.Connection, office_id: UUID, client_id: str | None) -> Any:
    """The administrative agency addressed: a government partner client of the office, or 400."""
    row = await conn.fetchrow(
        "select client_id, name from partner_clients where client_id = $1 and office_id = $2 "
        "and agency_kind = 'government' and disabled_at is null", client_id, office_id)
    if row is None:
        raise invalid("The administrative route names an agency: a government partner client of this office.",
                      ("agency", "unknown agency"))
    return row


async def clue_step(conn: asyncpg.Connection, actor: Actor, row: Any, data: Any) -> Any:
    """A step on a clue: evaluate at once; opening a case, declining or referring is proposed to the chief."""
    fields = _fields(data)
    if data.step == "open_case" and data.route == "administrative":
        await _agency(conn, row["office_id"], data.agency)
    if data.step == "refer" and data.referred_office:
        target = await _referral_office(conn, row, data.referred_office)
        fields.setdefault("referredTo", target["name"])
    return await steps.take_step(conn, CLUE, actor, row, data.step, fields, body=data.reason)


async def _referral_office(conn: asyncpg.Connection, clue: Any, code: str) -> Any:
    """The office a clue is referred to: another office with the module on, working in the clue's domain."""
    target = await conn.fetchrow(
        "select o.id, o.name from offices o join office_modules m on m.office_id = o.id and m.module = $2 "
        "and m.enabled where o.code = $1", code, MODULE)
    if target is None or target["id"] == clue["office_id"]:
        raise invalid("Refer to another office that handles PIL clues.", ("referredOffice", "not such an office"))
    await _check_domain(conn, target["id"], clue["domain"])
    return target


async def _refer(conn: asyncpg.Connection, actor: Actor, clue: Any, fields: dict[str, Any]) -> None:
    """The referred clue is registered at the receiving office (its informant stays with the referring office's
    record), linked both ways."""
    target = await _referral_office(conn, clue, fields["referredOffice"])
    row = await create_clue(
        conn, None, actor, office_id=target["id"], source="referral", domain=clue["domain"], title=clue["title"],
        description=clue["description"], address=clue["address"], latitude=clue["latitude"],
        longitude=clue["longitude"], public_interest=clue["public_interest"],
        responsible_party=clue["responsible_party"])
    await link(conn, actor, clue["office_id"], source=(MODULE, clue["id"]), target=(MODULE, row["id"]),
               kind="referred_to_office")


async def assign_handler(conn: asyncpg.Connection, actor: Actor, case: Any, handler_id: UUID, reason: str | None,
                         roles: list[str]) -> Any:
    """The department head names the case's handler: a staff member of the office whose role handles cases."""
    if CASE_WORKFLOW.is_terminal(case["state"]):
        raise conflict("The case is concluded.")
    ok = await conn.fetchval("select exists (select 1 from users where id = $1 and office_id = $2 and kind = 'staff' "
                             "and disabled_at is null and roles && $3::text[])", handler_id, case["office_id"], roles)
    if not ok:
        raise ProblemError(ErrorCode.UNPROCESSABLE, "That person cannot handle cases of this office.")
    updated = await conn.fetchrow("update pil_cases set handler_id = $2, updated_at = now() where id = $1 returning *",
                                  case["id"], handler_id)
    data = {"from": str(case["handler_id"]) if case["handler_id"] else None, "to": str(handler_id)}
    await add_event(conn, MODULE, case["id"], actor, "handler.assigned", public=False, body=reason, data=data)
    await record(conn, actor, "case.handler.assigned", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=data)
    await _notify(conn, case, "case.handler.assigned", False, {"handlerId": str(handler_id)})
    return updated


async def _check_route(conn: asyncpg.Connection, row: Any, step: str) -> None:
    other = "civil" if row["route"] == "administrative" else "administrative"
    if step in ROUTE_STEPS[other]:
        raise conflict(f"{step} belongs to the {other} route; this case is {row['route']}.")
    if step == "sue" and row["state"] == "announced":
        due = await conn.fetchval("select due from clocks where subject_id = $1 and code = 'public_notice' "
                                  "order by occurrence desc limit 1", row["id"])
        if due is not None and due >= today():
            raise conflict(f"The notice period runs until {due}; a suit follows its end.", noticeEnds=str(due))


async def _check_delegation(conn: asyncpg.Connection, row: Any, step: str) -> None:
    """One delegated investigation is out at a time, its result answers it, and the investigation is not concluded
    (a recommendation or a notice) while it is out: its 30 days would be left running with nothing to stop them."""
    if step not in WHILE_DELEGATED_OUT | ONLY_DELEGATED_OUT:
        return
    due = await conn.fetchval("select due from clocks where subject_id = $1 and code = 'delegated_investigation' "
                              "and finished_at is null", row["id"])
    if not delegation_holds(step, due is not None):
        return
    if due is None:
        raise conflict("No delegated investigation is out on this case.")
    raise conflict("A delegated investigation is out on this case; record its result first.", delegatedDue=str(due))


async def _check_evidence(conn: asyncpg.Connection, row: Any, data: Any) -> None:
    """The evidence an act cites is the case's own; an on-site follow-up cites at least one photo."""
    if data.on_site and data.step != "follow_up":
        raise invalid("Only a follow-up is marked on site.", ("onSite", "only for follow_up"))
    if not data.evidence:
        if data.on_site:
            raise invalid("An on-site follow-up cites its photos.", ("evidence", "a photo of the site is required"))
        return
    kinds = await conn.fetch("select kind from pil_evidence where case_id = $1 and seq = any($2::int[])",
                             row["id"], data.evidence)
    if len(kinds) != len(set(data.evidence)):
        raise invalid("Cite evidence entries of this case.", ("evidence", "unknown evidence entry"))
    if data.on_site and not any(k["kind"] == "photo" for k in kinds):
        raise invalid("An on-site follow-up cites its photos.", ("evidence", "a photo of the site is required"))


async def case_step(conn: asyncpg.Connection, actor: Actor, row: Any, data: Any) -> Any:
    """A step on a case: those the chief decides are proposed, the rest applied (with what follows them)."""
    await _check_route(conn, row, data.step)
    await _check_delegation(conn, row, data.step)
    await _check_evidence(conn, row, data)
    fields = _fields(data)
    t = CASE_WORKFLOW.move(row["state"], data.step, fields)
    updated = await steps.take_step(conn, CASE, actor, row, data.step, fields, body=data.reason)
    if not t.approvals:
        await carried_out(conn, actor, CASE, updated, data.step, fields)
    return updated


async def decide(conn: asyncpg.Connection, subject: Subject, actor: Actor, actions: frozenset[str], row: Any,
                 proposal_id: UUID, decision: str, reason: str | None) -> Any:
    """A decision on a proposed step; when the last approval carries it out, what follows it happens too."""
    proposal, updated = await steps.decide(conn, subject, actor, actions, row, proposal_id, decision,  # type: ignore[arg-type]  # decision is checked against the API's Literal by the route's schema
                                           reason=reason)
    if proposal["status"] == "approved":
        # The prosecutor who proposed opening the case handles it.
        await carried_out(conn, actor, subject, updated, proposal["step"], proposal["fields"],
                          proposer=proposal["proposed_by"])
        # What followed may have written to the row (the case a clue became).
        updated = await conn.fetchrow(f"select * from {subject.table} where id = $1", updated["id"])
    return updated


async def carried_out(conn: asyncpg.Connection, actor: Actor, subject: Subject, row: Any, step: str,
                      fields: dict[str, Any], *, proposer: str | None = None) -> None:
    """What a step carried out brings with it: the case a 立案 opens, the recommendation the chief signed, the
    review counted from the end of the notice period."""
    if subject is CLUE and step == "refer" and fields.get("referredOffice"):
        await _refer(conn, actor, row, fields)
    elif subject is CLUE and step == "open_case":
        await _open_case(conn, actor, row, fields, handler=proposer or actor.id)
    elif subject is CASE and step == "issue_recommendation":
        await _issue(conn, actor, row, fields)
    elif subject is CASE and step == "announce":
        await start_chained(conn, office_id=row["office_id"], module=MODULE, subject_id=row["id"], code="civil_review")
    elif subject is CASE and step in ("suspend", "resume"):
        await _review_clocks(conn, actor, row, step, fields.get("reason") or "")


async def _review_clocks(conn: asyncpg.Connection, actor: Actor, case: Any, step: str, reason: str) -> None:
    """中止审查 leaves the running review periods out until the case resumes (the chief approved it)."""
    # A review not begun yet (counted from the end of the reply period) has nothing to leave out; resumption
    # concerns the clocks the suspension paused.
    running = await conn.fetch(
        "select distinct code from clocks where subject_id = $1 and finished_at is null and code = any($2::text[]) "
        "and started_at <= now() and (coalesce(events->-1->>'kind', '') = 'paused') = ($3 = 'resume')",
        case["id"], list(SUSPENDED_CLOCKS), step)
    for r in running:
        if step == "suspend":
            await clock_request(conn, subject_id=case["id"], clock=r["code"], event="pause", reason=reason,
                                by=actor.id or "", reason_code="suspension", approver=actor.id)
        else:
            await clock_request(conn, subject_id=case["id"], clock=r["code"], event="resume", reason=reason,
                                by=actor.id or "")


async def _open_case(conn: asyncpg.Connection, actor: Actor, clue: Any, fields: dict[str, Any], *,
                     handler: str | None) -> None:
    now = datetime.now(UTC)
    n = await _next_number(conn, clue["office_id"], "case", now.year)
    case_no = f"{await _office_code(conn, clue['office_id'])}-GY-{now.year}-{n:04d}"
    agency = fields.get("agency") if fields["route"] == "administrative" else None
    case = await conn.fetchrow(
        """
        insert into pil_cases (office_id, case_no, clue_id, route, domain, title, agency_client, respondent,
            handler_id)
        values ($1, $2, $3, $4, $5, $6, $7, $8,
                (select id from users where id = case when $9 ~ '^[0-9a-f-]{36}$' then $9::uuid end
                 and office_id = $1 and kind = 'staff'))
        returning *
        """,
        clue["office_id"], case_no, clue["id"], fields["route"], clue["domain"], clue["title"], agency,
        fields.get("respondent") or clue["responsible_party"], handler)
    await conn.execute("update pil_clues set case_id = $2 where id = $1", clue["id"], case["id"])
    # Linked like any subject that became another, so what the clue came from (a complaint, a suggestion) leads to
    # the case; the timelines get this module's own entries below.
    await link(conn, actor, clue["office_id"], source=(MODULE, clue["id"]), target=(MODULE, case["id"]),
               kind="opened_as_case", on_timelines=False)
    data = {"caseNo": case_no, "route": fields["route"], "clueNo": clue["clue_no"]}
    await add_event(conn, MODULE, case["id"], actor, "created", public=False, body=fields.get("reason"), data=data)
    await add_event(conn, MODULE, clue["id"], actor, "case_opened", public=False,
                    data={"caseId": str(case["id"]), "caseNo": case_no})
    await record(conn, actor, "case.create", office_id=case["office_id"], object_type="case", object_id=case["id"],
                 detail=data)
    if agency:
        # The decision to open an administrative case is served on the agency within 7 days.
        await start_clock(conn, office_id=case["office_id"], module=MODULE, subject_id=case["id"],
                          code="pil_case_decision_service", started_at=now)
    await _notify(conn, case, "case.created", False)


async def _issue(conn: asyncpg.Connection, actor: Actor, case: Any, fields: dict[str, Any]) -> None:
    """The recommendation the chief signed: numbered per office and year, addressed to the case's agency."""
    agency = await _agency(conn, case["office_id"], case["agency_client"])
    now = datetime.now(UTC)
    n = await _next_number(conn, case["office_id"], "recommendation", now.year)
    rec_no = f"{await _office_code(conn, case['office_id'])}-JJ-{now.year}-{n:04d}"
    urgent = bool(fields.get("urgent"))
    period = URGENT_REPLY_PERIOD if urgent else REPLY_PERIOD
    rec = await conn.fetchrow(
        """
        insert into pil_recommendations (office_id, case_id, rec_no, agency_client, agency_name, content, urgent,
            reply_days, reply_months, issued_by, issued_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id
        """,
        case["office_id"], case["id"], rec_no, agency["client_id"], agency["name"], fields["content"], urgent,
        period.amount if period.unit == "days" else None, period.amount if period.unit == "months" else None,
        actor.id, now)
    data = {"recommendationId": str(rec["id"]), "recNo": rec_no, "agency": agency["client_id"], "urgent": urgent}
    await add_event(conn, MODULE, case["id"], actor, "recommendation.issued", public=False, data=data)
    await record(conn, actor, "case.recommendation.issued", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=data)
    await emit(conn, "litigation.partner", {"recommendationId": str(rec["id"]), "client": agency["client_id"],
                                            "event": "recommendation.issued"}, office_id=case["office_id"])


async def receive(conn: asyncpg.Connection, actor: Actor, case: Any, rec: Any) -> None:
    """The agency signs for the recommendation (签收): the date of service starts its reply period, two months or
    15 days as the recommendation says, and the review before suing counts from that period's end."""
    if rec["received_at"] is not None:
        return
    now = datetime.now(UTC)
    await steps.apply(conn, CASE, actor, case, "serve", {}, event_data={"recNo": rec["rec_no"]})
    await conn.execute("update pil_recommendations set received_at = $2, received_by = $3 where id = $1",
                       rec["id"], now, actor.id)
    period = URGENT_REPLY_PERIOD if rec["urgent"] else REPLY_PERIOD
    await start_clock(conn, office_id=case["office_id"], module=MODULE, subject_id=case["id"], code="agency_reply",
                      started_at=now, period=period)
    await start_chained(conn, office_id=case["office_id"], module=MODULE, subject_id=case["id"],
                        code="rectification_review")


async def reply(conn: asyncpg.Connection, actor: Actor, case: Any, rec: Any, *, text: str, rectified: bool) -> bool:
    """The agency's written reply with its rectification; a reply after the period is kept and marked late."""
    if rec["received_at"] is None:
        raise conflict("Sign for the recommendation before replying to it.")
    if rec["replied_at"] is not None:
        raise conflict("The recommendation has been answered already.")
    await steps.apply(conn, CASE, actor, case, "agency_reply", {}, body=text,
                      event_data={"recNo": rec["rec_no"], "rectified": rectified})
    status = await conn.fetchval("select status from clocks where subject_id = $1 and code = 'agency_reply' "
                                 "order by occurrence desc limit 1", case["id"])
    late = status == "met_late"
    await conn.execute("update pil_recommendations set replied_at = now(), reply_text = $2, reply_rectified = $3, "
                       "reply_late = $4 where id = $1", rec["id"], text, rectified, late)
    return late


async def ask(conn: asyncpg.Connection, actor: Actor, case: Any, rec: Any, *, text: str) -> UUID:
    """The agency's question on a recommendation addressed to it: on the case's timeline for its staff to answer
    (the agency reads only its questions and their answers). Refused once the case is concluded."""
    if CASE_WORKFLOW.is_terminal(case["state"]):
        raise conflict("The case is concluded.")
    question = uuid4()
    data = {"recommendationId": str(rec["id"]), "recNo": rec["rec_no"], "questionId": str(question)}
    await add_event(conn, MODULE, case["id"], actor, "recommendation.question", public=False, body=text, data=data)
    await record(conn, actor, "case.recommendation.question", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=data)
    await _notify(conn, case, "case.recommendation.question", False, {"questionId": str(question)})
    return question


async def answer(conn: asyncpg.Connection, actor: Actor, case: Any, question_id: UUID, text: str) -> None:
    """The office answers an agency's question on the case's recommendation, once; the agency is told."""
    asked = await conn.fetchval(
        "select data from timeline_events where subject_id = $1 and module = $2 and type = 'recommendation.question' "
        "and data->>'questionId' = $3", case["id"], MODULE, str(question_id))
    if asked is None:
        raise not_found("No such question on this case.")
    if await conn.fetchval(
            "select exists (select 1 from timeline_events where subject_id = $1 and module = $2 "
            "and type = 'recommendation.answer' and data->>'questionId' = $3)", case["id"], MODULE, str(question_id)):
        raise conflict("The question has been answered already.")
    data = {"recommendationId": asked["recommendationId"], "recNo": asked["recNo"], "questionId": str(question_id)}
    await add_event(conn, MODULE, case["id"], actor, "recommendation.answer", public=False, body=text, data=data)
    await record(conn, actor, "case.recommendation.answer", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=data)
    await emit(conn, "litigation.partner", {"recommendationId": asked["recommendationId"],
                                            "client": case["agency_client"], "event": "recommendation.answer",
                                            "questionId": str(question_id)}, office_id=case["office_id"])


async def link_consultation(conn: asyncpg.Connection, actor: Actor, case: Any, consultation_id: UUID) -> None:
    """Put a consultation 磋商 with the case's agency on the case, through the kernel's links (both timelines say
    so); linking it again changes nothing. Another office's consultation is 404."""
    found = await conn.fetchrow(
        "select c.id, k.client_id from partner_consultations c join partner_clients k on k.id = c.client_uuid "
        "where c.id = $1 and c.office_id = $2", consultation_id, case["office_id"])
    if found is None:
        raise not_found("No such consultation.")
    if case["agency_client"] is None:
        raise conflict("A consultation is held with the agency of an administrative case; this case has none.")
    if CASE_WORKFLOW.is_terminal(case["state"]):
        raise conflict("The case is concluded.")
    if found["client_id"] != case["agency_client"]:
        raise invalid("The consultation is with another agency than the case's.",
                      ("consultationId", f"a consultation with {case['agency_client']}"))
    await link(conn, actor, case["office_id"], source=(MODULE, case["id"]), target=("partners", consultation_id),
               kind="consultation")
    await record(conn, actor, "case.consultation.linked", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail={"consultationId": str(consultation_id)})


async def file_report(conn: asyncpg.Connection, actor: Actor, case: Any, kind: str, note: str | None) -> None:
    """A report the office owes was made (decision served, filed with the office above): its clock stops."""
    code = FILINGS[kind]
    state = await stop_clock(conn, case["id"], code, datetime.now(UTC))
    if state is None:
        raise conflict(f"No {kind.replace('_', ' ')} is due on this case.")
    data = {"kind": kind, "clock": code, "status": state.status}
    await add_event(conn, MODULE, case["id"], actor, f"filing.{kind}", public=False, body=note, data=data)
    await record(conn, actor, f"case.filing.{kind}", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=data)
    await _notify(conn, case, f"case.filing.{kind}", False)


async def clock_event(conn: asyncpg.Connection, actor: Actor, case: Any, data: Any, actions: frozenset[str]) -> None:
    """A suspension, resumption or extension of one of the case's periods. A suspension 中止审查 and an extension
    are the chief's (litigation.decide) to approve; the engine refuses what the clock's rule does not allow."""
    decides = "litigation.decide" in actions
    if data.event == "extend" and not decides:
        raise forbidden("Approving an extension is the chief's decision.", action="litigation.decide")
    state = await clock_request(conn, subject_id=case["id"], clock=data.clock, event=data.event, reason=data.reason,
                                by=actor.id or "", amount=data.amount, reason_code=data.reason_code,
                                approver=actor.id if decides else None, tier="chief")
    info = {"clock": data.clock, "event": data.event, "reasonCode": data.reason_code, "amount": data.amount,
            "due": state.due.isoformat()}
    await add_event(conn, MODULE, case["id"], actor, f"clock.{data.event}", public=False, body=data.reason, data=info)
    await record(conn, actor, f"case.clock.{data.event}", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=info)
    await _notify(conn, case, f"case.clock.{data.event}", False)
