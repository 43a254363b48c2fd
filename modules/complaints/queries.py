"""Reading complaints: who may see which item, and the views each kind of caller gets."""

from __future__ import annotations

import hmac
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.errors import invalid, not_found
from api.offices import office_by_id
from api.pagination import Cursor, Page, contains, keyset, page_of
from api.schema import Output
from api.ttl import TTLCache
from auth.secretbox import mask_id_number, mask_phone
from modules.clocks.store import clock_views
from modules.complaints.rules import KINDS, PUBLIC_CLOCKS, STATE_LABELS, WORKFLOW
from modules.complaints.schemas import (
    Catalog,
    CategoryField,
    CategoryIn,
    CategoryOut,
    ListItem,
    Location,
    PublicComplaint,
    Reporter,
    StaffComplaint,
    TemplateOut,
)
from modules.complaints.service import SUBJECT, query_code_hash, review_open
from modules.kernel.files import attachments
from modules.kernel.single_read import Related, read_one, related, related_columns
from modules.kernel.steps import pending_proposal, proposal_out
from modules.kernel.timeline import timeline
from modules.monitoring import service as monitoring

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal
    from auth.secretbox import SecretBox
    from modules.kernel.rows import SubjectRow

__all__ = (
    "PUBLIC_READ_COLUMNS", "Deadline", "ListFilter", "Rate", "Stats", "anonymous_item",
    "anonymous_read", "catalog", "categories", "categories_as_written", "category", "category_by_id", "category_out",
    "deadlines", "has_review", "list_items", "listed", "own_item", "own_read", "public_view", "reply_template",
    "staff_item", "staff_read", "staff_view", "stats", "templates",
)


def _missing() -> Any:
    return not_found("No such item.")


_categories: TTLCache[tuple[UUID, str], Any] = TTLCache(5.0)


async def category(conn: asyncpg.Connection, office_id: UUID, code: str) -> Any:
    """An active category of the office (read on every filing: an admin's change reaches every worker within five
    seconds), or 400 naming the field."""
    row = await _categories.get_or_load((office_id, code), lambda: conn.fetchrow(
        "select * from complaint_categories where office_id = $1 and code = $2 and active", office_id, code))
    if row is None:
        raise invalid("No such category at this office.", ("category", "unknown or inactive category"))
    return row


async def category_by_id(conn: asyncpg.Connection, category_id: UUID) -> Any:
    """The category an item was filed under."""
    return await conn.fetchrow("select * from complaint_categories where id = $1", category_id)


async def reply_template(conn: asyncpg.Connection, office_id: UUID, code: str) -> Any:
    """An office's reply template, or 400 naming the field."""
    row = await conn.fetchrow("select body from complaint_reply_templates where office_id = $1 and code = $2",
                              office_id, code)
    if row is None:
        raise invalid("No such reply template.", ("template", "unknown template"))
    return row


async def has_review(conn: asyncpg.Connection, complaint_id: UUID) -> bool:
    """Whether a review (复查 / 复核) of the item was asked for."""
    return bool(await conn.fetchval("select exists (select 1 from complaints where parent_id = $1)", complaint_id))


async def _scoped(conn: asyncpg.Connection, complaint_id: UUID, column: str, owner: UUID | None, lock: bool) -> Any:
    row = await conn.fetchrow(
        f"select * from complaints where id = $1 and {column} = $2" + (" for update" if lock else ""),
        complaint_id, owner)
    if row is None:
        raise _missing()
    return row


async def staff_item(conn: asyncpg.Connection, complaint_id: UUID, p: Principal, *, lock: bool = False) -> SubjectRow:
    """An item the caller's office is handling; any other is 404 (its existence is not disclosed)."""
    return await _scoped(conn, complaint_id, "office_id", p.office_id, lock)


# The staff read in one statement: the item and everything its view shows (modules/kernel/single_read.py).
_STAFF_READ = f"""
select c as item, (select code from complaint_categories where id = c.category_id) as category,
       {related_columns("c.id")}
from complaints c where c.id = $1 and c.office_id = $2
"""


