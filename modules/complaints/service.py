"""The rules of complaints: intake, triage, assignment, replies, clocks, reviews. Every function runs inside the
caller's transaction and leaves a timeline event, an audit record and, where someone must be told, an outbox event."""

from __future__ import annotations

import math
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.db import opaque
from api.errors import ErrorCode, ProblemError, conflict
from api.outbox import emit
from auth.audit import Actor, Lane, lane_claim_sql, record
from modules.clocks.engine import (
    NotApplicable,
    deadline_end,
    evaluate,
)
from modules.clocks.rules import CLOCKS
from modules.clocks.store import (
    clock_request,
    insert_clocks_sql,
    office_calendar,
    plan_clocks,
    record_event,
    start_clock,
    start_next,
    stop_clock,
)
from modules.complaints.rules import CLOCK_KINDS, WORKFLOW
from modules.kernel import steps
from modules.kernel.nearby import within_500m
from modules.kernel.steps import Subject, clock_settings
from modules.kernel.timeline import add_event

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox
    from modules.complaints.schemas import CategoryField

__all__ = (
    "SUBJECT", "Reporter", "add_material", "assign", "check_fields", "check_received_at", "clock_event", "create",
    "decide", "fill_template", "may_take", "new_receipt_no", "note", "query_code_hash", "rate",
    "reply", "request_review", "review_open", "step", "transfer",
)
MODULE = "complaints"

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PLACEHOLDER = re.compile(r"\{(receipt_no|office|title|referred_to|reason|disposition)\}")


class Reporter:
    """Who filed and how to reach them, as stored (encrypted) with the item."""

    __slots__ = ("anonymous", "from_account", "id_number", "name", "phone", "reachable")

    def __init__(self, *, name: str | None, phone: str | None, id_number: str | None, reachable: bool = True,
                 anonymous: bool = False, from_account: bool = False) -> None:
        self.name, self.phone, self.id_number = name, phone, id_number
        self.reachable, self.anonymous = reachable, anonymous
        # The phone is the signed-in filer's account's: intake copies it from the account, sealed as it is there
        # (same key, same purpose), instead of the handler reading it first (one round trip less a filing).
        self.from_account = from_account

    def exemption(self, has_account: bool) -> str | None:
        """Why the reply clocks do not apply, or None when they do (DOMAIN.md: anonymous, no or bad contact)."""
        if self.anonymous and not has_account:
            return "anonymous"
        if not has_account and not self.phone:
            return "contact_missing"
        if not self.reachable:
            return "contact_unreachable"
        return None


def _random_code(n: int) -> str:
    # One read of the system's random source for the whole code (secrets.choice reads it once per character);
    # 32 letters divide 256, so the low five bits of each byte pick one uniformly.
    return "".join(_CROCKFORD[b & 31] for b in secrets.token_bytes(n))


def new_receipt_no(office_code: str, at: datetime) -> str:
    """A receipt number people can read out on the phone: office, date, six random characters."""
    tail = _random_code(6)
    return f"{office_code[:4].upper()}-{at:%Y%m%d}-{tail}"


def query_code_hash(box: SecretBox, receipt_no: str, code: str) -> str:
    """Keyed hash of an anonymous filer's query code (a stolen table cannot be brute-forced offline)."""
    return box.blind_index(f"{receipt_no}:{code.strip().upper()}", purpose="complaint-query-code")


_CLOCK_SKEW = timedelta(minutes=5)


def check_received_at(value: datetime | None, max_days: int) -> datetime | None:
    """A staff-given receipt time must be plausible: not in the future, not older than `max_days` (400 otherwise;
    it starts the statutory clocks, so year 0001 or 2100 would make them meaningless)."""
    if value is None:
        return None
    now = datetime.now(UTC)
    try:
        plausible = value.tzinfo is not None and now - timedelta(days=max_days) <= value <= now + _CLOCK_SKEW
    except OverflowError:  # 9999-12-31 with a negative offset is past datetime's range in UTC
        plausible = False
    if not plausible:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "receivedAt is not a plausible time of receipt.",
                           errors=[{"field": "receivedAt",
                                    "message": f"with a time zone, not in the future, at most {max_days} days ago"}])
    return value


