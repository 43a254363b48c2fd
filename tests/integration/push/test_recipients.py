"""Topics that reached nobody before: the flow-monitoring ladder (handler, department head, whoever raised the
notice, a bulletin's handlers), an account's own creation and move, liaison's policy warnings, PIL steps (handler,
approvers, the agency addressed) and partner work (the staff who act on what an agency does, the agency of what the
office does); only the right accounts, never across offices, never a disabled one, with muted kinds respected."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from modules.clocks.store import today
from modules.liaison.queries import open_days_owed
from tests.helpers import bearer, key, partner_token, token_for
from tests.integration.clocks.helpers import backdate, file_item
from tests.integration.litigation.test_flows import CASES, CLUES, _clue
from tests.integration.push.conftest import drain


async def _person(client, conn, make_user, roles, department, office="jinshan"):
    user = await make_user(office=office, roles=roles)
    await conn.execute("update users set department = $2 where id = $1", user["id"], department)
    return user["id"], bearer(await token_for(client, user["username"], user["password"]))


async def _events(conn, user_id, clock_id):
    rows = await conn.fetch("select kind, event from inbox where user_id = $1 and payload->>'clockId' = $2"
                            " order by created_at", user_id, clock_id)
    assert all(r["kind"] == "monitoring" for r in rows)
    return [r["event"] for r in rows]


async def _device(client, headers) -> str:
    token = f"apns-{uuid.uuid4().hex}"
    resp = await client.post("/api/v1/me/devices", headers=headers, json={
        "platform": "ios", "channel": "apns", "token": token, "appVersion": "1.4.0", "locale": "zh-CN"})
    assert resp.status_code in (200, 201), resp.text
    return token


async def test_the_monitoring_ladder_reaches_the_handler_and_the_department_head(
        client, staff, conn, make_user, worker, providers) -> None:
    # The demo's own events (PIL case steps for the office's handlers) go out first: delivered after the head below
    # exists, they would reach the head's phone, and this test alone (no earlier test drained them) would fail.
    await drain(worker)
    dept = f"第{uuid.uuid4().hex[:6]}检察部"
    handler_id, handler = await _person(client, conn, make_user, ("prosecutor",), dept)
    head_id, head = await _person(client, conn, make_user, ("dept_head",), dept)
    other_head, _ = await _person(client, conn, make_user, ("dept_head",), "另一部门")
    far_head, _ = await _person(client, conn, make_user, ("dept_head",), dept, office="chongming")
    handler_phone, head_phone = await _device(client, handler), await _device(client, head)
    # The head keeps monitoring off the phone: the inbox still has it, the phone stays quiet.
    muted = await client.put("/api/v1/me/inbox/preferences", headers=head, json={"mutedKinds": ["monitoring"]})
    assert muted.status_code == 200, muted.text
    office, chief = await staff("jinshan", "complaints_office"), await staff("jinshan", "chief")
    monitor = await staff("jinshan", "case_mgmt")
    monitor_id = await conn.fetchval("select id from users where username = 'jinshan.case_mgmt'")
    cid = await file_item(client, office)
    assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                              json={"step": "accept"})).status_code == 200
    assigned = await client.post(f"/api/v1/staff/complaints/{cid}/assignment", headers=chief,
                                 json={"mode": "designate", "assigneeId": str(handler_id), "reason": "熟悉案情"})
    assert assigned.status_code == 200, assigned.text
    clock = str(await conn.fetchval("select id from clocks where subject_id = $1::uuid and code = 'result_reply'",
                                    cid))
    await drain(worker)

    # 口头提示: the handler alone.
    await backdate(conn, cid, "result_reply", 89)
    reminder = await client.post(f"/api/v1/monitoring/clocks/{clock}/rungs", headers=monitor,
                                 json={"rung": "reminder", "note": "请抓紧办理"})
    assert reminder.status_code == 201, reminder.text
    await drain(worker)
    assert await _events(conn, handler_id, clock) == ["monitoring.reminder"]
    assert await _events(conn, head_id, clock) == []
    mine = [e for e in (await client.get("/api/v1/me/inbox", headers=handler)).json()["items"]
            if e["kind"] == "monitoring"]
    assert [e["event"] for e in mine] == ["monitoring.reminder"] and mine[0]["data"]["clockId"] == clock
    pushed = [r for r in providers["apns"].requests
              if handler_phone in r.path and r.headers["apns-collapse-id"] == mine[0]["id"]]
    assert len(pushed) == 1
    assert pushed[0].json()["kind"] == "monitoring" and "请抓紧办理" not in pushed[0].body.decode()

    # The written notice: the handler and the head of their department; no other department, no other office.
    await backdate(conn, cid, "result_reply", 10)
    notice = await client.post(f"/api/v1/monitoring/clocks/{clock}/rungs", headers=monitor, json={"rung": "notice"})
    assert notice.status_code == 201, notice.text
    await drain(worker)
    assert await _events(conn, handler_id, clock) == ["monitoring.reminder", "monitoring.notice"]
    assert await _events(conn, head_id, clock) == ["monitoring.notice"]
    for nobody in (other_head, far_head, monitor_id):
        assert await _events(conn, nobody, clock) == []
    assert [r for r in providers["apns"].requests if head_phone in r.path] == []

    # The handler's answer goes up: the head, and the monitor who raised the notice; not back to the handler.
    notice_id = next(n["id"] for n in (await client.get("/api/v1/monitoring/my-notices", headers=handler)).json()
                     if n["clockId"] == clock)
    answered = await client.post(f"/api/v1/monitoring/notices/{notice_id}/answer", headers=handler,
                                 json={"reason": "鉴定意见未出", "plan": "本周内出具答复"})
    assert answered.status_code == 200, answered.text
    await drain(worker)
    assert await _events(conn, head_id, clock) == ["monitoring.notice", "monitoring.notice_answered"]
    assert await _events(conn, monitor_id, clock) == ["monitoring.notice_answered"]
    assert await _events(conn, handler_id, clock) == ["monitoring.reminder", "monitoring.notice"]

    # A bulletin reaches the handlers it lists and their heads.
    due = await conn.fetchval("select due from clocks where id = $1::uuid", clock)
    # Two days (the ladder's own test takes the one-day period of the same due date).
    period = {"periodStart": due.isoformat(), "periodEnd": (due + timedelta(days=2)).isoformat()}
    bulletin = await client.post("/api/v1/monitoring/bulletins", headers={**monitor, **key()}, json=period)
    assert bulletin.status_code == 201, bulletin.text
    await drain(worker)
    for who in (handler_id, head_id):
        got = await conn.fetch("select event from inbox where user_id = $1 and payload->>'bulletinId' = $2", who,
                               bulletin.json()["id"])
        assert [r["event"] for r in got] == ["monitoring.bulletin"]
    for nobody in (other_head, far_head):
        assert not await conn.fetchval("select count(*) from inbox where user_id = $1 and payload->>'bulletinId' = $2",
                                       nobody, bulletin.json()["id"])


async def test_an_account_hears_of_its_creation_and_its_move_and_no_one_else_does(client, staff, conn,
                                                                                  worker) -> None:
    admin = await staff("jinshan", "admin")
    username = "u" + uuid.uuid4().hex[:10]
    created = await client.post("/api/v1/admin/users", headers={**admin, **key()}, json={
        "username": username, "displayName": "王五", "roles": ["prosecutor"], "department": "第二检察部"})
    assert created.status_code == 201, created.text
    user_id, one_time = created.json()["account"]["id"], created.json()["oneTimePassword"]
    await drain(worker)
    moved = await client.post(f"/api/v1/admin/users/{user_id}/move", headers=admin, json={"office": "chongming"})
    assert moved.status_code == 200, moved.text
    await drain(worker)

    rows = await conn.fetch("select i.user_id, i.kind, o.code from inbox i join offices o on o.id = i.office_id"
                            " where i.payload->>'user' = $1 order by i.created_at", user_id)
    assert [(str(r["user_id"]), r["kind"], r["code"]) for r in rows] == [
        (user_id, "account.created", "jinshan"), (user_id, "account.moved", "chongming")]
    # The move revoked every token issued up to its second (iat is whole seconds): sign in after it.
    await asyncio.sleep(1.1)
    # The owner reads both with their own token once signed in (first sign-in changes the one-time password).
    pending = await client.post("/api/v1/auth/token", data={"grant_type": "password", "client_id": "staff-app",
                                                            "username": username, "password": one_time})
    assert pending.status_code == 200, pending.text
    changed = await client.post("/api/v1/auth/password", headers=bearer(pending.json()),
                                json={"oldPassword": one_time, "newPassword": "Xin-mima-2026!" + uuid.uuid4().hex[:6]})
    assert changed.status_code == 200, changed.text
    inbox = (await client.get("/api/v1/me/inbox", headers=bearer(changed.json()))).json()["items"]
    assert [e["kind"] for e in inbox] == ["account.moved", "account.created"]
    assert all(e["data"] == {"user": user_id} for e in inbox)


async def test_an_invited_deputy_hears_of_the_hearing_and_no_one_else_does(client, staff, conn, worker) -> None:
    prosecutor = await staff("jinshan", "prosecutor")
    case = await conn.fetchval("select id from pil_cases where office_id = (select id from offices where code ="
                               " 'jinshan') and state = 'investigating' order by created_at limit 1")
    deputy = await conn.fetchval("select id from users where username = 'jinshan.deputy'")
    member = await conn.fetchval("select id from users where username = 'jinshan.member'")
    soon = (datetime.now(UTC) + timedelta(days=4)).isoformat()
    made = await client.post(f"/api/v1/staff/litigation/cases/{case}/hearings/", headers={**prosecutor, **key()}, json={
        "kind": "hearing", "topic": "通知测试听证", "scheduledAt": soon, "place": "本院听证室",
        "invitees": [{"kind": "deputy", "userId": str(deputy)}]})
    assert made.status_code == 201, made.text
    invitation = made.json()["invitations"][0]["id"]
    await drain(worker)
    rows = await conn.fetch("select user_id, kind from inbox where payload->>'invitationId' = $1", invitation)
    assert [(r["user_id"], r["kind"]) for r in rows] == [(deputy, "litigation.invitation")]
    # The deputy reads it with the representative app's own token; the member, not invited, has nothing of it.
    as_deputy = bearer(await token_for(client, "jinshan.deputy", client_id="representative-app"))
    mine = (await client.get("/api/v1/me/inbox", headers=as_deputy)).json()["items"]
    assert [e["data"]["invitationId"] for e in mine if e["kind"] == "litigation.invitation"].count(invitation) == 1
    assert not await conn.fetchval("select count(*) from inbox where user_id = $1 and payload->>'invitationId' = $2",
                                   member, invitation)


async def test_a_representative_and_the_liaison_office_hear_of_a_suggestion(client, staff, conn, worker) -> None:
    office = await staff("jinshan", "liaison_office")
    rep, member = await conn.fetchrow("select r.id, r.user_id from liaison_representatives r where r.office_id ="
                                      " (select id from offices where code = 'jinshan') and r.kind = 'member'"
                                      " and r.user_id is not null limit 1")
    logged = await client.post("/api/v1/staff/liaison/suggestions", headers={**office, **key()}, json={
        "representativeId": str(rep), "channel": "session", "title": "关于加强河道污染治理的建议",
        "body": "建议对沿河企业排污开展专项监督。"})
    assert logged.status_code == 201, logged.text
    suggestion = logged.json()["id"]
    moved = await client.post(f"/api/v1/staff/liaison/suggestions/{suggestion}/classification", headers=office,
                              json={"reason": "涉及多个部门"})
    assert moved.status_code == 200, moved.text
    await drain(worker)
    # The reclassification (a longer deadline) is the member's to know; the office's liaison staff hear of both.
    rows = await conn.fetch("select user_id, kind, event from inbox where payload->>'suggestionId' = $1"
                            " order by created_at", suggestion)
    told = [(r["user_id"], r["event"]) for r in rows if r["kind"] == "liaison.representative"]
    assert told == [(member, "suggestion.reclassified")]
    liaison = set(await conn.fetchval("select array_agg(id) from users where office_id = (select id from offices"
                                      " where code = 'jinshan') and 'liaison_office' = any(roles)"))
    staff_rows = [r for r in rows if r["kind"] == "liaison.staff"]
    assert {r["user_id"] for r in staff_rows} == liaison and len(staff_rows) == 2 * len(liaison)
    assert {r["event"] for r in staff_rows} == {"suggestion.created", "suggestion.reclassified"}
    assert len(rows) == len(told) + len(staff_rows)  # no one else, no other office


async def test_the_sweep_tells_the_liaison_staff_and_the_leader_behind_on_liaison_policy(
        client, conn, make_office, make_user, worker) -> None:
    required = 52
    if open_days_owed(required, today().year, today()) == 0:
        pytest.skip("the first week of the year: no open day is owed yet, so no warning is due")
    # A new office (no warning raised yet this quarter) whose policy asks for an open day a week, none held, and
    # has its department head contact representatives every quarter, warning all quarter long; nobody contacted.
    code = await make_office()
    headers, ids = {}, {}
    for role in ("admin", "liaison_office", "prosecutor", "case_mgmt", "dept_head"):
        user = await make_user(office=code, roles=(role,))
        headers[role] = bearer(await token_for(client, user["username"], user["password"]))
        ids[role] = str(user["id"])
    assert (await client.put("/api/v1/admin/modules/liaison", headers=headers["admin"], json={
        "enabled": True, "config": {"open_days_per_year": required,
                                    "cadence": {"roles": ["dept_head"], "warn_days": 92}}})).status_code == 200
    jinshan = await make_user(roles=("liaison_office",))

    swept = await client.post("/api/v1/monitoring/sweep", headers=headers["case_mgmt"])
    assert swept.status_code == 200 and swept.json()["warnings"] == 2, swept.text
    again = await client.post("/api/v1/monitoring/sweep", headers=headers["case_mgmt"])
    assert again.json()["warnings"] == 0  # once a quarter
    await drain(worker)

    # The office's liaison staff find the open-days warning in their inbox, with the figures; the department head
    # the one on their own cadence; nobody else, no other office.
    inbox = (await client.get("/api/v1/me/inbox", headers=headers["liaison_office"])).json()["items"]
    [warning] = [i for i in inbox if i["kind"] == "liaison.warning"]
    owed = open_days_owed(required, today().year, today())
    assert warning["event"] == "liaison.open_days_behind"
    assert (warning["data"]["held"], warning["data"]["owed"], warning["data"]["required"]) == (0, owed, required)
    head = (await client.get("/api/v1/me/inbox", headers=headers["dept_head"])).json()["items"]
    assert [(i["kind"], i["event"], i["data"]["userId"]) for i in head] == [
        ("liaison.warning", "liaison.cadence_behind", ids["dept_head"])]
    assert (await client.get("/api/v1/me/inbox", headers=headers["prosecutor"])).json()["items"] == []
    assert not await conn.fetchval("select count(*) from inbox where user_id = $1 and kind = 'liaison.warning'",
                                   jinshan["id"])
    # The year's figures say the same, and the warning is on the audit trail.
    stats = await client.get("/api/v1/staff/liaison/stats", headers=headers["liaison_office"],
                             params={"year": today().year})
    assert stats.status_code == 200 and stats.json()["openDaysBehind"] and stats.json()["openDaysHeld"] == 0
    audit = await client.get("/api/v1/admin/audit", headers=headers["admin"],
                             params={"action": "liaison.open_days.warned"})
    assert audit.status_code == 200, audit.text
    [row] = audit.json()["items"]
    assert row["detail"] == {"year": today().year, "held": 0, "owed": owed, "required": required}


async def _serving(conn, office: str, roles: tuple[str, ...]) -> set:
    """The office's serving staff holding any of `roles` (the national permission list's holders of an action)."""
    rows = await conn.fetch("select id from users where office_id = (select id from offices where code = $1)"
                            " and kind = 'staff' and disabled_at is null and retired_at is null"
                            " and roles && $2::text[]", office, list(roles))
    return {r["id"] for r in rows}


async def _told(conn, field: str, value: str) -> dict[str, set]:
    """event -> the accounts whose inbox has it, for the events whose payload names `field` = `value`."""
    out: dict[str, set] = {}
    for r in await conn.fetch("select event, user_id from inbox where payload->>$1 = $2", field, value):
        out.setdefault(r["event"], set()).add(r["user_id"])
    return out


async def _fed(conn, client_id: str, field: str, value: str) -> list[str]:
    """The events of the partner's feed (webhook or pull) whose payload names `field` = `value`, in order."""
    rows = await conn.fetch("select e.payload->>'event' as event from partner_events e join partner_clients c"
                            " on c.id = e.client_id where c.client_id = $1 and e.payload->>$2 = $3 order by e.id",
                            client_id, field, value)
    return [r["event"] for r in rows]


