"""Early involvement 提前介入: the police ask, staff accept and assign a prosecutor who gives opinions, both sides
see the exchange; the office asks the police, who answer; the response clock follows the office's policy."""

from __future__ import annotations

import uuid

from tests.helpers import bearer, key, partner_token, token_for


async def test_police_ask_staff_accept_and_both_sides_see_the_exchange(client, staff, conn, make_user) -> None:  # noqa: ANN001, E501
    police = bearer(await partner_token(client, "jinshan-police"))
    asked = await client.post("/api/v1/partner/involvements", headers={**police, **key()},
                              json={"caseRef": "JS-2026-0200", "summary": "某化工企业非法倾倒危险废物，污染河道。",
                                    "reason": "案情重大，请求提前介入引导取证。", "urgency": "urgent"})
    assert asked.status_code == 201, asked.text
    got = asked.json()
    assert got["state"] == "requested" and got["initiatedBy"] == "partner"
    # The office's answer is due within its policy for urgent requests (2 days by default).
    [clock] = [d for d in got["deadlines"] if d["code"] == "involvement_response"]
    assert clock["status"] in ("running", "warning")
    iid = got["id"]
    url = f"/api/v1/staff/partner-involvements/{iid}"

    # The police cannot answer their own request; the office's chief accepts and assigns the prosecutor.
    own = await client.post(f"/api/v1/partner/involvements/{iid}/answer", headers=police,
                            json={"decision": "agree"})
    assert own.status_code == 409
    chief = await staff("jinshan", "chief")
    listed = await client.get("/api/v1/staff/partner-involvements?state=requested", headers=chief)
    assert listed.status_code == 200 and iid in [i["id"] for i in listed.json()["items"]]
    # Flow monitoring watches the answer's deadline like any other.
    watched = await client.get("/api/v1/monitoring/deadlines?module=partners&withinDays=30",
                               headers=await staff("jinshan", "case_mgmt"))
    assert watched.status_code == 200, watched.text
    [row] = [d for d in watched.json()["items"] if d["subjectId"] == iid]
    assert row["ref"] == "JS-2026-0200"
    no_one = await client.post(f"{url}/answer", headers=chief, json={"decision": "accept"})
    assert no_one.status_code == 400
    prosecutor_id = await conn.fetchval("select id from users where username = 'jinshan.prosecutor'")
    accepted = await client.post(f"{url}/answer", headers=chief,
                                 json={"decision": "accept", "prosecutorId": str(prosecutor_id)})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted" and accepted.json()["prosecutorAssigned"] is True
    assert await conn.fetchval("select status from clocks where subject_id = $1 and code = 'involvement_response'",
                               uuid.UUID(iid)) in ("met", "met_late")

    # The assigned prosecutor records an opinion; another prosecutor of the office may not.
    prosecutor = await staff("jinshan", "prosecutor")
    someone = await make_user(office="jinshan", roles=("prosecutor",))
    another = bearer(await token_for(client, someone["username"], someone["password"]))
    assert (await client.post(f"{url}/opinions", headers={**another, **key()},
                              json={"text": "越权意见"})).status_code == 403
    opinion = await client.post(f"{url}/opinions", headers={**prosecutor, **key()},
                                json={"text": "建议及时固定排污口取样证据并委托鉴定。"})
    assert opinion.status_code == 201, opinion.text
    said = await client.post(f"/api/v1/partner/involvements/{iid}/messages", headers={**police, **key()},
                             json={"text": "已委托鉴定，结果出来后送达。"})
    assert said.status_code == 201
    seen = (await client.get(f"/api/v1/partner/involvements/{iid}", headers=police)).json()
    bodies = [e["body"] for e in seen["exchange"]]
    assert "建议及时固定排污口取样证据并委托鉴定。" in bodies and "已委托鉴定，结果出来后送达。" in bodies
    staff_side = (await client.get(url, headers=prosecutor)).json()
    assert [e["body"] for e in staff_side["exchange"]] == bodies
    done = await client.post(f"{url}/conclusion", headers=prosecutor)
    assert done.status_code == 200 and done.json()["state"] == "concluded"
    late = await client.post(f"/api/v1/partner/involvements/{iid}/messages", headers={**police, **key()},
                             json={"text": "补充"})
    assert late.status_code == 409

    # Another office sees none of it: its staff and its police client get 404.
    other_chief = await staff("chongming", "chief")
    assert (await client.get(url, headers=other_chief)).status_code == 404
    other_police = bearer(await partner_token(client, "chongming-police"))
    assert (await client.get(f"/api/v1/partner/involvements/{iid}", headers=other_police)).status_code == 404


