"""The office tree as data: validate office records, import a CSV of them idempotently, change one office
(rename, move, retire) with its history kept. No HTTP here: the CLI and the admin API both call these."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from api.db import atomic
from api.errors import ErrorCode, ProblemError
from api.offices import forget_offices

if TYPE_CHECKING:
    from uuid import UUID

    import asyncpg

    from auth.audit import Actor

__all__ = ("LEVELS", "SUBTREE", "ImportResult", "OfficeRecord", "apply_change", "create_below", "history_page",
           "import_offices", "in_reach", "parse_csv", "problems", "refuse_retiring_occupied", "subtree", "subtree_page",
           "summary")

LEVELS = ("spp", "provincial", "prefecture", "county", "dispatched")
CODE = r"^[a-z][a-z0-9-]{1,39}$"
# Which level may sit under which: the SPP at the top, dispatched offices under any level but the SPP's own kind.
_PARENT_LEVELS = {"spp": (), "provincial": ("spp",), "prefecture": ("provincial",),
                  "county": ("provincial", "prefecture"), "dispatched": ("provincial", "prefecture", "county")}
_COLUMNS = ("code", "name", "level", "parent", "province", "time_zone")


class OfficeRecord(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """One office as imported or created: official name, stable code, level, parent's code, province, time zone."""

    code: str
    name: str
    level: Literal["spp", "provincial", "prefecture", "county", "dispatched"]
    province: str
    parent: str | None = None
    time_zone: str = "Asia/Shanghai"


def problems(rec: OfficeRecord) -> list[str]:
    """What is wrong with one record on its own (the tree is checked against the database)."""
    out = []
    if not re.match(CODE, rec.code):
        out.append("code: lower-case letters, digits and -, 2-40 characters, starting with a letter")
    if not 1 <= len(rec.name) <= 200:
        out.append("name: 1-200 characters")
    if not 1 <= len(rec.province) <= 50:
        out.append("province: 1-50 characters")
    if rec.parent is None and rec.level != "spp" and rec.level != "provincial":
        out.append("parent: required below the provincial level")
    if rec.parent == rec.code:
        out.append("parent: an office cannot be its own parent")
    try:
        ZoneInfo(rec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        out.append(f"time_zone: unknown time zone {rec.time_zone!r}")
    return out


def parse_csv(text: str) -> list[OfficeRecord]:
    """Rows of code,name,level,parent,province,time_zone (parents before children is not required); ValueError
    naming the bad lines."""
    try:
        return _parse(text)
    except csv.Error as exc:
        raise ValueError(f"not a readable CSV file: {exc}") from None


def _parse(text: str) -> list[OfficeRecord]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or []) and c != "time_zone"]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)} (header: {','.join(_COLUMNS)})")
    out, seen, errors = [], set(), []
    for line, row in enumerate(reader, start=2):
        raw = {k: (row.get(k) or "").strip() for k in _COLUMNS}
        try:
            rec = msgspec.convert({"code": raw["code"], "name": raw["name"], "level": raw["level"],
                                   "province": raw["province"], "parent": raw["parent"] or None,
                                   "timeZone": raw["time_zone"] or "Asia/Shanghai"}, OfficeRecord)
        except msgspec.ValidationError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        errors += [f"line {line}: {p}" for p in problems(rec)]
        if rec.code in seen:
            errors.append(f"line {line}: code {rec.code} appears twice")
        seen.add(rec.code)
        out.append(rec)
    if errors:
        raise ValueError("; ".join(errors[:10]) + (f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""))
    return out


@dataclass
class ImportResult:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _state(row: Any, parent_code: str | None) -> dict[str, Any]:
    return {"name": row["name"], "level": row["level"], "parent": parent_code, "province": row["province"],
            "time_zone": row["time_zone"], "retired": row["retired_at"] is not None}