async def staff_read(conn: asyncpg.Connection, complaint_id: UUID, p: Principal) -> Any:
    """staff_item with what staff_view shows, in one round trip; another office's item is 404."""
    return await read_one(conn, _STAFF_READ, complaint_id, p.office_id)


# What public_view shows (public timeline, files not attached by staff, clocks), as select-list columns over the
# complaint `c`: the complainant's, an anonymous filer's and a partner's reads each take it in one statement.
PUBLIC_READ_COLUMNS = f"""c as item, (select code from complaint_categories where id = c.category_id) as category,
       exists (select 1 from complaints r where r.parent_id = c.id) as reviewed,
       {related_columns("c.id", public=True)}"""
_OWN_READ = f"select {PUBLIC_READ_COLUMNS} from complaints c where c.id = $1 and c.complainant_id = $2"
_ANONYMOUS_READ = f"select {PUBLIC_READ_COLUMNS} from complaints c where c.receipt_no = $1"


async def own_read(conn: asyncpg.Connection, complaint_id: UUID, p: Principal) -> Any:
    """own_item with what public_view shows, in one round trip; anyone else's item is 404."""
    return await read_one(conn, _OWN_READ, complaint_id, p.user_id)


async def own_item(conn: asyncpg.Connection, complaint_id: UUID, p: Principal, *, lock: bool = False) -> SubjectRow:
    """An item the signed-in citizen filed; any other is 404."""
    return await _scoped(conn, complaint_id, "complainant_id", p.user_id, lock)


async def anonymous_item(conn: asyncpg.Connection, box: SecretBox, receipt_no: str, code: str | None,
                         *, lock: bool = False) -> Any:
    """An item by receipt number and query code; a wrong code answers exactly like a missing item."""
    row = await conn.fetchrow(
        "select * from complaints where receipt_no = $1" + (" for update" if lock else ""), receipt_no)
    _check_code(box, row, receipt_no, code)
    return row


async def anonymous_read(conn: asyncpg.Connection, box: SecretBox, receipt_no: str, code: str | None) -> Any:
    """anonymous_item with what public_view shows, in one round trip; a wrong code answers like a missing item."""
    found = await conn.fetchrow(_ANONYMOUS_READ, receipt_no)
    _check_code(box, found["item"] if found else None, receipt_no, code)
    return found


def _check_code(box: SecretBox, row: Any, receipt_no: str, code: str | None) -> None:
    expected = row["query_code_hash"] if row else None
    given = query_code_hash(box, receipt_no, code or "")
    if expected is None or not code or not hmac.compare_digest(expected, given):
        raise _missing()


async def _office_codes(conn: asyncpg.Connection, row: Any) -> tuple[str, str]:
    """The codes of the item's office and first office (from the per-worker cache)."""
    office = await office_by_id(conn, row["office_id"])
    first = office if row["first_office_id"] == row["office_id"] else await office_by_id(conn, row["first_office_id"])
    return office["code"], first["code"]


async def _names(conn: asyncpg.Connection, row: Any) -> tuple[str, str, str | None]:
    """The codes of the item's office, first office and category (offices from the per-worker cache)."""
    office, first = await _office_codes(conn, row)
    category = await conn.fetchval("select code from complaint_categories where id = $1", row["category_id"])
    return office, first, category


async def _parts(conn: asyncpg.Connection, row: Any, read: Any, *,
                 public: bool) -> tuple[Any, str, str, str | None, Related]:
    """The item's row, office and first-office codes, category code and related rows, for one side: from a single
    read when there is one (only cached codes and calendars besides), else each part read on its own."""
    if read is not None:
        row = read["item"]
        office, first = await _office_codes(conn, row)
        return row, office, first, read["category"], await related(conn, read, row["id"], public=public)
    office, first, category = await _names(conn, row)
    clocks = (await clock_views(conn, [row["id"]])).get(row["id"], [])
    proposal = None if public else await pending_proposal(conn, row["id"])
    return row, office, first, category, Related(clocks, await timeline(conn, row["id"], public_only=public),
                                                 await attachments(conn, row["id"], staff=not public), proposal)