def check_fields(defs: list[CategoryField], values: dict[str, Any]) -> dict[str, Any]:
    """Validate a category's extra fields; every problem is reported at once, each naming its field."""
    errors, by_key = [], {d.key: d for d in defs}
    for key in values:
        if key not in by_key:
            errors.append({"field": f"fields.{key}", "message": "not a field of this category"})
    for d in defs:
        value = values.get(d.key)
        if value is None or value == "" or value == []:
            if d.required:
                errors.append({"field": f"fields.{d.key}", "message": "required"})
            continue
        problem = _field_problem(d, value)
        if problem:
            errors.append({"field": f"fields.{d.key}", "message": problem})
    if errors:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Some category fields are invalid.", errors=errors)
    return {k: v for k, v in values.items() if v not in (None, "", [])}


def _field_problem(d: CategoryField, value: Any) -> str | None:
    if d.type in ("string", "text"):
        limit = 200 if d.type == "string" else 5000
        if isinstance(value, str) and len(value) <= limit:
            return None
        return f"expected text of at most {limit} characters"
    if d.type == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "expected a number"
    if d.type == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return "expected a date (YYYY-MM-DD)"
        return None
    if d.type == "single_choice":
        return None if value in d.options else f"expected one of {', '.join(d.options)}"
    if (not isinstance(value, list) or not value or any(v not in d.options for v in value)
            or len(set(value)) != len(value)):
        return f"expected a list of distinct options from {', '.join(d.options)}"
    return None


async def _notify(conn: asyncpg.Connection, row: Any, event: str, public: bool,
                  extra: dict[str, Any] | None = None) -> None:
    """The office's staff hear of everything; the signed-in complainant of what they are told."""
    payload = {"complaintId": str(row["id"]), "event": event, **(extra or {})}
    # Who handled the item when it happened: the staff event reaches that handler (modules/complaints/recipients.py).
    handler = {"assigneeId": str(row["assignee_id"])} if row["assignee_id"] else {}
    await emit(conn, "complaint.staff", {**payload, **handler}, office_id=row["office_id"])
    if public and row["complainant_id"]:
        await emit(conn, "complaint.complainant", {**payload, "userId": str(row["complainant_id"])},
                   office_id=row["office_id"])


async def _audit_and_notify(conn: asyncpg.Connection, actor: Actor, row: Any, action: str,
                            detail: dict[str, Any] | None = None, *, notify_complainant: bool = False) -> None:
    await _notify(conn, row, action, notify_complainant)
    await record(conn, actor, action, office_id=row["office_id"], object_type="complaint", object_id=row["id"],
                 detail=detail)


SUBJECT = Subject(
    module=MODULE, table="complaints", kind="complaint", workflow=WORKFLOW, notify=_notify,
    field_columns={"referredTo": "referred_to", "disposition": "disposition", "assigneeId": "assignee_id"},
    clock_applies=lambda conn, row, code: _clock_applies(conn, row, code),
    listing={"handler_id": "t.assignee_id", "department": "t.department", "ref": "t.receipt_no", "title": "t.title"},
    category={"code": "(select c.code from complaint_categories c where c.id = t.category_id)",
              "label": "(select c.name from complaint_categories c where c.id = t.category_id)"},
    follow="public",
)


