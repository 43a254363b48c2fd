"""A suggestion's single read is one SQL statement for the office's staff and for the representative who made it;
so are an invitation's and a bulletin's for staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import key
from tests.integration.liaison.helpers import REP, STAFF, own_entry, rep_headers
from tests.statements import one_statement_each


async def test_staff_and_the_representative_read_a_suggestion_in_one_statement(client, staff,
                                                                               monkeypatch) -> None:
    deputy = await rep_headers(client, "jinshan.deputy")
    sent = await client.post(f"{REP}/suggestions", headers={**deputy, **key()},
                             json={"title": "关于加强河道污染治理的建议", "body": "建议对沿河企业排污开展专项监督。"})
    assert sent.status_code == 201, sent.text
    sid = sent.json()["id"]
    office = await staff("jinshan", "liaison_office")
    mine = await one_statement_each(client, monkeypatch, [(f"{STAFF}/suggestions/{sid}", office),
                                                          (f"{REP}/suggestions/{sid}", deputy)])
    assert mine["id"] == sid and [d["code"] for d in mine["deadlines"]] == ["suggestion_reply"]
    # Another representative's suggestion stays hidden: 404, not 403.
    other = await rep_headers(client, "jinshan.member")
    assert (await client.get(f"{REP}/suggestions/{sid}", headers=other)).status_code == 404


async def test_staff_read_an_invitation_and_a_bulletin_in_one_statement_each(client, staff, monkeypatch) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    deputy, member = await rep_headers(client, "jinshan.deputy"), await rep_headers(client, "jinshan.member")
    reps = [(await own_entry(client, h))["id"] for h in (deputy, member)]
    starts = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    sent = await client.post(f"{STAFF}/invitations", headers={**office, **key()},
                             json={"kind": "hearing", "title": "某不起诉案件公开听证", "place": "听证室", "capacity": 5,
                                   "representativeIds": reps, "startsAt": starts})
    assert sent.status_code == 201, sent.text
    iid = sent.json()["id"]
    accepted = await client.post(f"{REP}/invitations/{iid}/response", headers=member, json={"response": "accept"})
    assert accepted.status_code == 200, accepted.text
    published = await client.post(f"{STAFF}/bulletins", headers={**office, **key()}, json={
        "kind": "notice", "audience": "selected", "title": "定向通报", "body": "仅致两位代表。",
        "representativeIds": reps})
    assert published.status_code == 201, published.text
    bid = published.json()["id"]
    assert (await client.post(f"{REP}/bulletins/{bid}/read", headers=member)).status_code == 200
    bulletin = await one_statement_each(client, monkeypatch, [(f"{STAFF}/bulletins/{bid}", office)])
    assert bulletin["readBy"] == [reps[1]] and bulletin["recipients"] == sorted(reps)
    invitation = await one_statement_each(client, monkeypatch, [(f"{STAFF}/invitations/{iid}", office)])
    # Every invitee with its answer, by name; the accepted count; the notice deadline.
    assert sorted((i["representativeId"], i["response"]) for i in invitation["invitees"]) == sorted(
        [(reps[0], "pending"), (reps[1], "accepted")])
    assert all(i["name"] and i["kind"] in ("deputy", "member") for i in invitation["invitees"])
    assert invitation["accepted"] == 1 and [c["code"] for c in invitation["clocks"]] == ["hearing_invitation_notice"]
    # Another office's staff: 404 for both.
    other = await staff("chongming", "liaison_office")
    for path in (f"{STAFF}/bulletins/{bid}", f"{STAFF}/invitations/{iid}"):
        assert (await client.get(path, headers=other)).status_code == 404
