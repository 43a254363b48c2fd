"""A module written only inside its own package (tests/integration/kernel/inspections) is served, guarded, switched
on and off per office, documented in the spec and covered by the public-route list, and its approval chain runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.outbox import TOPICS
from auth import actions as action_catalogue
from modules import registry
from modules.clocks.rules import CLOCKS
from tests.helpers import bearer, token_for
from tests.integration.kernel import inspections


@pytest.fixture(name="served")
async def fx_served(settings, conn) -> AsyncIterator[AsyncTestClient[Any]]:  # noqa: ANN001
    """Register the module, apply its migration and default grants, serve a fresh app; undo it all after."""
    saved = (dict(action_catalogue.ACTIONS), {k: set(v) for k, v in action_catalogue.EXTERNAL_GRANTABLE.items()},
             dict(CLOCKS), dict(TOPICS), dict(registry._REGISTERED))
    registry.register(inspections.MANIFEST)
    await conn.execute(inspections.MIGRATION)
    assert await registry.seed_permission_defaults(conn) == len(inspections.MANIFEST.permission_defaults)
    try:
        async with AsyncTestClient(app=create_app(settings), base_url="http://jianwu.test") as client:
            yield client
    finally:
        action_catalogue.ACTIONS.clear(), action_catalogue.ACTIONS.update(saved[0])
        action_catalogue.EXTERNAL_GRANTABLE.clear(), action_catalogue.EXTERNAL_GRANTABLE.update(saved[1])
        CLOCKS.clear(), CLOCKS.update(saved[2])
        TOPICS.clear(), TOPICS.update(saved[3])
        registry._REGISTERED.clear(), registry._REGISTERED.update(saved[4])
        await conn.execute("delete from permission_grants where action like 'inspection.%'")
        await conn.execute("delete from office_modules where module = 'inspections'")


async def _switch(client: AsyncTestClient[Any], admin: dict[str, str], enabled: bool, **config: Any) -> Any:
    return await client.put("/api/v1/admin/modules/inspections", headers=admin,
                            json={"enabled": enabled, "config": config})


async def test_a_new_module_is_served_switched_guarded_documented_and_approved(served, conn) -> None:  # noqa: ANN001
    client = served
    admin = bearer(await token_for(client, "jinshan.admin"))
    prosecutor = bearer(await token_for(client, "jinshan.prosecutor"))
    head = bearer(await token_for(client, "jinshan.dept_head"))
    chief = bearer(await token_for(client, "jinshan.chief"))
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    item = await conn.fetchval("insert into inspections (office_id) values ($1) returning id", office)
    url = f"/api/v1/staff/inspections/{item}"

    # Documented in the spec, and its public route is on the public list (the route-auth test checks the rest).
    spec = (await client.get("/schema/openapi.json")).json()
    assert {"/api/v1/staff/inspections/{inspection_id}", "/api/v1/public/inspections/about"} <= set(spec["paths"])
    assert ("GET", "/api/v1/public/inspections/about") in registry.public_routes()
    assert (await client.get("/api/v1/public/inspections/about")).json() == {"zh": "现场检查"}
    # Guarded: no token, 401; a token whose list lacks the action, 403.
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=bearer(await token_for(client, "jinshan.case_mgmt")))).status_code == 403

    # Off until an admin switches it on for the office; the configuration is checked against its schema.
    off = await client.get(url, headers=prosecutor)
    assert off.status_code == 403 and off.json()["code"] == "module_disabled"
    bad = await _switch(client, admin, True, team_size="two")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "config.team_size"
    assert (await _switch(client, admin, True, team_size=3)).status_code == 200
    registry_switches = client.app.state.modules
    registry_switches.forget()
    got = await client.get(url, headers=prosecutor)
    assert got.status_code == 200 and got.json() == {"id": str(item), "state": "open", "teamSize": 3,
                                                     "pendingStep": None}
    # Another office's item is not found.
    other = bearer(await token_for(client, "chongming.prosecutor"))
    await client.put("/api/v1/admin/modules/inspections", headers=bearer(await token_for(client, "chongming.admin")),
                     json={"enabled": True, "config": {}})
    assert (await client.get(url, headers=other)).status_code == 404

    # The approval chain: the prosecutor proposes, the department head reviews, the chief decides.
    await conn.execute(
        "insert into clocks (office_id, module, subject_id, code, occurrence, started_at, day_type, lead_days, "
        "events, status, due) values ($1, 'inspections', $2, 'inspection_report', 1, now(), 'calendar', '{}', "
        "'[]', 'running', current_date + 10)", office, item)
    # Flow monitoring lists the new module's deadline with the reference and title its listing gives.
    monitor = bearer(await token_for(client, "jinshan.case_mgmt"))
    listed = (await client.get("/api/v1/monitoring/deadlines", headers=monitor,
                               params={"module": "inspections", "withinDays": 30})).json()["items"]
    assert [(d["subjectId"], d["ref"], d["title"]) for d in listed] == [(str(item), f"JC-{str(item)[:8]}", "现场检查")]

    async def pending() -> Any:
        return await conn.fetchval("select id from step_proposals where subject_id = $1 and status = 'pending'", item)

    # A proposal can be withdrawn by its proposer only, and returned (with a reason) by the reviewer.
    assert (await client.post(f"{url}/steps", headers=prosecutor, json={"step": "conclude"})).status_code == 200
    twice = await client.post(f"{url}/steps", headers=prosecutor, json={"step": "conclude"})
    assert twice.status_code == 409
    withdraw = {"proposalId": str(await pending()), "decision": "withdraw"}
    assert (await client.post(f"{url}/decision", headers=head, json=withdraw)).status_code == 403
    assert (await client.post(f"{url}/decision", headers=prosecutor, json=withdraw)).json()["pendingStep"] is None
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "conclude"})
    back = {"proposalId": str(await pending()), "decision": "return"}
    assert (await client.post(f"{url}/decision", headers=head, json=back)).status_code == 400
    returned = await client.post(f"{url}/decision", headers=head, json={**back, "reason": "证据不足"})
    assert returned.status_code == 200 and returned.json()["pendingStep"] is None
    assert await conn.fetchval("select status from step_proposals where id = $1", back["proposalId"]) == "returned"
    seen_event = await conn.fetchval("select max(id) from timeline_events where subject_id = $1", item)
    seen_audit = await conn.fetchval("select max(id) from audit_log where object_id = $1", str(item))

    proposed = await client.post(f"{url}/steps", headers=prosecutor, json={"step": "conclude"})
    assert proposed.status_code == 200 and proposed.json()["state"] == "open"
    assert proposed.json()["pendingStep"] == "conclude"
    decision = {"proposalId": str(await pending()), "decision": "approve"}
    # The proposer cannot approve; the chief cannot skip the department head's review.
    assert (await client.post(f"{url}/decision", headers=prosecutor, json=decision)).status_code == 403
    skipped = await client.post(f"{url}/decision", headers=chief, json=decision)
    assert skipped.status_code == 403 and skipped.json()["extra"]["action"] == "inspection.review"
    reviewed = await client.post(f"{url}/decision", headers=head, json=decision)
    assert reviewed.status_code == 200 and reviewed.json()["state"] == "open"
    decided = await client.post(f"{url}/decision", headers=chief, json=decision)
    assert decided.status_code == 200 and decided.json()["state"] == "concluded"
    assert decided.json()["pendingStep"] is None
    assert await conn.fetchval("select closed_at is not null from inspections where id = $1", item)
    assert await conn.fetchval("select status from clocks where subject_id = $1", item) in ("met", "met_late")
    types = [r["type"] for r in await conn.fetch(
        "select type from timeline_events where subject_id = $1 and id > $2 order by id", item, seen_event)]
    assert types == ["proposal.created", "proposal.approve", "proposal.approve", "step.conclude"]
    actions = [r["action"] for r in await conn.fetch(
        "select action from audit_log where object_id = $1 and id > $2 order by id", str(item), seen_audit)]
    assert actions == ["inspection.proposal.created", "inspection.proposal.approve", "inspection.proposal.approve",
                       "inspection.conclude"]

    # Switched off again: the module's routes answer module_disabled, the records stay.
    assert (await _switch(client, admin, False)).status_code == 200
    registry_switches.forget()
    off = await client.get(url, headers=prosecutor)
    assert off.status_code == 403 and off.json()["code"] == "module_disabled"
