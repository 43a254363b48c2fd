"""A clue's and a case's single read are one SQL statement each, with the links between them."""

from __future__ import annotations

from tests.helpers import key
from tests.integration.litigation.test_flows import CASES, CLUES, _approve, _clue, _propose
from tests.statements import one_statement_each


async def test_staff_read_a_clue_and_the_case_it_became_in_one_statement_each(client, staff,
                                                                               monkeypatch) -> None:
    prosecutor = await staff("jinshan", "prosecutor")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=971))
    assert made.status_code == 201, made.text
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": "administrative", "reason": "符合立案条件",
                                        "agency": "jinshan-ecoenv"})
    case_id = (await _approve(client, url, staff))["caseId"]
    clue = await one_statement_each(client, monkeypatch, [(f"{CASES}/{case_id}", prosecutor), (url, prosecutor)])
    assert clue["caseId"] == case_id and clue["timeline"] and clue["links"]