async def public_view(conn: asyncpg.Connection, row: Any, *, read: Any = None) -> PublicComplaint:
    """What the complainant sees. `read` is a row with the PUBLIC_READ_COLUMNS (own_read, anonymous_read, a
    partner's transfer read): then nothing more is read from PostgreSQL but cached codes and calendars; else each
    part is read."""
    row, office, _, category, (clocks, events, files, _) = await _parts(conn, row, read, public=True)
    reviewed = read["reviewed"] if read is not None else await has_review(conn, row["id"])
    closed_recently = await review_open(conn, row)
    return PublicComplaint(
        id=row["id"], receipt_no=row["receipt_no"], office=office, kind=row["kind"], category=category,
        title=row["title"], body=row["body"], state=row["state"], state_label=STATE_LABELS[row["state"]],
        created_at=row["created_at"], timeline=events,
        deadlines=[c for c in clocks if c.code in PUBLIC_CLOCKS and c.exemption is None],
        attachments=files, rating=row["rating"],
        can_rate=row["state"] == "closed" and row["rating"] is None,
        can_request_review=(row["state"] == "closed" and closed_recently and not reviewed
                            and row["review_level"] != "re_review"),
    )


def _reporter(box: SecretBox, row: Any, may_see: bool) -> Reporter:
    def dec(column: str, aad: bytes) -> str | None:
        return box.decrypt_text(row[column], aad=aad) if row[column] else None

    name, phone, id_number = dec("reporter_name_enc", b"name"), dec("reporter_phone_enc", b"phone"), \
        dec("reporter_id_number_enc", b"id_number")
    if may_see:
        return Reporter(name=name, phone=phone, id_number=id_number, anonymous=row["anonymous"], masked=False)
    # A reporter's identity is protected (举报人保护); others' numbers are masked for everyone without the right.
    hidden_name = None if row["kind"] == "report" else (name[0] + "*" * (len(name) - 1) if name else None)
    return Reporter(name=hidden_name, phone=mask_phone(phone) or None, id_number=mask_id_number(id_number) or None,
                    anonymous=row["anonymous"], masked=True)


async def staff_view(conn: asyncpg.Connection, box: SecretBox, row: Any, *, may_see_identity: bool,
                     actions: frozenset[str], read: Any = None) -> StaffComplaint:
    """What the office's staff see, with identities masked unless the permission list allows them. `read` is a
    `staff_read` answer (then nothing more is read from PostgreSQL but cached codes); else each part is read."""
    row, office, first_office, category, (clocks, events, files, proposal) = await _parts(conn, row, read, public=False)
    has_location = row["latitude"] is not None or row["address"] is not None
    return StaffComplaint(
        id=row["id"], receipt_no=row["receipt_no"], office=office, first_office=first_office, kind=row["kind"],
        category=category, channel=row["channel"], title=row["title"], body=row["body"], state=row["state"],
        state_label=STATE_LABELS[row["state"]], reporter=_reporter(box, row, may_see_identity),
        location=Location(latitude=row["latitude"], longitude=row["longitude"], address=row["address"])
        if has_location else None,
        persons_reported=row["persons_reported"], fields=row["extra"], assignee_id=row["assignee_id"],
        department=row["department"], referred_to=row["referred_to"], disposition=row["disposition"],
        parent_id=row["parent_id"], review_level=row["review_level"],
        # Earlier items by the same person say who filed them: only for those who may see identities (举报人保护).
        possible_duplicates=row["possible_duplicates"] if may_see_identity else [],
        created_at=row["created_at"], updated_at=row["updated_at"],
        timeline=events, clocks=clocks, attachments=files, rating=row["rating"],
        rating_comment=row["rating_comment"],
        available_steps=[t.name for t in WORKFLOW.available(row["state"], actions)],
        pending_proposal=proposal_out(SUBJECT, proposal) if proposal else None,
    )