def _duplicates_sql(office: str, category: str, complainant: str, phone: str, lat: str, lon: str) -> str:
    """Earlier items (90 days) in the same category from the same person, or within about 500 m of the same place,
    newest first, at most ten: flagged to staff, never merged. The arguments are the SQL expressions of what the new
    item gives. Each branch walks its own index and stops at ten rows, so the cost does not grow with the office
    (the place branch takes any ten near matches: a busy spot must not make intake slow)."""
    return f"""
    select id, created_at from (
        (select id, created_at from complaints
         where {complainant}::uuid is not null and complainant_id = {complainant} and category_id = {category}
           and created_at > now() - interval '90 days' order by created_at desc limit 10)
        union
        (select id, created_at from complaints
         where {phone}::text is not null and reporter_phone_index = {phone} and category_id = {category}
           and created_at > now() - interval '90 days' order by created_at desc limit 10)
        union
        (select id, created_at from complaints
         where {lat}::float8 is not null and office_id = {office} and category_id = {category}
           and {within_500m(lat, lon)} and created_at > now() - interval '90 days' limit 10)
    ) candidates order by created_at desc limit 10
    """


_RECEIPT_TRIES = 5
# Intake is the hot path, so it is one statement: the contact phone (a signed-in citizen's is their account's, $30),
# the duplicate search, the item, its clocks, its first timeline entry, the office's notification and the claim of
# the audit lane its record goes to (otherwise a round trip of its own). No row when
# the receipt number is taken (then nothing was written). The values the planner could fold (a filing without phone
# or place) are opaque to it, or every filing re-plans it.
_INSERT_ITEM = f"""
    with contact as (
        select u.phone_enc, u.phone_index from users u
        where {opaque("$30::bool")} and u.id = {opaque("$6::uuid")} and u.phone_enc is not null
        union all
        select $10::text, $11::text where not {opaque("$30::bool")}
    ), dupes as ({_duplicates_sql(opaque("$2::uuid"), opaque("$4::uuid"), opaque("$6::uuid"),
                                  "(select phone_index from contact)", opaque("$16::float8"), opaque("$17::float8"))}
    ), item as (
        insert into complaints (receipt_no, office_id, first_office_id, kind, category_id, channel, state,
            complainant_id, anonymous, query_code_hash, reporter_name_enc, reporter_phone_enc,
            reporter_phone_index, reporter_id_number_enc, contact_reachable, title, body, latitude, longitude,
            address, persons_reported, extra, possible_duplicates, created_by, created_at, parent_id, review_level)
        values ($1, $2, $2, $3, $4, $5, 'received', $6, $7, $8, $9, (select phone_enc from contact),
                (select phone_index from contact), $12, $13, $14, $15, $16, $17, $18, $19, $20,
                (select coalesce(array_agg(id order by created_at desc), '{{}}') from dupes), $21, $22, $23, $24)
        on conflict (receipt_no) do nothing
        returning *
    ), clocks as ({insert_clocks_sql(office="item.office_id", module="'complaints'", subject="item.id",
                                      rows=opaque("$28::jsonb"))} cross join item
    ), timeline as (
        insert into timeline_events (module, subject_id, actor_id, actor_kind, type, public, body, data)
        select 'complaints', id, $25, $26, 'received', true, $27, $29 from item
    ), notice as (
        insert into outbox (topic, office_id, payload)
        select 'complaint.staff', office_id,
               jsonb_build_object('complaintId', id::text, 'event', 'complaint.created') from item
    )
    select item.*, claim.lane as audit_lane, claim.seq as audit_seq, claim.hash as audit_hash
    from item, {lane_claim_sql("item.office_id")} as claim
"""