async def _agency(client, staff, conn, like: str, kinds: list[str]) -> tuple[str, dict[str, str]]:
    """A fresh partner client of jinshan like a demo one (its kind, scopes and secret), subscribed to `kinds` with
    no endpoint (it pulls): the demo clients' subscriptions are other tests' to set. Its client id and headers."""
    client_id = f"{like}-{uuid.uuid4().hex[:8]}"
    made = await conn.fetchval(
        "insert into partner_clients (office_id, client_id, name, agency_kind, secret_hash, scopes) select office_id,"
        " $1, name, agency_kind, secret_hash, scopes from partner_clients where client_id = $2 returning id",
        client_id, like)
    subscribed = await client.put(f"/api/v1/admin/partner-clients/{made}/webhook",
                                  headers=await staff("jinshan", "admin"), json={"kinds": kinds})
    assert subscribed.status_code == 201, subscribed.text
    return client_id, bearer(await partner_token(client, client_id))


async def _bystanders(conn, make_user, roles: tuple[str, ...]) -> list:
    """Accounts that must never hear: one of the roles but disabled, one of them in another office, and one of the
    office outside them."""
    disabled = await make_user(roles=roles)
    await conn.execute("update users set disabled_at = now() where id = $1", disabled["id"])
    far = await make_user(office="chongming", roles=roles)
    outside = await make_user(roles=("case_mgmt",))
    return [disabled["id"], far["id"], outside["id"]]


