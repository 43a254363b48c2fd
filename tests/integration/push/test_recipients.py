"""Topics that reached nobody before: the flow-monitoring ladder (handler, department head, whoever raised the
notice, a bulletin's handlers), an account's own creation and move, and liaison's policy warnings; only the right
accounts, never across offices, with the owner's muted kinds respected."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from modules.clocks.store import today
from modules.liaison.queries import open_days_owed
from tests.helpers import bearer, key, token_for
from tests.integration.clocks.helpers import backdate, file_item
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