async def _check_parent(conn: asyncpg.Connection, rec: OfficeRecord, office_id: UUID | None) -> UUID | None:
    if rec.parent is None:
        return None
    parent = await conn.fetchrow("select id, level, province, retired_at from offices where code = $1", rec.parent)
    if parent is None:
        raise ProblemError(ErrorCode.UNPROCESSABLE, f"{rec.code}: no parent office {rec.parent}.",
                           errors=[{"field": "parent", "message": "no such office"}])
    if parent["level"] not in _PARENT_LEVELS[rec.level] or parent["retired_at"] is not None:
        raise ProblemError(ErrorCode.UNPROCESSABLE,
                           f"{rec.code}: a {rec.level} office cannot sit under {rec.parent} ({parent['level']}"
                           f"{', retired' if parent['retired_at'] else ''}).",
                           errors=[{"field": "parent", "message": "not a possible parent"}])
    if parent["level"] != "spp" and parent["province"] != rec.province:
        raise ProblemError(ErrorCode.UNPROCESSABLE,
                           f"{rec.code}: its province must be its parent's ({parent['province']}).",
                           errors=[{"field": "province", "message": "not the parent's province"}])
    if office_id is not None and await conn.fetchval(
        """
        with recursive below as (select id from offices where id = $1
                                 union select o.id from offices o join below b on o.parent_id = b.id)
        select exists (select 1 from below where id = $2)
        """, office_id, parent["id"]):
        raise ProblemError(ErrorCode.UNPROCESSABLE, f"{rec.code}: cannot move under its own descendant.",
                           errors=[{"field": "parent", "message": "would make a cycle"}])
    return parent["id"]


async def apply_change(conn: asyncpg.Connection, rec: OfficeRecord, actor: Actor, *,
                       retired: bool | None = None) -> tuple[str, Any]:
    """Create or update one office to match `rec` (inside the caller's transaction); history and audit kept.
    Answers ('created' | 'updated' | 'unchanged', row)."""
    from auth.audit import record

    old = await conn.fetchrow(
        "select o.*, p.code as parent_code from offices o left join offices p on p.id = o.parent_id "
        "where o.code = $1 for update of o", rec.code)
    parent_id = await _check_parent(conn, rec, old["id"] if old else None)
    if old is None:
        row = await conn.fetchrow(
            """
            insert into offices (code, name, parent_id, province, level, time_zone)
            values ($1, $2, $3, $4, $5, $6) returning *
            """, rec.code, rec.name, parent_id, rec.province, rec.level, rec.time_zone)
        after = _state(row, rec.parent)
        await conn.execute("insert into office_history (office_id, change, after) values ($1, 'created', $2)",
                           row["id"], after)
        await record(conn, actor, "office.created", office_id=row["id"], object_type="office", object_id=rec.code,
                     detail=after)
        return "created", row
    before = _state(old, old["parent_code"])
    retire = before["retired"] if retired is None else retired
    row = await conn.fetchrow(
        """
        update offices set name = $2, parent_id = $3, province = $4, level = $5, time_zone = $6,
            retired_at = case when $7 then coalesce(retired_at, now()) end, updated_at = now()
        where id = $1 returning *
        """, old["id"], rec.name, parent_id, rec.province, rec.level, rec.time_zone, retire)
    after = _state(row, rec.parent)
    if after == before:
        return "unchanged", row
    change = ("retired" if retire and not before["retired"] else "restored" if before["retired"] and not retire
              else "moved" if after["parent"] != before["parent"] else "renamed" if after["name"] != before["name"]
              else "updated")
    await conn.execute(
        "insert into office_history (office_id, change, before, after) values ($1, $2, $3, $4)",
        row["id"], change, before, after)
    await record(conn, actor, f"office.{change}", office_id=row["id"], object_type="office", object_id=rec.code,
                 detail={"before": before, "after": after})
    forget_offices()  # this worker's cached look-ups; the other workers' expire within a minute
    return "updated", row


