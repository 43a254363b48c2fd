"""The demo data: every office it fills gets a case in every state of the case workflow, each walked there through
the workflow's own steps (the timeline says how it got there)."""

from __future__ import annotations

from api.db import atomic
from api.settings import master_secret
from auth.audit import Actor
from auth.secretbox import SecretBox
from modules.litigation import demo
from modules.litigation.rules import CASE_STATES, CASE_WORKFLOW, CLUE_STATES


class _Undo(Exception):
    """Leaves the demo loaded a second time out of the shared database."""


async def test_the_demo_has_a_case_in_every_state_reached_through_the_steps(conn, settings) -> None:  # noqa: ANN001
    office = await conn.fetchrow("select id, code from offices where code = 'jinshan'")
    prosecutor = await conn.fetchval("select id from users where username = 'jinshan.prosecutor'")
    actor = Actor(id=str(prosecutor), kind="staff", office_id=office["id"], device_id="test", ip=None,
                  request_id="test-demo")
    found: dict[str, list[str]] = {}
    clue_states: set[str] = set()
    try:
        # Filled again in a transaction rolled back: what the demo makes, not what other tests did with it since.
        async with atomic(conn):
            ids = await demo.fill(conn, SecretBox(master_secret(settings)), office, actor)
            for r in await conn.fetch("select id, state from pil_cases where id = any($1::uuid[])", ids):
                steps = await conn.fetch("select data->>'to' as target, type from timeline_events "
                                         "where subject_id = $1 and type like 'step.%' order by id", r["id"])
                found[r["state"]] = [s["type"] for s in steps]
                # Each move is one the workflow allows, ending where the case is.
                assert all(s["type"].removeprefix("step.") in CASE_WORKFLOW.transitions for s in steps)
                assert (steps[-1]["target"] if steps else "investigating") == r["state"]
            # The clues it made (in this transaction: now() is its start): one in every state.
            clue_states = {r["state"] for r in await conn.fetch(
                "select state from pil_clues where office_id = $1 and created_at = now()", office["id"])}
            raise _Undo
    except _Undo:
        pass
    assert set(found) == set(CASE_STATES), sorted(set(CASE_STATES) - set(found))
    assert clue_states == set(CLUE_STATES), sorted(set(CLUE_STATES) - clue_states)
    assert found["appealed"][-1] == "step.appeal" and "step.record_judgment" in found["appealed"]
    assert found["suspended"] == ["step.delegate_investigation", "step.suspend"]
