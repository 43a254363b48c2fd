"""Consultation 磋商 with the agency before a recommendation, on the case: the office and the agency agree a time
over the partners' consultations, the consultation is linked to the case (in its links and on both timelines),
the minutes are shared, and only a consultation with the case's own agency may be linked."""

from __future__ import annotations

import uuid

from tests.helpers import bearer, key, partner_token
from tests.integration.litigation.test_flows import CASES, CLUES, _approve, _clue, _propose

SLOTS = ["2026-12-07T09:30:00+08:00", "2026-12-08T14:00:00+08:00"]
CONSULTATIONS = "/api/v1/staff/partner-consultations"


async def _case(client, staff, route: str = "administrative") -> str:  # noqa: ANN001
    """A case of jinshan just opened (the administrative one against jinshan-ecoenv): its URL."""
    prosecutor = await staff("jinshan", "prosecutor")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=981))
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": route, "reason": "符合立案条件",
                                        **({"agency": "jinshan-ecoenv"} if route == "administrative" else {})})
    return f"{CASES}/{(await _approve(client, url, staff))['caseId']}"


async def _consultation(client, headers: dict[str, str], agency: str = "jinshan-ecoenv") -> str:  # noqa: ANN001
    made = await client.post(CONSULTATIONS, headers={**headers, **key()},
                             json={"clientId": agency, "topic": "检察建议发出前磋商", "agenda": "排污口整改方案",
                                   "slots": SLOTS})
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def test_a_consultation_with_the_agency_is_on_the_case(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    case_url = await _case(client, staff)
    cid = await _consultation(client, prosecutor)
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    confirmed = await client.post(f"/api/v1/partner/consultations/{cid}/confirmation", headers=agency,
                                  json={"slot": SLOTS[0]})
    assert confirmed.status_code == 200, confirmed.text

    linked = await client.post(f"{case_url}/consultations", headers=prosecutor, json={"consultationId": cid})
    assert linked.status_code == 200, linked.text
    case = linked.json()
    assert [(x["direction"], x["module"], x["id"], x["kind"]) for x in case["links"] if x["kind"] == "consultation"] \
        == [("to", "partners", cid, "consultation")]
    entry = case["timeline"][-1]
    assert entry["type"] == "linked_to" and entry["data"] == {"kind": "consultation", "module": "partners", "id": cid}
    assert entry["public"] is False
    # Linking it again changes nothing; the case read shows the same.
    again = await client.post(f"{case_url}/consultations", headers=prosecutor, json={"consultationId": cid})
    assert again.status_code == 200 and again.json()["links"] == case["links"]
    assert again.json()["timeline"] == case["timeline"]
    assert (await client.get(case_url, headers=prosecutor)).json()["links"] == case["links"]
    # The consultation's own record says which case it belongs to.
    back = await conn.fetch("select type, data from timeline_events where subject_id = $1::uuid and type = "
                            "'linked_from'", cid)
    assert [(r["data"]["module"], r["data"]["id"]) for r in back] == [("litigation", case["id"])]
    audited = await conn.fetch("select action from audit_log where object_id = $1", case["id"])
    assert "case.consultation.linked" in {a["action"] for a in audited}

    # The minutes, shared with the agency, are read through the linked consultation.
    held = await client.post(f"{CONSULTATIONS}/{cid}/minutes", headers=prosecutor,
                             json={"minutes": "行政机关承诺30日内封堵排污口。"})
    assert held.status_code == 200 and held.json()["state"] == "held"

    # Then the recommendation: the case keeps the consultation among its links.
    await _propose(client, case_url, staff, {"step": "issue_recommendation", "content": "建议依法履职。"})
    issued = await _approve(client, case_url, staff)
    assert cid in {x["id"] for x in issued["links"]}


async def test_only_a_consultation_with_the_cases_agency_may_be_linked(client, staff) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    case_url = await _case(client, staff)
    police = await _consultation(client, prosecutor, "jinshan-police")
    other = await client.post(f"{case_url}/consultations", headers=prosecutor, json={"consultationId": police})
    assert other.status_code == 400 and other.json()["errors"][0]["field"] == "consultationId"
    unknown = await client.post(f"{case_url}/consultations", headers=prosecutor,
                                json={"consultationId": str(uuid.uuid4())})
    assert unknown.status_code == 404
    theirs = await _consultation(client, await staff("chongming", "prosecutor"), "chongming-ecoenv")
    elsewhere = await client.post(f"{case_url}/consultations", headers=prosecutor, json={"consultationId": theirs})
    assert elsewhere.status_code == 404
    mine = await _consultation(client, prosecutor)
    # Another office cannot reach the case; an account without litigation.handle may not link.
    assert (await client.post(f"{case_url}/consultations", headers=await staff("chongming", "prosecutor"),
                              json={"consultationId": mine})).status_code == 404
    assert (await client.post(f"{case_url}/consultations", headers=await staff("jinshan", "case_mgmt"),
                              json={"consultationId": mine})).status_code == 403
    civil = await _case(client, staff, "civil")
    refused = await client.post(f"{civil}/consultations", headers=prosecutor, json={"consultationId": mine})
    assert refused.status_code == 409