async def create(
    conn: asyncpg.Connection, box: SecretBox, actor: Actor, *, office: Any, category: Any, title: str, body: str,
    location: Any, persons: list[dict[str, Any]], fields: dict[str, Any], channel: str, reporter: Reporter,
    complainant_id: UUID | None, created_by: UUID | None, received_at: datetime | None = None,
    parent: Any = None, clock_overrides: dict[str, Any] | None = None,
) -> tuple[Any, str | None]:
    """File a new item and start its clocks; return the row and, for filers without an account, the query code.
    `clock_overrides` is the office's module config `clocks`: {code: {"day_type": ..., "lead_days": [...]}}."""
    now = received_at or datetime.now(UTC)
    query_code = None if complainant_id else _random_code(10)
    phone = None if reporter.from_account else reporter.phone
    phone_index = box.blind_index(phone, purpose="phone") if phone else None
    lat = location.latitude if location else None
    lon = location.longitude if location else None
    exempt = reporter.exemption(complainant_id is not None)
    enc = box.encrypt_text
    sealed = (enc(reporter.name, aad=b"name") if reporter.name else None,
              enc(phone, aad=b"phone") if phone else None, phone_index,
              enc(reporter.id_number, aad=b"id_number") if reporter.id_number else None)
    if parent is not None:
        clocks: list[tuple[str, str | None]] = [("review_answer", None)]
    else:
        clocks = [("procedural_reply", None), ("result_reply", exempt)]
        if category["kind"] in CLOCK_KINDS["receipt_notice"]:
            clocks.append(("receipt_notice", exempt))
    _, clock_rows = await plan_clocks(conn, office_id=office["id"], started_at=now, clocks=clocks,
                                      overrides=clock_overrides)
    # A receipt number already taken (random tails meet now and then on a busy day) inserts nothing; draw again.
    for _ in range(_RECEIPT_TRIES):
        receipt_no = new_receipt_no(office["code"], now)
        row = await conn.fetchrow(
            _INSERT_ITEM,
            receipt_no, office["id"], category["kind"], category["id"], channel, complainant_id, reporter.anonymous,
            query_code_hash(box, receipt_no, query_code) if query_code else None, *sealed, reporter.reachable,
            title, body, lat, lon, location.address if location else None, persons, fields, created_by, now,
            parent["id"] if parent else None, ("re_review" if parent["review_level"] else "review") if parent else None,
            actor.id, actor.kind, f"已登记，受理编号 {receipt_no}。", clock_rows,
            {"channel": channel, "exempt": exempt}, reporter.from_account,
        )
        if row is not None:
            break
    else:
        raise RuntimeError(f"no free receipt number after {_RECEIPT_TRIES} draws")  # five taken draws: a bug, not luck
    await record(conn, actor, "complaint.created", office_id=row["office_id"], object_type="complaint",
                 object_id=row["id"], detail={"channel": channel, "receipt_no": receipt_no,
                                              "duplicates": len(row["possible_duplicates"])},
                 lane=Lane(str(row["office_id"]), row["audit_lane"], row["audit_seq"], row["audit_hash"]))
    return row, query_code


def fill_template(text: str, row: Any, office_name: str, extra: dict[str, str | None]) -> str:
    """Fill the known placeholders of a reply template; anything else is left as written."""
    values = {"receipt_no": row["receipt_no"], "office": office_name, "title": row["title"], **extra}
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or ""), text)


def may_take(row: Any, step: str, fields: dict[str, Any], actions: frozenset[str]) -> None:
    """400/409 for a step the item cannot take now, 403 for one the caller's permission list does not allow."""
    t = WORKFLOW.move(row["state"], step, fields)
    if not t.offered or t.action not in actions:
        raise ProblemError(ErrorCode.FORBIDDEN, f"Your permission list does not allow {step}.",
                           extra={"action": t.action})


async def step(conn: asyncpg.Connection, actor: Actor, row: Any, *, step: str, fields: dict[str, Any],
               reply_text: str | None, actions: frozenset[str]) -> Any:
    """A workflow step as staff ask for it: refused without its action, proposed where it needs approval."""
    may_take(row, step, fields, actions)
    return await steps.take_step(conn, SUBJECT, actor, row, step, fields, body=reply_text)


async def decide(conn: asyncpg.Connection, actor: Actor, row: Any, *, proposal_id: UUID, decision: steps.Decision,
                 reason: str | None, actions: frozenset[str]) -> Any:
    """Approve, return or withdraw the item's proposed step; returns the item as it now stands."""
    _, row = await steps.decide(conn, SUBJECT, actor, actions, row, proposal_id, decision, reason=reason)
    return row


