"""The register over HTTP: entries with encrypted, masked contact details, contact history, the quarterly cadence
policy saying who is behind, and representatives' sign-ins created from the register."""

from __future__ import annotations

from datetime import date, timedelta

from tests.helpers import bearer, key, token_for
from tests.integration.liaison.helpers import REP, STAFF, add_rep, own_entry, rep_headers


async def test_contact_details_are_encrypted_and_masked_unless_allowed(client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    entry = await add_rep(client, office, kind="member", level="municipal", delegation="市政协法制界")
    assert entry["phone"] == "13912345678" and not entry["masked"]
    stored = await conn.fetchrow("select phone_enc, address_enc from liaison_representatives where id = $1",
                                 entry["id"])
    assert "13912345678" not in stored["phone_enc"] and "卫零路" not in stored["address_enc"]
    seen = (await client.get(f"{STAFF}/representatives/{entry['id']}",
                             headers=await staff("jinshan", "prosecutor"))).json()
    assert seen["masked"] and seen["phone"] == "139****5678" and "100号" not in seen["address"]
    # Another office: not found. A bad phone: 400 naming it. A handler from another office: 422.
    other = await client.get(f"{STAFF}/representatives/{entry['id']}", headers=await staff("chongming", "chief"))
    assert other.status_code == 404
    bad = await client.post(f"{STAFF}/representatives", headers={**office, **key()},
                            json={"kind": "deputy", "level": "district", "name": "某", "phone": "12"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "phone"
    foreign = await conn.fetchval("select id from users where username = 'chongming.prosecutor'")
    wrong = await client.post(f"{STAFF}/representatives", headers={**office, **key()},
                              json={"kind": "deputy", "level": "district", "name": "某", "handlerId": str(foreign)})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "handlerId"
    # Changing the entry: the handler named, the phone cleared.
    handler = await conn.fetchval("select id from users where username = 'jinshan.dept_head'")
    changed = await client.patch(f"{STAFF}/representatives/{entry['id']}", headers=office,
                                 json={"handlerId": str(handler), "phone": None})
    assert changed.status_code == 200 and changed.json()["handlerId"] == str(handler)
    assert changed.json()["phone"] is None
    listed = await client.get(f"{STAFF}/representatives", headers=office,
                              params={"kind": "member", "handler": str(handler)})
    assert [r["id"] for r in listed.json()["items"]] == [entry["id"]]
    assert (await client.get(f"{STAFF}/representatives", headers=office, params={"kind": "x"})).status_code == 400


async def test_the_cadence_policy_says_who_is_behind_this_quarter(client, staff, make_user, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    leader = await make_user(roles=("dept_head",))
    headers = bearer(await token_for(client, leader["username"], leader["password"]))
    first = (await client.get(f"{STAFF}/cadence", headers=office)).json()
    row = next(r for r in first["rows"] if r["staffId"] == str(leader["id"]))
    assert (row["deputies"], row["members"], row["behind"]) == (0, 0, True)
    assert first["requiredDeputies"] == 5 and set(first["roles"]) == {"chief", "dept_head"}
    # Flow monitoring's sweep warns whoever is behind once the quarter's end is near (here: the whole quarter).
    admin = await staff("jinshan", "admin")
    policy = {"cadence": {"roles": ["chief", "dept_head"], "deputies": 5, "members": 5, "warn_days": 92}}
    assert (await client.put("/api/v1/admin/modules/liaison", headers=admin,
                             json={"enabled": True, "config": policy})).status_code == 200
    try:
        swept = await client.post("/api/v1/monitoring/sweep", headers=await staff("jinshan", "case_mgmt"))
        assert swept.status_code == 200 and swept.json()["warnings"] >= 1, swept.text
        again = await client.post("/api/v1/monitoring/sweep", headers=await staff("jinshan", "case_mgmt"))
        assert again.json()["warnings"] == 0  # once per person and quarter
    finally:
        await client.put("/api/v1/admin/modules/liaison", headers=admin,
                         json={"enabled": True, "config": {"cadence": {"roles": ["chief", "dept_head"]}}})
    warned = (await client.get(f"{STAFF}/cadence", headers=office)).json()
    assert next(r for r in warned["rows"] if r["staffId"] == str(leader["id"]))["warnedAt"]
    told = await conn.fetchval("select count(*) from outbox where topic = 'liaison.warning' "
                               "and payload->>'userId' = $1", str(leader["id"]))
    assert told == 1
    today = date.fromisoformat(first["quarterStart"])
    for i in range(5):
        for kind in ("deputy", "member"):
            entry = await add_rep(client, office, kind=kind)
            resp = await client.post(f"{STAFF}/representatives/{entry['id']}/contacts", headers={**headers, **key()},
                                     json={"kind": "visit", "contactedOn": max(today, date.today() - timedelta(i))
                                           .isoformat(), "summary": "走访听取意见"})
            assert resp.status_code == 201, resp.text
            if i == 4 and kind == "member":
                history = await client.get(f"{STAFF}/contacts", headers=office,
                                           params={"representative": entry["id"]})
                assert [c["staffId"] for c in history.json()["items"]] == [str(leader["id"])]
        if i == 3:
            # Four of each: still behind.
            mid = (await client.get(f"{STAFF}/cadence", headers=office)).json()
            assert next(r for r in mid["rows"] if r["staffId"] == str(leader["id"]))["behind"]
    done = (await client.get(f"{STAFF}/cadence", headers=office)).json()
    row = next(r for r in done["rows"] if r["staffId"] == str(leader["id"]))
    assert (row["deputies"], row["members"], row["behind"]) == (5, 5, False)
    future = await client.post(f"{STAFF}/representatives/{entry['id']}/contacts", headers={**headers, **key()},
                               json={"kind": "call", "contactedOn": "2099-01-01", "summary": "x"})
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "contactedOn"


async def test_an_admin_creates_a_representative_s_sign_in_from_the_register(client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    admin = await staff("jinshan", "admin")
    entry = await add_rep(client, office, kind="member", phone=None)
    url = f"{STAFF}/representatives/{entry['id']}/account"
    # Liaison staff may not create accounts; the admin may (the password is shown once: no phone on the entry).
    assert (await client.post(url, headers={**office, **key()}, json={"username": "rep-x"})).status_code == 403
    username = f"member-{entry['id'][:8]}"
    k = key()
    created = await client.post(url, headers={**admin, **k}, json={"username": username})
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["account"]["kind"] == "member" and account["delivery"] == "shown_once"
    assert account["oneTimePassword"]
    replay = await client.post(url, headers={**admin, **k}, json={"username": username})
    assert replay.status_code == 201 and "oneTimePassword" not in replay.json()
    assert (await client.post(url, headers={**admin, **key()}, json={"username": username + "2"})).status_code == 409
    # The new member signs in to the representative app and finds their own entry.
    signed = await client.post("/api/v1/auth/token", data={
        "grant_type": "password", "username": username, "password": account["oneTimePassword"],
        "client_id": "representative-app"})
    assert signed.status_code == 200, signed.text
    assert await conn.fetchval("select user_id from liaison_representatives where id = $1",
                               entry["id"]) == await conn.fetchval("select id from users where username = $1", username)
    # The demo deputy's own entry, unmasked for them.
    me = await own_entry(client, await rep_headers(client, "jinshan.deputy"))
    assert me["kind"] == "deputy" and not me["masked"]
    assert (await client.get(f"{REP}/me", headers=await staff("jinshan", "chief"))).status_code == 403