async def test_pil_steps_reach_the_handler_the_approvers_and_the_agency_addressed(
        client, staff, conn, make_user, worker) -> None:
    nobody = await _bystanders(conn, make_user, ("prosecutor", "dept_head", "chief"))
    ecoenv, agency = await _agency(client, staff, conn, "jinshan-ecoenv", ["litigation.partner"])
    police, _ = await _agency(client, staff, conn, "jinshan-police", ["litigation.partner"])
    handlers = await _serving(conn, "jinshan", ("prosecutor", "dept_head", "chief"))
    heads, chiefs = await _serving(conn, "jinshan", ("dept_head",)), await _serving(conn, "jinshan", ("chief",))
    prosecutor, head, chief = [await staff("jinshan", r) for r in ("prosecutor", "dept_head", "chief")]
    prosecutor_id = await conn.fetchval("select id from users where username = 'jinshan.prosecutor'")

    # A clue has no handler: the office's staff who handle PIL hear of it, and of the proposal to open a case.
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=977))
    assert made.status_code == 201, made.text
    clue, url = made.json()["id"], f"{CLUES}/{made.json()['id']}"
    assert (await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})).status_code == 200
    proposed = await client.post(f"{url}/steps", headers=prosecutor, json={
        "step": "open_case", "route": "administrative", "reason": "符合立案条件", "agency": ecoenv})
    assert proposed.status_code == 200, proposed.text
    proposal = proposed.json()["pendingProposal"]["id"]
    for who in (head, chief):
        decided = await client.post(f"{url}/proposals/{proposal}/decision", headers=who, json={"decision": "approve"})
        assert decided.status_code == 200, decided.text
    case = decided.json()["caseId"]
    await drain(worker)
    told = await _told(conn, "subjectId", clue)
    assert set(told) == {"clue.created", "clue.evaluate", "clue.proposal.created", "clue.proposal.approve",
                         "clue.open_case"}
    assert all(users == handlers for users in told.values()), told
    assert not any(n in users for users in told.values() for n in nobody)

    # The case's steps reach its handler; a proposal, those who must approve it next as well.
    case_url = f"{CASES}/{case}"
    asked = await client.post(f"{case_url}/steps", headers=prosecutor,
                              json={"step": "issue_recommendation", "content": "建议依法履职。"})
    assert asked.status_code == 200, asked.text
    await drain(worker)
    assert await _told(conn, "subjectId", case) == {"case.created": {prosecutor_id},
                                                    "case.proposal.created": {prosecutor_id, *heads}}
    proposal = asked.json()["pendingProposal"]["id"]
    reviewed = await client.post(f"{case_url}/proposals/{proposal}/decision", headers=head,
                                 json={"decision": "approve"})
    assert reviewed.status_code == 200, reviewed.text
    await drain(worker)
    assert (await _told(conn, "subjectId", case))["case.proposal.approve"] == {prosecutor_id, *chiefs}
    # Returned by the chief: the proposer (the handler) hears of it; the issue is proposed again and signed.
    returned = await client.post(f"{case_url}/proposals/{proposal}/decision", headers=chief,
                                 json={"decision": "return", "reason": "请补充整改期限"})
    assert returned.status_code == 200, returned.text
    again = await client.post(f"{case_url}/steps", headers=prosecutor,
                              json={"step": "issue_recommendation", "content": "建议依法履职，两个月内整改。"})
    proposal = again.json()["pendingProposal"]["id"]
    for who in (head, chief):
        decided = await client.post(f"{case_url}/proposals/{proposal}/decision", headers=who,
                                    json={"decision": "approve"})
        assert decided.status_code == 200, decided.text
    await drain(worker)
    told = await _told(conn, "subjectId", case)
    assert told["case.proposal.return"] == {prosecutor_id}
    assert told["case.issue_recommendation"] == {prosecutor_id}
    assert not any(n in users for users in told.values() for n in nobody)

    # The recommendation reaches the agency addressed (its feed), not another agency subscribed to the topic.
    rec = decided.json()["recommendation"]["id"]
    assert await _fed(conn, ecoenv, "recommendationId", rec) == ["recommendation.issued"]
    assert await _fed(conn, police, "recommendationId", rec) == []
    feed = (await client.get("/api/v1/partner/events", headers=agency, params={"after": 0, "limit": 200})).json()
    assert [e["data"]["event"] for e in feed["events"] if e["data"].get("recommendationId") == rec] == [
        "recommendation.issued"]
    assert not await conn.fetchval("select count(*) from inbox where payload->>'recommendationId' = $1", rec)