async def test_the_office_asks_the_police_who_answer(client, staff) -> None:  # noqa: ANN001
    chief = await staff("jinshan", "chief")
    body = {"clientId": "jinshan-police", "summary": "某非法采砂案，涉及国有资源损失。", "reason": "需公安机关配合调取证据。"}
    asked = await client.post("/api/v1/staff/partner-involvements", headers={**chief, **key()}, json=body)
    assert asked.status_code == 201, asked.text
    iid = asked.json()["id"]
    # A client of another office cannot be asked (404, its existence not disclosed).
    other = await client.post("/api/v1/staff/partner-involvements", headers={**chief, **key()},
                              json={**body, "clientId": "chongming-police"})
    assert other.status_code == 404
    police = bearer(await partner_token(client, "jinshan-police"))
    refuse = await client.post(f"/api/v1/partner/involvements/{iid}/answer", headers=police,
                               json={"decision": "refuse"})
    assert refuse.status_code == 400
    agreed = await client.post(f"/api/v1/partner/involvements/{iid}/answer", headers=police,
                               json={"decision": "agree"})
    assert agreed.status_code == 200 and agreed.json()["state"] == "accepted"
    mine = await client.get("/api/v1/partner/involvements?state=accepted", headers=police)
    assert iid in [i["id"] for i in mine.json()["items"]]
    assert (await client.get("/api/v1/partner/involvements?state=nonsense", headers=police)).status_code == 400


async def test_contacts_are_kept_by_the_agency_and_sealed(client, conn) -> None:  # noqa: ANN001
    police = bearer(await partner_token(client, "jinshan-police"))
    put = await client.put("/api/v1/partner/contacts", headers=police,
                           json={"contacts": [{"name": "李警官", "role": "法制大队联络员", "phone": "13900001111"}]})
    assert put.status_code == 200, put.text
    assert put.json() == [{"name": "李警官", "role": "法制大队联络员", "phone": "13900001111"}]
    stored = await conn.fetchval("select name_enc || coalesce(phone_enc, '') from partner_contacts c "
                                 "join partner_clients p on p.id = c.client_uuid where p.client_id = 'jinshan-police'")
    assert "李警官" not in stored and "13900001111" not in stored
    assert (await client.get("/api/v1/partner/contacts", headers=police)).json()[0]["name"] == "李警官"


async def test_the_response_clock_follows_the_office_policy(client, staff, conn) -> None:  # noqa: ANN001
    admin = bearer(await token_for(client, "chongming.admin"))
    bad = await client.put("/api/v1/admin/modules/partners", headers=admin,
                           json={"enabled": True, "config": {"involvement": {"urgent": 4}}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("config.involvement")
    try:
        ok = await client.put("/api/v1/admin/modules/partners", headers=admin,
                              json={"enabled": True, "config": {"involvement": {"urgent": 1, "normal": 15}}})
        assert ok.status_code == 200, ok.text
        client.app.state.modules.forget()
        police = bearer(await partner_token(client, "chongming-police"))
        dues = {}
        for urgency in ("urgent", "normal"):
            made = await client.post("/api/v1/partner/involvements", headers={**police, **key()},
                                     json={"summary": "政策测试", "reason": "政策测试", "urgency": urgency})
            assert made.status_code == 201, made.text
            [clock] = [d for d in made.json()["deadlines"] if d["code"] == "involvement_response"]
            dues[urgency] = clock["daysRemaining"]
            topic = await conn.fetchval("select payload->>'clientUuid' from outbox where topic = 'partner.involvement' "
                                        "and payload->>'involvementId' = $1", made.json()["id"])
            assert topic is not None  # the delivery side can route the event to this client
        assert 1 <= dues["urgent"] <= 4 and dues["normal"] >= 15
    finally:
        await client.put("/api/v1/admin/modules/partners", headers=admin, json={"enabled": True, "config": {}})
        client.app.state.modules.forget()
