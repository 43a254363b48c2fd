"""A throwaway module, written as a new module would be: one package, its manifest, and its migration
(`MIGRATION`, applied by the test). Nothing outside this package names it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, JSONBody

from api.errors import not_found, problem_docs
from api.idempotency import run_once
from api.schema import Input, Output
from auth.audit import actor_from
from auth.principal import current_principal
from modules.clocks.rules import ClockSpec, Period
from modules.kernel import steps
from modules.kernel.manifest import Manifest
from modules.kernel.steps import Subject
from modules.kernel.workflow import Transition, Workflow
from modules.registry import module_config

MIGRATION = """
create table if not exists inspections (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    state text not null default 'open',
    updated_at timestamptz not null default now(),
    closed_at timestamptz
);
grant select, insert, update on inspections to jianwu_app;
"""

WORKFLOW = Workflow(
    states={"open": "待检查", "concluded": "已结论"},
    terminal=frozenset({"concluded"}),
    transitions={t.name: t for t in (
        Transition(name="conclude", sources=frozenset({"open"}), target="concluded", action="inspection.propose",
                   stops=("inspection_report",), approvals=("inspection.review", "inspection.decide")),
    )},
)
SUBJECT = Subject(module="inspections", table="inspections", kind="inspection", workflow=WORKFLOW,
                  listing={"handler_id": "null::uuid", "department": "'现场组'", "ref": "'JC-' || left(t.id::text, 8)",
                           "title": "'现场检查'"})


class Config(msgspec.Struct, forbid_unknown_fields=True):
    """The office's settings of the module."""

    team_size: int = 2


class StepIn(Input):
    """A step."""

    step: str


class DecisionIn(Input):
    """A decision on the pending proposal."""

    proposal_id: UUID
    decision: str
    reason: str | None = None


class InspectionOut(Output):
    """An inspection as staff see it."""

    id: UUID
    state: str
    team_size: int
    pending_step: str | None


async def _actions(request: Request[Any, Any, Any]) -> frozenset[str]:
    p = current_principal(request)
    grants = await request.app.state.permissions.grants(p.office_id)
    return frozenset().union(*(grants.get(r, frozenset()) for r in p.effective_roles))


async def _out(conn: Any, request: Request[Any, Any, Any], row: Any) -> InspectionOut:
    pending = await steps.pending_proposal(conn, row["id"])
    return InspectionOut(id=row["id"], state=row["state"], team_size=module_config(request).get("team_size", 2),
                         pending_step=pending["step"] if pending else None)


async def _find(conn: Any, request: Request[Any, Any, Any], inspection_id: UUID) -> Any:
    row = await conn.fetchrow("select * from inspections where id = $1 and office_id = $2 for update", inspection_id,
                              current_principal(request).office_id)
    if row is None:
        raise not_found()
    return row


@get("/staff/inspections/{inspection_id:uuid}", operation_id="inspectionGet", summary="One inspection",
     opt={"action": "inspection.propose"}, responses=problem_docs(401, 403, 404), tags=["inspections"])
async def get_inspection(request: Request[Any, Any, Any], inspection_id: FromPath[UUID]) -> InspectionOut:
    """An inspection of the caller's office."""
    async with request.app.state.db.connection() as conn:
        return await _out(conn, request, await _find(conn, request, inspection_id))


@post("/staff/inspections/{inspection_id:uuid}/steps", operation_id="inspectionStep", summary="Take a step",
      opt={"action": "inspection.propose"}, responses=problem_docs(400, 401, 403, 404, 409), status_code=200,
      tags=["inspections"])
async def step(request: Request[Any, Any, Any], inspection_id: FromPath[UUID],
               data: JSONBody[StepIn]) -> InspectionOut:
    """Propose a step (it waits for its approvals)."""
    async def work(conn: Any) -> tuple[int, InspectionOut]:
        row = await _find(conn, request, inspection_id)
        row = await steps.take_step(conn, SUBJECT, actor_from(request, current_principal(request)), row, data.step, {})
        return 200, await _out(conn, request, row)
    return await run_once(request.app.state.db, request, current_principal(request).sub, data, work,  # type: ignore[return-value]
                          required=False)


@post("/staff/inspections/{inspection_id:uuid}/decision", operation_id="inspectionDecide", summary="Decide",
      opt={"action": "inspection.propose"}, responses=problem_docs(400, 401, 403, 404, 409), status_code=200,
      tags=["inspections"])
async def decide(request: Request[Any, Any, Any], inspection_id: FromPath[UUID],
                 data: JSONBody[DecisionIn]) -> InspectionOut:
    """Approve, return or withdraw the pending proposal."""
    async with request.app.state.db.transaction() as conn:
        row = await _find(conn, request, inspection_id)
        _, row = await steps.decide(conn, SUBJECT, actor_from(request, current_principal(request)),
                                    await _actions(request), row, data.proposal_id, data.decision,  # type: ignore[arg-type]
                                    reason=data.reason)
        return await _out(conn, request, row)


@get("/public/inspections/about", operation_id="inspectionAbout", summary="What inspections are",
     opt={"public": True}, tags=["inspections"])
async def about() -> dict[str, str]:
    """Public text."""
    return {"zh": "现场检查"}


MANIFEST = Manifest(
    name="inspections", label_zh="现场检查", routes=lambda: [get_inspection, step, decide, about],
    actions={"inspection.propose": "Propose steps.", "inspection.review": "Review (审核).",
             "inspection.decide": "Decide (决定)."},
    permission_defaults=(("prosecutor", "inspection.propose"), ("dept_head", "inspection.propose"),
                         ("dept_head", "inspection.review"), ("chief", "inspection.propose"),
                         ("chief", "inspection.decide")),
    clocks={"inspection_report": ClockSpec(code="inspection_report", module="inspections",
                                           length=Period(10),
                                           label_zh="检查报告", label_en="Inspection report")},
    public_routes=frozenset({("GET", "/api/v1/public/inspections/about")}),
    topics={"inspection.staff": "Inspections of the office."},
    subjects=(SUBJECT,), config=Config,
)