async def test_what_an_agency_does_reaches_the_staff_who_act_and_what_the_office_does_the_agency(
        client, staff, conn, make_user, worker) -> None:
    nobody = await _bystanders(conn, make_user, ("prosecutor", "dept_head", "chief", "complaints_office"))
    police_id, police = await _agency(client, staff, conn, "jinshan-police", [
        "partner.involvement", "partner.document", "partner.transfer"])
    ecoenv, agency = await _agency(client, staff, conn, "jinshan-ecoenv", ["partner.consultation"])
    chief = await staff("jinshan", "chief")
    deciders = await _serving(conn, "jinshan", ("dept_head", "chief"))
    goer = await make_user(roles=("prosecutor",))
    handlers = await _serving(conn, "jinshan", ("prosecutor", "dept_head", "chief"))
    goer_headers = bearer(await token_for(client, goer["username"], goer["password"]))

    # Early involvement: the police's request reaches those who may accept it; the acceptance, the prosecutor it
    # names and the police; the police's message, that prosecutor alone; the opinion, the police alone.
    asked = await client.post("/api/v1/partner/involvements", headers={**police, **key()}, json={
        "caseRef": f"JS-{uuid.uuid4().hex[:6]}", "summary": "某企业非法倾倒危险废物。", "reason": "请求提前介入。",
        "urgency": "urgent"})
    assert asked.status_code == 201, asked.text
    iid = asked.json()["id"]
    url = f"/api/v1/staff/partner-involvements/{iid}"
    await drain(worker)
    assert await _told(conn, "involvementId", iid) == {"involvement.requested": deciders}
    accepted = await client.post(f"{url}/answer", headers=chief,
                                 json={"decision": "accept", "prosecutorId": str(goer["id"])})
    assert accepted.status_code == 200, accepted.text
    said = await client.post(f"/api/v1/partner/involvements/{iid}/messages", headers={**police, **key()},
                             json={"text": "已委托鉴定。"})
    assert said.status_code == 201, said.text
    opinion = await client.post(f"{url}/opinions", headers={**goer_headers, **key()}, json={"text": "建议及时取样。"})
    assert opinion.status_code == 201, opinion.text
    await drain(worker)
    told = await _told(conn, "involvementId", iid)
    assert told == {"involvement.requested": deciders, "involvement.accept": {goer["id"]},
                    "involvement.message": {goer["id"]}}
    assert await _fed(conn, police_id, "involvementId", iid) == ["involvement.accept", "involvement.opinion"]

    # Documents: the office's reaches the police; their receipt, the staff member who sent it; theirs, the staff
    # who handle documents.
    sent = await client.post("/api/v1/staff/partner-documents", headers={**goer_headers, **key()}, json={
        "clientId": police_id, "kind": "supplementary_investigation", "subject": "补充侦查提纲",
        "body": "请补充。"})
    assert sent.status_code == 201, sent.text
    did = sent.json()["id"]
    assert (await client.post(f"/api/v1/partner/documents/{did}/receipt", headers=police)).status_code == 200
    await conn.execute("insert into partner_message_kinds (code, label_zh, direction, needs_answer, agency_kinds) "
                       "values ('detention_notice', '羁押必要性审查告知', 'to_office', false, '{police}') "
                       "on conflict do nothing")
    theirs = await client.post("/api/v1/partner/documents", headers={**police, **key()},
                               json={"kind": "detention_notice", "subject": "告知", "body": "已变更强制措施。"})
    assert theirs.status_code == 201, theirs.text
    await drain(worker)
    assert await _told(conn, "documentId", did) == {"document.sign": {goer["id"]}}
    assert await _fed(conn, police_id, "documentId", did) == ["document.sent"]
    assert await _told(conn, "documentId", theirs.json()["id"]) == {"document.sent": handlers}
    assert await _fed(conn, police_id, "documentId", theirs.json()["id"]) == []

    # A consultation the agency proposes reaches those who schedule them; the office's confirmation, the agency.
    proposed = await client.post("/api/v1/partner/consultations", headers={**agency, **key()}, json={
        "topic": "整改磋商", "agenda": "整改方案", "slots": ["2026-12-03T09:30:00+08:00"]})
    assert proposed.status_code == 201, proposed.text
    cid = proposed.json()["id"]
    confirmed = await client.post(f"/api/v1/staff/partner-consultations/{cid}/confirmation", headers=goer_headers,
                                  json={"slot": "2026-12-03T09:30:00+08:00"})
    assert confirmed.status_code == 200, confirmed.text
    await drain(worker)
    assert await _told(conn, "consultationId", cid) == {"consultation.proposed": handlers}
    assert await _fed(conn, ecoenv, "consultationId", cid) == ["consultation.confirm_office"]

    # A call the hotline transfers reaches the office's intake, who accept it.
    hotline = bearer(await partner_token(client, "jinshan-hotline"))
    ticket = await client.post("/api/v1/partner/hotline/tickets", headers={**hotline, **key()}, json={
        "ticketNo": f"12345-{uuid.uuid4().hex[:10]}", "category": "accusation", "title": "热线来电：违规收费",
        "body": "市民来电反映被收取不合理费用。", "caller": {"name": "王小明", "phone": "13812345678"}})
    assert ticket.status_code == 201, ticket.text
    await drain(worker)
    transfer = await conn.fetchval("select id::text from partner_transfers where reference = $1",
                                   ticket.json()["reference"])
    intake = await _serving(conn, "jinshan", ("complaints_office", "dept_head", "chief"))
    assert await _told(conn, "transferId", transfer) == {"transfer.created": intake}

    everyone = [iid, did, theirs.json()["id"], cid, transfer]
    for n in nobody:
        assert not await conn.fetchval(
            "select count(*) from inbox where user_id = $1 and coalesce(payload->>'involvementId',"
            " payload->>'documentId', payload->>'consultationId', payload->>'transferId') = any($2)", n, everyone)
