"""Invitations and bulletins over HTTP: a member accepts a hearing invitation sent 3 days ahead, attends and leaves
an opinion; bulletins reach their audience and carry read receipts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modules.clocks.calendar import SHANGHAI
from tests.helpers import key
from tests.integration.liaison.helpers import REP, STAFF, add_rep, own_entry, rep_headers


def _when(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_a_member_accepts_a_hearing_invitation_attends_and_leaves_an_opinion(client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    deputy, member = await rep_headers(client, "jinshan.deputy"), await rep_headers(client, "jinshan.member")
    reps = [(await own_entry(client, h))["id"] for h in (deputy, member)]
    body = {"kind": "hearing", "title": "某不起诉案件公开听证", "place": "听证室", "capacity": 1,
            "representativeIds": reps}
    # Panellists are told at least 3 days before the hearing: a clock counted back from it records whether they were.
    late = await client.post(f"{STAFF}/invitations", headers={**office, **key()}, json={**body, "startsAt": _when(2)})
    assert late.status_code == 201, late.text
    assert [(c["code"], c["status"]) for c in late.json()["clocks"]] == [("hearing_invitation_notice", "met_late")]
    # Ten days ahead: on time whatever the weekday (a notice day on a rest day moves back to a working day).
    starts = _when(10)
    sent = await client.post(f"{STAFF}/invitations", headers={**office, **key()}, json={**body, "startsAt": starts})
    assert sent.status_code == 201, sent.text
    inv = sent.json()
    [notice] = inv["clocks"]
    hearing_day = datetime.fromisoformat(starts).astimezone(SHANGHAI).date()
    assert notice["status"] == "met" and notice["due"] <= (hearing_day - timedelta(days=3)).isoformat()
    # Flow monitoring counts both: one on time, one late.
    rates = await client.get("/api/v1/monitoring/rates", headers=await staff("jinshan", "chief"),
                             params={"module": "liaison", "clock": "hearing_invitation_notice"})
    assert rates.status_code == 200, rates.text
    [rate] = rates.json()["rates"]
    assert rate["metOnTime"] >= 1 and rate["metLate"] >= 1
    assert [i["response"] for i in inv["invitees"]] == ["pending", "pending"]
    # A panellist added later to the hearing two days ahead: a second notice, late as well.
    extra = (await add_rep(client, office, kind="member"))["id"]
    added = await client.post(f"{STAFF}/invitations/{late.json()['id']}/invitees", headers=office,
                              json={"representativeIds": [extra]})
    assert added.status_code == 200 and len(added.json()["invitees"]) == 3, added.text
    assert [c["status"] for c in added.json()["clocks"]] == ["met_late", "met_late"]
    more = await client.post(f"{STAFF}/invitations/{inv['id']}/invitees", headers=office,
                             json={"representativeIds": reps})
    assert more.status_code == 200 and len(more.json()["invitees"]) == 2  # already invited: nothing changes
    assert [c["status"] for c in more.json()["clocks"]] == ["met"]
    mine = await client.get(f"{REP}/invitations", headers=member, params={"limit": 200})
    assert inv["id"] in [i["id"] for i in mine.json()["items"]]

    accepted = await client.post(f"{REP}/invitations/{inv['id']}/response", headers=member,
                                 json={"response": "accept"})
    assert accepted.status_code == 200 and accepted.json()["response"] == "accepted", accepted.text
    full = await client.post(f"{REP}/invitations/{inv['id']}/response", headers=deputy, json={"response": "accept"})
    assert full.status_code == 409
    declined = await client.post(f"{REP}/invitations/{inv['id']}/response", headers=deputy,
                                 json={"response": "decline"})
    assert declined.status_code == 200 and declined.json()["response"] == "declined"
    url = f"{STAFF}/invitations/{inv['id']}"
    # Attendance is recorded once the event has begun.
    assert (await client.post(f"{url}/attendance", headers=office, json={"attended": [reps[1]]})).status_code == 409
    await conn.execute("update liaison_invitations set starts_at = now() - interval '1 hour' where id = $1", inv["id"])
    assert (await client.post(f"{REP}/invitations/{inv['id']}/response", headers=member,
                              json={"response": "decline"})).status_code == 409
    wrong = await client.post(f"{url}/attendance", headers=office, json={"attended": [reps[0]]})
    assert wrong.status_code == 422
    present = await client.post(f"{url}/attendance", headers=office, json={"attended": [reps[1]]})
    assert present.status_code == 200, present.text
    assert {i["representativeId"]: i["attended"] for i in present.json()["invitees"]} == {reps[0]: None,
                                                                                        reps[1]: True}
    held = await client.post(f"{url}/steps", headers=office, json={"step": "hold"})
    assert held.status_code == 200 and held.json()["state"] == "held"

    opinion = await client.post(f"{REP}/invitations/{inv['id']}/opinion", headers=member,
                                json={"text": "听证程序规范，建议扩大旁听范围。"})
    assert opinion.status_code == 200 and opinion.json()["opinion"] == "听证程序规范，建议扩大旁听范围。"
    assert not opinion.json()["canGiveOpinion"]
    assert (await client.post(f"{REP}/invitations/{inv['id']}/opinion", headers=member,
                              json={"text": "再"})).status_code == 409
    assert (await client.post(f"{REP}/invitations/{inv['id']}/opinion", headers=deputy,
                              json={"text": "未出席"})).status_code == 409
    final = (await client.get(url, headers=office)).json()
    assert [i["opinion"] for i in final["invitees"] if i["representativeId"] == reps[1]] == [
        "听证程序规范，建议扩大旁听范围。"]
    # Another office cannot see it; a representative not invited cannot either.
    assert (await client.get(url, headers=await staff("chongming", "liaison_office"))).status_code == 404
    chongming = await rep_headers(client, "chongming.member")
    assert (await client.get(f"{REP}/invitations/{inv['id']}", headers=chongming)).status_code == 404
    listed = await client.get(f"{STAFF}/invitations", headers=office, params={"kind": "hearing", "state": "held"})
    assert inv["id"] in [i["id"] for i in listed.json()["items"]]


async def test_bulletins_reach_their_audience_with_read_receipts(client, staff) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    deputy, member = await rep_headers(client, "jinshan.deputy"), await rep_headers(client, "jinshan.member")
    published = await client.post(f"{STAFF}/bulletins", headers={**office, **key()}, json={
        "kind": "typical_case", "audience": "member", "title": "典型案例通报", "body": "某公益诉讼案件办理情况。"})
    assert published.status_code == 201, published.text
    bid = published.json()["id"]
    member_list = (await client.get(f"{REP}/bulletins", headers=member, params={"limit": 200})).json()["items"]
    assert [b["read"] for b in member_list if b["id"] == bid] == [False]
    deputy_list = (await client.get(f"{REP}/bulletins", headers=deputy, params={"limit": 200})).json()["items"]
    assert bid not in [b["id"] for b in deputy_list]
    assert (await client.post(f"{REP}/bulletins/{bid}/read", headers=deputy)).status_code == 404
    read = await client.post(f"{REP}/bulletins/{bid}/read", headers=member)
    assert read.status_code == 200 and read.json()["read"] and read.json()["body"] == "某公益诉讼案件办理情况。"
    assert (await client.post(f"{REP}/bulletins/{bid}/read", headers=member)).status_code == 200
    receipts = (await client.get(f"{STAFF}/bulletins/{bid}", headers=office)).json()["readBy"]
    assert receipts == [(await own_entry(client, member))["id"]]
    # To representatives chosen by name: only they see it.
    bad = await client.post(f"{STAFF}/bulletins", headers={**office, **key()}, json={
        "kind": "notice", "audience": "selected", "title": "定向通报", "body": "x"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "representativeIds"
    chosen = (await own_entry(client, deputy))["id"]
    named = await client.post(f"{STAFF}/bulletins", headers={**office, **key()}, json={
        "kind": "notice", "audience": "selected", "title": "定向通报", "body": "仅致王代表。",
        "representativeIds": [chosen]})
    assert named.status_code == 201 and named.json()["recipients"] == [chosen], named.text
    assert (await client.post(f"{REP}/bulletins/{named.json()['id']}/read", headers=deputy)).status_code == 200
    assert (await client.post(f"{REP}/bulletins/{named.json()['id']}/read", headers=member)).status_code == 404
    member_list = (await client.get(f"{REP}/bulletins", headers=member, params={"limit": 200})).json()["items"]
    assert named.json()["id"] not in [b["id"] for b in member_list]
    # The office's other representatives never see another office's bulletins.
    chongming = await rep_headers(client, "chongming.member")
    assert (await client.post(f"{REP}/bulletins/{bid}/read", headers=chongming)).status_code == 404


async def test_the_year_s_figures_count_open_days_held_against_the_policy(client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    before = (await client.get(f"{STAFF}/stats", headers=office)).json()
    elsewhere = await staff("chongming", "liaison_office")
    other_before = (await client.get(f"{STAFF}/stats", headers=elsewhere)).json()
    assert before["openDaysRequired"] == 2 and before["answersDue"] >= before["answeredOnTime"]
    assert before["cadence"] and all(q["met"] <= q["people"] for q in before["cadence"])
    rep = (await own_entry(client, await rep_headers(client, "jinshan.deputy")))["id"]
    sent = await client.post(f"{STAFF}/invitations", headers={**office, **key()}, json={
        "kind": "open_day", "title": "检察开放日", "place": "本院", "capacity": 30, "startsAt": _when(1),
        "representativeIds": [rep]})
    await conn.execute("update liaison_invitations set starts_at = now() - interval '1 hour' where id = $1",
                       sent.json()["id"])
    held = await client.post(f"{STAFF}/invitations/{sent.json()['id']}/steps", headers=office, json={"step": "hold"})
    assert held.status_code == 200, held.text
    after = (await client.get(f"{STAFF}/stats", headers=office)).json()
    assert after["openDaysHeld"] == before["openDaysHeld"] + 1
    assert (await client.get(f"{STAFF}/stats", headers=office, params={"year": 1999})).status_code == 400
    # A year long past with none held is behind; other offices' figures are their own.
    old = (await client.get(f"{STAFF}/stats", headers=office, params={"year": 2001})).json()
    assert old["openDaysHeld"] == 0 and old["openDaysBehind"] and old["suggestions"] == 0
    other = (await client.get(f"{STAFF}/stats", headers=elsewhere)).json()
    assert other["openDaysHeld"] == other_before["openDaysHeld"]