_LIST_SELECT = """
select c.id, c.receipt_no, c.kind, c.title, c.state, c.channel, c.assignee_id, c.created_at, cat.code as category,
       (select min(k.due) from clocks k where k.subject_id = c.id and k.status in ('running', 'paused')) as next_due
from complaints c left join complaint_categories cat on cat.id = c.category_id
"""


def _list_item(r: Any) -> ListItem:
    return ListItem(id=r["id"], receipt_no=r["receipt_no"], kind=r["kind"], category=r["category"], title=r["title"],
                    state=r["state"], channel=r["channel"], assignee_id=r["assignee_id"], created_at=r["created_at"],
                    next_due=r["next_due"])


class ListFilter:
    """What a staff list is narrowed to (each None when not asked for)."""

    __slots__ = ("assignee", "category", "due_before", "kind", "q", "receipt_no", "state")

    def __init__(self, *, state: str | None = None, kind: str | None = None, category: str | None = None,
                 assignee: UUID | None = None, due_before: date | None = None, q: str | None = None,
                 receipt_no: str | None = None) -> None:
        self.state, self.kind, self.category, self.assignee, self.due_before, self.q = \
            state, kind, category, assignee, due_before, q
        self.receipt_no = receipt_no


async def list_items(conn: asyncpg.Connection, *, limit: int, after: Cursor | None, office_id: UUID | None = None,
                     complainant_id: UUID | None = None, where: ListFilter | None = None) -> Page[ListItem]:
    """A page (newest first) of an office's items, or of a citizen's own."""
    q = keyset("c.created_at", "c.id")
    if office_id is not None:
        q.owner("c.office_id", office_id)
    if complainant_id is not None:
        q.owner("c.complainant_id", complainant_id)
    f = where or ListFilter()
    if f.state:
        q.add("c.state = ?", f.state)
    if f.kind:
        q.add("c.kind = ?", f.kind)
    if f.category:
        q.add("c.category_id = (select id from complaint_categories where office_id = c.office_id and code = ?)",
              f.category)
    if f.assignee:
        q.add("c.assignee_id = ?", f.assignee)
    if f.due_before:
        q.add("exists (select 1 from clocks k where k.subject_id = c.id and k.status in ('running', 'paused') "
              "and k.due <= ?::date)", f.due_before)
    if f.receipt_no:
        q.add("c.receipt_no = ?", f.receipt_no)
    if f.q:
        # The receipt number a caller reads out over the phone finds the item too (its unique index answers it).
        q.add("((c.title || ' ' || c.body) ilike ? or c.receipt_no = ?)", contains(f.q), f.q.strip())
    sql, args = q.sql(_LIST_SELECT, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, _list_item, lambda r: (r["created_at"], r["id"]))


async def listed(conn: asyncpg.Connection, complaint_id: UUID) -> ListItem:
    """One item as a list shows it."""
    return _list_item(await conn.fetchrow(f"{_LIST_SELECT} where c.id = $1", complaint_id))


async def catalog(conn: asyncpg.Connection, office: Any) -> Catalog:
    """An office's active categories with their extra fields; `version` changes whenever any of them does."""
    rows = await conn.fetch("select * from complaint_categories where office_id = $1 and active order by sort, code",
                            office["id"])
    return Catalog(office=office["code"], version=sum(r["version"] for r in rows) + len(rows),
                   categories=[category_out(r) for r in rows])


def category_out(r: Any) -> CategoryOut:
    """A category as the apps and admins see it (its fields in their display order)."""
    return CategoryOut(code=r["code"], kind=r["kind"], kind_label=KINDS[r["kind"]], name=r["name"],
                       description=r["description"], fields=msgspec.convert(
                           sorted(r["fields"], key=lambda f: f.get("order", 0)), list[CategoryField]),
                       version=r["version"])