async def _clock_applies(conn: asyncpg.Connection, row: Any, code: str) -> bool:
    """Whether a clock runs on this item: the 60-day opinion where the category says the item needs a formal
    handling opinion (信访工作条例 Art. 31(6); unset: petitions), other clocks by kind."""
    if code == "handling_opinion":
        setting = await conn.fetchval("select handling_opinion from complaint_categories where id = $1",
                                      row["category_id"])
        if setting is not None:
            return setting
    return row["kind"] in CLOCK_KINDS.get(code, {row["kind"]})


async def reply(conn: asyncpg.Connection, actor: Actor, row: Any, kind: str, text: str) -> None:
    """A reply to the complainant. A progress or result reply answers the 3-month clock; while the item stays
    open after that, a follow-up is due every month, each answering one occurrence and starting the next."""
    if WORKFLOW.is_terminal(row["state"]) and kind != "result":
        raise conflict(f"The item is {row['state']}; only a result reply fits.")
    now = datetime.now(UTC)
    if kind in ("progress", "result"):
        stopped = await stop_clock(conn, row["id"], "result_reply", now)
        if stopped is not None and kind == "progress":
            await start_clock(conn, office_id=row["office_id"], module="complaints", subject_id=row["id"],
                              code="followup_reply", started_at=row["created_at"], occurrence=1)
    if kind == "followup":
        current = await conn.fetchval(
            "select max(occurrence) from clocks where subject_id = $1 and code = 'followup_reply'", row["id"])
        if current is None:
            raise ProblemError(ErrorCode.CONFLICT, "No follow-up is due for this item yet.")
        await stop_clock(conn, row["id"], "followup_reply", now)
        await start_clock(conn, office_id=row["office_id"], module="complaints", subject_id=row["id"],
                          code="followup_reply", started_at=row["created_at"], occurrence=current + 1)
    await add_event(conn, MODULE, row["id"], actor, f"reply.{kind}", public=True, body=text)
    await conn.execute("update complaints set updated_at = now() where id = $1", row["id"])
    await _audit_and_notify(conn, actor, row, "complaint.replied", {"kind": kind}, notify_complainant=True)


async def assign(conn: asyncpg.Connection, actor: Actor, row: Any, *, mode: str, assignee_id: UUID | None,
                 reason: str | None, plan: dict[str, Any]) -> Any:
    """Random assignment among eligible handlers under the office's published plan, or a recorded designation."""
    if row["state"] not in WORKFLOW.transitions["assign"].sources:
        raise conflict(f"Accept the item before assigning it (it is {row['state']}).")
    roles = plan.get("eligibleRoles") or ["prosecutor"]
    candidates = await conn.fetch(
        "select id from users where office_id = $1 and kind = 'staff' and disabled_at is null and roles && $2::text[] "
        "order by id", row["office_id"], roles)
    ids = [c["id"] for c in candidates]
    if mode == "random":
        pool = [i for i in ids if i != row["assignee_id"]] or ids
        if not pool:
            raise ProblemError(ErrorCode.CONFLICT, "No eligible handler in this office under the plan.",
                               extra={"eligibleRoles": roles})
        chosen = secrets.SystemRandom().choice(pool)
        data = {"mode": "random", "plan": {"eligibleRoles": roles}, "candidates": [str(i) for i in pool],
                "chosen": str(chosen)}
    else:
        if assignee_id is None or not reason:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "Designation needs assigneeId and reason.",
                               errors=[{"field": f, "message": "required"} for f in ("assigneeId", "reason")
                                       if not (assignee_id if f == "assigneeId" else reason)])
        if assignee_id not in ids:
            raise ProblemError(ErrorCode.UNPROCESSABLE, "That person is not an eligible handler of this office.")
        chosen, data = assignee_id, {"mode": "designate", "reason": reason, "chosen": str(assignee_id)}
    updated = await steps.apply(conn, SUBJECT, actor, row, "assign", {"assigneeId": chosen}, event_data=data)
    await emit(conn, "complaint.assigned", {"complaintId": str(row["id"]), "userId": str(chosen)},
               office_id=row["office_id"])
    return updated


