"""The optional preliminary inquiry 初查 between a clue's evaluation and the decision: the prosecutor starts it with
what is to be found out (no deadline: none applies nationally), the source is still told "under evaluation", and
the decision that follows is the same as after an evaluation alone: open a case, not, or refer."""

from __future__ import annotations

from tests.helpers import bearer, key, partner_token
from tests.integration.litigation.test_case_steps import _step
from tests.integration.litigation.test_flows import CLUES, PARTNER, _approve, _clue, _propose


async def test_a_preliminary_inquiry_comes_between_the_evaluation_and_the_decision(client, staff) -> None:  # noqa: ANN001
    police = bearer(await partner_token(client, "jinshan-police"))
    prosecutor = await staff("jinshan", "prosecutor")
    sent = await client.post(f"{PARTNER}/clues", headers={**police, **key()},
                             json={**_clue(n=971), "reference": f"JA-{key()['Idempotency-Key'][-10:]}"})
    assert sent.status_code == 201, sent.text
    clue_id = sent.json()["id"]
    url = f"{CLUES}/{clue_id}"
    # Not before the evaluation.
    early = await client.post(f"{url}/steps", headers=prosecutor, json={"step": "preliminary_inquiry",
                                                                      "content": "核实排污口位置"})
    assert early.status_code == 409
    evaluated = await _step(client, url, prosecutor, {"step": "evaluate"}, "evaluating")
    offered = {s["name"]: s for s in evaluated["availableSteps"]}
    assert offered["preliminary_inquiry"]["approvals"] == [] and "content" in offered["preliminary_inquiry"]["needs"]
    bare = await client.post(f"{url}/steps", headers=prosecutor, json={"step": "preliminary_inquiry"})
    assert bare.status_code == 400 and bare.json()["errors"][0]["field"] == "content"

    # 初查: the prosecutor's own step, on the timeline with what is to be found out; no clock is started.
    inquiring = await _step(client, url, prosecutor, {"step": "preliminary_inquiry",
                                                      "content": "调取企业排污许可，走访周边居民"}, "inquiring")
    assert inquiring["stateLabel"] == "初步调查中"
    entry = inquiring["timeline"][-1]
    assert entry["type"] == "step.preliminary_inquiry" and entry["data"]["content"] == "调取企业排污许可，走访周边居民"
    assert {s["name"] for s in inquiring["availableSteps"]} == {"open_case", "decline", "refer"}
    assert (await client.post(f"{url}/steps", headers=prosecutor, json={
        "step": "preliminary_inquiry", "content": "再查"})).status_code == 409
    # The police who transferred it are told only that it is under evaluation.
    assert (await client.get(f"{PARTNER}/clues/{clue_id}", headers=police)).json()["status"] == "under_evaluation"
    listed = await client.get(CLUES, headers=prosecutor, params={"state": "inquiring", "limit": 200})
    assert listed.status_code == 200 and clue_id in {c["id"] for c in listed.json()["items"]}

    # The decision after it: 立案 with the chief's approval, as after an evaluation alone.
    await _propose(client, url, staff, {"step": "open_case", "route": "administrative", "reason": "初查核实侵害属实",
                                        "agency": "jinshan-ecoenv"})
    opened = await _approve(client, url, staff)
    assert opened["state"] == "opened" and opened["caseId"]
    assert (await client.get(f"{PARTNER}/clues/{clue_id}", headers=police)).json()["status"] == "accepted"


async def test_a_preliminary_inquiry_can_end_in_no_case(client, staff) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=972))
    url = f"{CLUES}/{made.json()['id']}"
    await _step(client, url, prosecutor, {"step": "evaluate"}, "evaluating")
    await _step(client, url, prosecutor, {"step": "preliminary_inquiry", "content": "核实是否仍在排放"}, "inquiring")
    await _propose(client, url, staff, {"step": "decline", "reason": "初查发现公益损害已消除"})
    declined = await _approve(client, url, staff)
    assert declined["state"] == "not_opened" and declined["availableSteps"] == []