async def categories(conn: asyncpg.Connection, office_id: UUID) -> list[CategoryOut]:
    """Every category of the office, inactive included."""
    return [category_out(r) for r in await _all_categories(conn, office_id)]


async def categories_as_written(conn: asyncpg.Connection, office_id: UUID) -> list[CategoryIn]:
    """Every category of the office as an admin writes it back (sort, active and handling opinion included), so an
    edit form starts from what is stored."""
    return [CategoryIn(code=r["code"], kind=r["kind"], name=r["name"], description=r["description"],
                       fields=category_out(r).fields, sort=r["sort"], active=r["active"],
                       handling_opinion=r["handling_opinion"]) for r in await _all_categories(conn, office_id)]


async def _all_categories(conn: asyncpg.Connection, office_id: UUID) -> list[Any]:
    return await conn.fetch("select * from complaint_categories where office_id = $1 order by sort, code", office_id)


async def templates(conn: asyncpg.Connection, office_id: UUID) -> list[TemplateOut]:
    """The office's reply templates."""
    rows = await conn.fetch("select * from complaint_reply_templates where office_id = $1 order by code", office_id)
    return [TemplateOut(code=r["code"], state=r["state"], title=r["title"], body=r["body"]) for r in rows]


class Deadline(Output):
    """An open deadline of the office that is overdue or due soon."""

    complaint_id: UUID
    receipt_no: str
    title: str
    clock: str
    occurrence: int
    due: date
    overdue: bool
    assignee_id: UUID | None
    # The due date falls in (or the period crosses) a year whose holiday notice is not entered yet.
    calendar_estimated: bool = False


class Rate(Output):
    """On-time figures of one clock over a period: rate = met on time / (met + late + overdue)."""

    clock: str
    met_on_time: int
    met_late: int
    overdue: int
    pending: int
    # Exempt (anonymous, no contact) or not applicable (referred, refused): left out of the rate.
    exempt: int
    rate: float | None
    # How many of these clocks' due dates are estimates (a year without its holiday notice).
    calendar_estimated: int = 0


class Stats(Output):
    """The office's reply compliance (7-day procedural and 3-month result replies, as reported nationally)."""

    office: str
    since: date
    until: date
    rates: list[Rate]


async def deadlines(conn: asyncpg.Connection, office_id: UUID, now: date, *, within_days: int,
                    after: Cursor | None, limit: int) -> Page[Deadline]:
    """Every open deadline of the office's items already past or due within `within_days`, soonest first, one page
    (the shared flow monitoring's list, narrowed to complaints)."""
    rows = await monitoring.deadlines(conn, office_id, within_days=within_days, overdue_only=False,
                                      module="complaints", department=None, handler=None, after=after, limit=limit)
    return page_of(rows, limit, lambda r: Deadline(
        complaint_id=r["subject_id"], receipt_no=r["ref"], title=r["title"], clock=r["code"],
        occurrence=r["occurrence"], due=r["due"], overdue=r["due"] < now, assignee_id=r["handler_id"],
        calendar_estimated=r["calendar_estimated"]), monitoring.deadline_key)


async def stats(conn: asyncpg.Connection, office_id: UUID, start: date, end: date) -> Stats:
    """Reply rates of the office's items received in [start, end) office-local, from the shared monitoring counts."""
    office = await office_by_id(conn, office_id)
    rows = await monitoring.rates(conn, office_id, since=start, until=end, module="complaints",
                                  codes=["procedural_reply", "result_reply", "followup_reply"], group_by="code")
    return Stats(office=office["code"], since=start, until=end, rates=[
        Rate(clock=r["clock"], met_on_time=r["met_on_time"], met_late=r["met_late"], overdue=r["overdue"],
             pending=r["pending"], exempt=r["not_counted"], rate=r["rate"],
             calendar_estimated=r["calendar_estimated"]) for r in rows])