async def transfer(conn: asyncpg.Connection, actor: Actor, row: Any, *, to_office: Any | None,
                   department: str | None, reason: str) -> Any:
    """Hand the item to another office (its clocks follow; the first office stays on record) or department."""
    if WORKFLOW.is_terminal(row["state"]):
        raise conflict(f"The item is {row['state']}; reopen it first.")
    if to_office is None and department is None:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Name the office or the department.",
                           errors=[{"field": "office", "message": "office or department required"}])
    office_id = to_office["id"] if to_office else row["office_id"]
    updated = await conn.fetchrow(
        """
        update complaints set office_id = $2, department = coalesce($3, department),
            assignee_id = case when $2 = office_id then assignee_id end, updated_at = now()
        where id = $1 returning *
        """,
        row["id"], office_id, department)
    if to_office is not None:
        await conn.execute("update clocks set office_id = $2 where subject_id = $1", row["id"], office_id)
        # Art. 23: the receiving organ tells the petitioner within 15 days whether it takes the item, and may
        # object to a wrongly routed one within 5 working days; the sender's own notice no longer applies.
        now = datetime.now(UTC)
        overrides = await clock_settings(conn, office_id, MODULE)
        for code in ("receipt_notice", "wrong_route_objection"):
            open_one = await conn.fetchval("select 1 from clocks where subject_id = $1 and code = $2 "
                                           "and finished_at is null", row["id"], code)
            if open_one:
                await record_event(conn, subject_id=row["id"], code=code,
                                   event=NotApplicable(at=now, reason_code="transferred"))
            if await _clock_applies(conn, row, code):
                await start_next(conn, office_id=office_id, module="complaints", subject_id=row["id"], code=code,
                                 started_at=now, overrides=overrides.get(code))
    data = {"fromOffice": str(row["office_id"]), "toOffice": str(office_id), "department": department,
            "reason": reason}
    await add_event(conn, MODULE, row["id"], actor, "transferred", public=to_office is not None,
                    body=f"已转交{to_office['name']}办理。" if to_office else None, data=data)
    await record(conn, actor, "complaint.transferred", office_id=row["office_id"], object_type="complaint",
                 object_id=row["id"], detail=data)
    await _audit_and_notify(conn, actor, updated, "complaint.received_by_transfer", data)
    return updated


async def clock_event(conn: asyncpg.Connection, actor: Actor, row: Any, *, clock: str, event: str, reason: str,
                      amount: int | None, reason_code: str | None = None) -> None:
    """Pause (for a suspension the rule allows), resume, ask for an extension, or approve the one asked for."""
    # Holding complaint.clock.extend is 本机关负责人's approval (the chief, by the default permission list).
    state = await clock_request(conn, subject_id=row["id"], clock=clock, event=event, reason=reason,
                                by=actor.id or "", amount=amount, reason_code=reason_code, tier="chief")
    data = {"clock": clock, "event": event, "reason": reason, "amount": amount, "due": state.due.isoformat()}
    public = event == "extend"  # the petitioner must be told of an extension and why (信访工作条例)
    await add_event(conn, MODULE, row["id"], actor, f"clock.{event}", public=public,
                    body=f"办理期限延长至 {state.due.isoformat()}：{reason}" if public else None, data=data)
    await _audit_and_notify(conn, actor, row, f"complaint.clock.{event}", data, notify_complainant=public)


