"""A clue referred to another office is registered in that office's registry on the chief's decision, linked both
ways; the department head assigns a case's handler among the staff who may handle cases."""

from __future__ import annotations

from tests.helpers import key
from tests.integration.litigation.test_flows import CASES, CLUES, _approve, _clue, _propose


async def test_a_clue_referred_to_another_office_is_registered_there(client, staff) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=941, title="跨区河道污染"))
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    for bad in ("jinshan", "atlantis"):
        resp = await client.post(f"{url}/steps", headers=prosecutor,
                                 json={"step": "refer", "referredOffice": bad, "reason": "属地管辖"})
        assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "referredOffice"
    proposed = await _propose(client, url, staff, {"step": "refer", "referredOffice": "chongming", "reason": "属地管辖"})
    assert proposed["pendingProposal"]["fields"]["referredTo"]
    referred = await _approve(client, url, staff)
    assert referred["state"] == "referred" and referred["referredTo"]
    out = [x for x in referred["links"] if x["kind"] == "referred_to_office"]
    assert len(out) == 1 and out[0]["direction"] == "to"
    new_id = out[0]["id"]

    # The receiving office has it in its registry, from a referral, pointing back; the referring office cannot
    # open the receiving office's record.
    theirs = await client.get(f"{CLUES}/{new_id}", headers=await staff("chongming", "prosecutor"))
    assert theirs.status_code == 200, theirs.text
    got = theirs.json()
    assert got["source"] == "referral" and got["state"] == "registered" and got["title"] == "跨区河道污染"
    assert got["clueNo"].startswith("CHONGMING-XS-")
    assert [(x["direction"], x["id"]) for x in got["links"]] == [("from", referred["id"])]
    assert (await client.get(f"{CLUES}/{new_id}", headers=prosecutor)).status_code == 404


async def test_the_department_head_assigns_the_handler(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor, head = await staff("jinshan", "prosecutor"), await staff("jinshan", "dept_head")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=942))
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": "civil", "reason": "符合立案条件"})
    case_url = f"{CASES}/{(await _approve(client, url, staff))['caseId']}/handler"
    ids = dict(await conn.fetch("select username, id::text from users where username = any($1::text[])",
                                ["jinshan.chief", "jinshan.assistant", "chongming.prosecutor"]))
    assert (await client.post(case_url, headers=prosecutor,
                              json={"handlerId": ids["jinshan.chief"]})).status_code == 403
    for who in ("jinshan.assistant", "chongming.prosecutor"):
        resp = await client.post(case_url, headers=head, json={"handlerId": ids[who]})
        assert resp.status_code == 422, who
    done = await client.post(case_url, headers=head, json={"handlerId": ids["jinshan.chief"], "reason": "案情重大"})
    assert done.status_code == 200 and done.json()["handlerId"] == ids["jinshan.chief"]
    entry = done.json()["timeline"][-1]
    assert entry["type"] == "handler.assigned" and entry["data"]["to"] == ids["jinshan.chief"]
    listed = (await client.get(CASES, headers=head, params={"handler": ids["jinshan.chief"], "limit": 200})).json()
    assert done.json()["id"] in {c["id"] for c in listed["items"]}
    assert (await client.post(case_url, headers=await staff("chongming", "dept_head"),
                              json={"handlerId": ids["jinshan.chief"]})).status_code == 404