async def import_offices(conn: asyncpg.Connection, records: list[OfficeRecord], actor: Actor) -> ImportResult:
    """Create or update every office of the file in one transaction, parents first; never duplicates, never
    retires what the file leaves out (retiring is an explicit act)."""
    by_code = {r.code: r for r in records}
    ordered: list[OfficeRecord] = []
    placed: set[str] = set()

    def place(rec: OfficeRecord, trail: tuple[str, ...] = ()) -> None:
        if rec.code in placed:
            return
        if rec.code in trail:
            raise ProblemError(ErrorCode.UNPROCESSABLE, f"the file's parents form a cycle at {rec.code}")
        if rec.parent in by_code:
            place(by_code[rec.parent], (*trail, rec.code))
        placed.add(rec.code)
        ordered.append(rec)

    for rec in records:
        place(rec)
    result = ImportResult()
    async with atomic(conn):
        for rec in ordered:
            outcome, _ = await apply_change(conn, rec, actor)
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def summary(result: ImportResult) -> str:
    """One line for the operator."""
    return ", ".join(f"{v} {k}" for k, v in asdict(result).items())


SUBTREE = """
with recursive below as (select id, 0 as depth from offices where id = $1
                         union all select o.id, b.depth + 1 from offices o join below b on o.parent_id = b.id)
"""


async def subtree(conn: asyncpg.Connection, office_id: UUID | None, code: str) -> Any:
    """An office strictly below `office_id` (the caller administers the tree under its own office), or None."""
    return await conn.fetchrow(
        SUBTREE + "select o.*, p.code as parent_code from offices o join below b on b.id = o.id and b.depth > 0 "
                  "left join offices p on p.id = o.parent_id where o.code = $2", office_id, code)


async def subtree_page(conn: asyncpg.Connection, office_id: UUID | None, *, after: Any, limit: int) -> list[Any]:
    """Every office strictly below `office_id`, retired ones included, oldest first: `limit + 1` rows."""
    return list(await conn.fetch(
        SUBTREE + """
        select o.*, pa.code as parent_code from offices o join below b on b.id = o.id and b.depth > 0
        left join offices pa on pa.id = o.parent_id
        where ($2::timestamptz is null or (o.created_at, o.id) > ($2, $3::uuid))
        order by o.created_at, o.id limit $4
        """, office_id, after.at if after else None, after.id if after else None, limit + 1))


async def in_reach(conn: asyncpg.Connection, office_id: UUID | None, code: str) -> None:
    """The caller's own office or one below it may be a parent; anything else answers 404."""
    if not await conn.fetchval(SUBTREE + "select exists (select 1 from below b join offices o on o.id = b.id "
                                         "where o.code = $2)", office_id, code):
        raise ProblemError(ErrorCode.NOT_FOUND, f"No office {code} under yours.",
                           errors=[{"field": "parent", "message": "no such office under yours"}])


async def create_below(conn: asyncpg.Connection, rec: OfficeRecord, actor: Actor, *, office_id: UUID,
                       parent: str) -> Any:
    """Create an office under `parent`, itself the caller's office or one below it (404), with a code no office
    has (409); answers the new row."""
    await in_reach(conn, office_id, parent)
    if await conn.fetchval("select exists (select 1 from offices where code = $1)", rec.code):
        raise ProblemError(ErrorCode.CONFLICT, f"The code {rec.code} is taken.",
                           errors=[{"field": "code", "message": "taken"}])
    _, row = await apply_change(conn, rec, actor)
    return row


async def refuse_retiring_occupied(conn: asyncpg.Connection, office_id: UUID) -> None:
    """409 while the office has serving accounts or serving offices below it."""
    if await conn.fetchval(
            "select exists (select 1 from users where office_id = $1 and retired_at is null) or exists "
            "(select 1 from offices where parent_id = $1 and retired_at is null)", office_id):
        raise ProblemError(ErrorCode.CONFLICT, "Move or retire its accounts and the offices below it first.")


async def history_page(conn: asyncpg.Connection, office_id: UUID, *, before: int | None, limit: int) -> list[Any]:
    """The office's changes, newest first: `limit + 1` rows (see `sequence_page`)."""
    return list(await conn.fetch("select * from office_history where office_id = $1 and ($2::bigint is null "
                                 "or id < $2) order by id desc limit $3", office_id, before, limit + 1))