async def review_open(conn: asyncpg.Connection, row: Any) -> bool:
    """Whether a review may still be asked for: 30 days from the answer, counted by the clock engine (the day of
    closure not counted, a last day on a rest day moved to the next working day, ending at 24:00; Art. 35)."""
    if row["closed_at"] is None:
        return False
    now = datetime.now(UTC)
    cal = await office_calendar(conn, row["office_id"])
    window = evaluate(CLOCKS["review_request"], cal, row["closed_at"], [], now=max(now, row["closed_at"]))
    return now < deadline_end(window.due)


async def request_review(conn: asyncpg.Connection, box: SecretBox, actor: Actor, row: Any, reason: str,
                         office: Any, category: Any, query_code: str | None = None) -> Any:
    """A review (复查) of a closed item, or a second review (复核) of a review: a linked item with its own clock."""
    if row["state"] != "closed":
        raise ProblemError(ErrorCode.CONFLICT, "Only a closed item can be reviewed.")
    if row["review_level"] == "re_review":
        raise ProblemError(ErrorCode.CONFLICT, "A second review (复核) is final.")
    if not await review_open(conn, row):
        raise ProblemError(ErrorCode.CONFLICT, "A review must be asked for within 30 days of closure.")
    if await conn.fetchval("select exists (select 1 from complaints where parent_id = $1)", row["id"]):
        raise ProblemError(ErrorCode.CONFLICT, "A review of this item was already asked for.")
    title = ("复核申请：" if row["review_level"] else "复查申请：") + row["title"]
    reporter = Reporter(name=None, phone=None, id_number=None, anonymous=row["anonymous"])
    new, _ = await create(
        conn, box, actor, office=office, category=category, title=title[:200], body=reason, location=None, persons=[],
        fields={}, channel=row["channel"] if row["channel"] in ("app", "web") else "app", reporter=reporter,
        complainant_id=row["complainant_id"], created_by=None, parent=row,
    )
    if query_code:
        # Anonymous filers follow the review with the code they already hold.
        await conn.execute("update complaints set query_code_hash = $2 where id = $1", new["id"],
                           query_code_hash(box, new["receipt_no"], query_code))
    await add_event(conn, MODULE, row["id"], actor, "review.requested", public=True, body=reason,
                    data={"reviewId": str(new["id"]), "receiptNo": new["receipt_no"]})
    return new



async def add_material(conn: asyncpg.Connection, actor: Actor, row: Any, *, text: str) -> Any:
    """More material from the complainant; an item waiting for material goes back to triage. Returns the item."""
    if WORKFLOW.is_terminal(row["state"]):
        raise conflict(f"The item is {row['state']}; ask for a review instead.")
    await add_event(conn, MODULE, row["id"], actor, "material", public=True, body=text)
    if row["state"] == "awaiting_material":
        return await steps.apply(conn, SUBJECT, actor, row, "add_material", {}, event_data={})
    await _audit_and_notify(conn, actor, row, "complaint.material_added")
    return row


async def rate(conn: asyncpg.Connection, actor: Actor, row: Any, *, score: int, comment: str | None) -> Any:
    """The complainant's rating of a closed item, once. Returns the item."""
    if row["state"] != "closed":
        raise conflict("An item can be rated once it is closed.")
    if row["rating"] is not None:
        raise conflict("This item was already rated.")
    row = await conn.fetchrow("update complaints set rating = $2, rating_comment = $3, rated_at = now() "
                              "where id = $1 returning *", row["id"], score, comment)
    await record(conn, actor, "complaint.rated", office_id=row["office_id"], object_type="complaint",
                 object_id=row["id"], detail={"score": score})
    return row


async def note(conn: asyncpg.Connection, actor: Actor, row: Any, *, text: str) -> None:
    """An internal note, never shown to the public."""
    await add_event(conn, MODULE, row["id"], actor, "note", public=False, body=text)
    await record(conn, actor, "complaint.note", office_id=row["office_id"], object_type="complaint",
                 object_id=row["id"])
