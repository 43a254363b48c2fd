"""The console's pages do what the API does: module switches and configuration, permission lists, calendars,
the audit trail, monitoring and the overview's figures; every page and asset is our own (no outside URL)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import pytest

from tests.helpers import bearer, token_for
from tests.integration.console.conftest import signed_in

_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
# What the vendored libraries may contain: XML namespace names (never fetched) and their licence headers.
_VENDORED_OK = re.compile(r"^http://www\.w3\.org/|^http://www\.apache\.org/licenses/|"
                          r"^https://github\.com/ecomfe/zrender/blob/master/LICENSE")
PAGES = ("/console", "/console/modules", "/console/modules/complaints", "/console/people", "/console/people/new",
         "/console/permissions", "/console/calendars", "/console/clients", "/console/clients/new", "/console/catalog",
         "/console/monitoring", "/console/audit", "/console/totp", "/console/password", "/console/representatives",
         "/console/dead-letters")


async def test_no_page_or_asset_names_an_outside_url(browser, new_staff) -> None:  # noqa: ANN001
    c = await browser()
    login = await c.get("/console/login")
    assert not _URL.search(login.text)
    await signed_in(c, await new_staff(roles=("admin", "case_mgmt", "prosecutor")))
    assets: set[str] = set()
    for path in PAGES:
        page = await c.get(path)
        assert page.status_code == 200, path
        assert not _URL.search(page.text), f"{path} names an outside URL"
        assets |= set(re.findall(r"""(?:src|href)="(/console/assets/[^"]+)\"""", page.text))
    assert {"/console/assets/htmx.min.js", "/console/assets/echarts.min.js", "/console/assets/console.js",
            "/console/assets/console.css"} <= assets
    for asset in assets:
        got = await c.get(asset)
        assert got.status_code == 200, asset
        for url in re.findall(r"""https?://[^\s"'`)\\]+""", got.text):
            assert _VENDORED_OK.match(url), f"{asset} names {url}"


async def test_switching_a_module_off_makes_the_api_answer_module_disabled(browser, new_staff, client) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    staff = bearer(await token_for(client, "jinshan.prosecutor"))
    try:
        off = await c.post("/console/modules/complaints/switch", data={"_csrf": csrf})
        assert off.status_code == 303
        api = await client.get("/api/v1/staff/complaints", headers=staff)
        assert api.status_code == 403 and api.json()["code"] == "module_disabled"
        listing = await c.get("/console/modules")
        assert "已停用" in listing.text.split('id="module-complaints"', 1)[1].split("</tr>", 1)[0]
    finally:
        on = await c.post("/console/modules/complaints/switch", data={"_csrf": csrf, "enabled": "on"})
        assert on.status_code == 303
    assert (await client.get("/api/v1/staff/complaints", headers=staff)).status_code == 200


async def test_a_form_without_its_csrf_token_changes_nothing(browser, new_staff, client) -> None:  # noqa: ANN001
    c = await browser()
    await signed_in(c, await new_staff())
    resp = await c.post("/console/modules/complaints/switch", data={})
    assert resp.status_code == 403 and "CSRF" in resp.text
    wrong = await c.post("/console/modules/complaints/switch", data={"_csrf": "x" * 43})
    assert wrong.status_code == 403
    staff = bearer(await token_for(client, "jinshan.prosecutor"))
    assert (await client.get("/api/v1/staff/complaints", headers=staff)).status_code == 200


async def test_the_configuration_form_shows_the_schemas_refusal_beside_the_field(browser, new_staff) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    form = await c.get("/console/modules/complaints")
    assert 'name="assignment.eligibleRoles"' in form.text and 'name="clocks"' in form.text
    bad_json = await c.post("/console/modules/complaints", data={"_csrf": csrf, "enabled": "on", "clocks": "{oops"})
    assert bad_json.status_code == 422
    assert "JSON" in bad_json.text.split('id="field-clocks"', 1)[1].split("</div>", 1)[0]
    no_clock = await c.post("/console/modules/complaints",
                            data={"_csrf": csrf, "enabled": "on", "clocks": '{"no_such_clock": {}}'})
    assert no_clock.status_code == 422
    assert "no such clock" in no_clock.text.split('id="field-clocks"', 1)[1].split("</div>", 1)[0]
    assert "{oops" not in no_clock.text and "no_such_clock" in no_clock.text  # what was typed stays in the box
    ok = await c.post("/console/modules/complaints", data={
        "_csrf": csrf, "enabled": "on", "assignment.eligibleRoles": ["prosecutor", "assistant"]})
    assert ok.status_code == 303
    again = await c.get("/console/modules/complaints")
    assert re.search(r'value="assistant" checked', again.text)
    reset = await c.post("/console/modules/complaints", data={"_csrf": csrf, "enabled": "on"})
    assert reset.status_code == 303


async def test_editing_the_permission_list_needs_a_reason_and_is_audited(browser, new_staff, conn) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff("chongming"))
    page = await c.get("/console/permissions?role=assistant")
    assert page.status_code == 200 and 'data-action="complaint.read"' in page.text
    checked = re.findall(r'name="actions" value="([^"]+)" aria-label="[^"]+" checked', page.text)
    assert "complaint.note" in checked
    keep = [a for a in checked if a != "complaint.note"]
    no_reason = await c.post("/console/permissions", data={"_csrf": csrf, "role": "assistant", "actions": keep})
    assert no_reason.status_code == 400 and "理由" in no_reason.text
    saved = await c.post("/console/permissions", data={"_csrf": csrf, "role": "assistant", "actions": keep,
                                                       "reason": "助理不再写备注"})
    assert saved.status_code == 303
    page = await c.get("/console/permissions?role=assistant")
    row = page.text.split('data-action="complaint.note"', 1)[1].split(">", 1)[0]
    assert 'class="differs"' in row  # narrower than the province's list: highlighted
    detail = await conn.fetchval("select detail from audit_log where action = 'admin.permissions.replaced'"
                                 " order by id desc limit 1")
    assert detail["reason"] == "助理不再写备注" and "complaint.note" not in detail["grants"]["assistant"]
    office = await conn.fetchval("select id from offices where code = 'chongming'")
    await conn.execute("delete from permission_grants where office_id = $1", office)


async def test_importing_a_calendar_year(browser, new_staff) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    before = await c.get("/console/calendars")
    years = re.findall(r'data-year="(\d+)" class="differs"', before.text)
    assert years, "some year ahead is estimated"
    year = years[-1]
    body = f"date,kind,name\n{year}-01-01,holiday,元旦\n{year}-10-01,holiday,国庆节\n"
    bad = await c.post("/console/calendars", data={"_csrf": csrf, "level": "office"},
                       files={"file": ("y.csv", b"date,kind\nnot-a-date,holiday\n", "text/csv")})
    assert bad.status_code == 400 and "文件无法读取" in bad.text
    done = await c.post("/console/calendars", data={"_csrf": csrf, "level": "office", "notice": "测试通知"},
                        files={"file": (f"{year}.csv", body.encode(), "text/csv")})
    assert done.status_code == 303, done.text
    after = await c.get("/console/calendars")
    row = after.text.split(f'data-year="{year}"', 1)[1].split("</tr>", 1)[0]
    assert "测试通知" in row


async def test_audit_search_by_action_and_object(browser, new_staff) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    await c.post("/console/modules/complaints/switch", data={"_csrf": csrf, "enabled": "on"})
    found = await c.get("/console/audit", params={"action": "admin.module.switched", "object_id": "complaints"})
    assert found.status_code == 200 and "admin.module.switched" in found.text
    none = await c.get("/console/audit", params={"action": "admin.module.switched", "object_id": "nothing"})
    assert "没有符合条件的记录" in none.text


@pytest.mark.parametrize("path", ["/console/monitoring", "/console/people", "/console/clients"])
async def test_lists_show_the_offices_rows(browser, new_staff, path) -> None:  # noqa: ANN001
    c = await browser()
    await signed_in(c, await new_staff(roles=("admin", "case_mgmt")))
    page = await c.get(path)
    assert page.status_code == 200
    if path == "/console/people":
        names = [n for n in re.findall(r'data-username="([^"]*)"', page.text) if n]
        # The office's accounts only (other offices' demo accounts are named after their office).
        assert names and not any(n.startswith(("chongming.", "shanghai.")) for n in names)
    if path == "/console/clients":
        assert 'data-client="jinshan-police"' in page.text and "chongming-police" not in page.text


async def test_the_overviews_figures_are_the_offices_clocks(browser, new_staff, conn) -> None:  # noqa: ANN001
    c = await browser()
    await signed_in(c, await new_staff(roles=("admin", "case_mgmt")))
    got = await c.get("/console/data/figures", headers={"Accept": "application/json"})
    assert got.status_code == 200
    data = got.json()
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    total = await conn.fetchval("select count(*) from clocks where office_id = $1"
                                " and status in ('running','paused','overdue','met_on_time','met_late')", office)
    assert sum(sum(v) for v in data["byState"].values()) == total
    assert data["overdue"] == sum(data["byState"]["overdue"])
    recent = await conn.fetchval("select count(*) from clocks where office_id = $1"
                                 " and started_at > now() - interval '300 days'", office)
    trend = sum(sum(v) for v in data["startedByMonth"].values())
    assert trend >= recent and len(data["months"]) <= 12
    month = (await c.get("/console/data/figures?period=month", headers={"Accept": "application/json"})).json()
    assert month["period"]["name"] == "month" and month["period"]["since"] >= data["period"]["since"]
    assert (await c.get("/console/data/figures?period=decade")).status_code == 400


async def test_creating_an_account_shows_its_one_time_password_once(browser, new_staff, client) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    bad = await c.post("/console/people/new", data={"_csrf": csrf, "username": "Not A Name", "display_name": "x"})
    assert bad.status_code == 400
    username = f"jinshan.new{re.sub(r'[^0-9]', '', str(id(c)))[-6:]}"
    made = await c.post("/console/people/new", data={"_csrf": csrf, "username": username, "display_name": "新同事",
                                                     "kind": "staff", "roles": ["prosecutor"]})
    assert made.status_code == 200, made.text
    password = made.text.split('id="one-time-password">', 1)[1].split("<", 1)[0]
    token = await client.post("/api/v1/auth/token", data={"grant_type": "password", "client_id": "staff-app",
                                                           "username": username, "password": password})
    assert token.status_code == 200
    again = await c.post("/console/people/new", data={"_csrf": csrf, "username": username, "display_name": "重名"})
    assert again.status_code == 409


async def test_registering_and_suspending_a_partner_client(browser, new_staff, client) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    form = await c.get("/console/clients/new")
    assert 'value="jinshan-"' in form.text
    wrong = await c.post("/console/clients/new", data={"_csrf": csrf, "client_id": "chongming-x", "name": "某局",
                                                       "agency_kind": "police", "rate": "60"})
    assert wrong.status_code == 400 and "jinshan-" in wrong.text
    client_id = f"jinshan-t{re.sub(r'[^0-9]', '', str(id(c)))[-6:]}"
    made = await c.post("/console/clients/new", data={"_csrf": csrf, "client_id": client_id, "name": "测试局",
                                                      "agency_kind": "government", "rate": "60"})
    assert made.status_code == 200, made.text
    secret = made.text.split('id="client-secret">', 1)[1].split("<", 1)[0]
    token = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                           "client_secret": secret})
    assert token.status_code == 200
    listing = await c.get("/console/clients")
    row = listing.text.split(f'data-client="{client_id}"', 1)[1].split("</tr>", 1)[0]
    rotate = row.split('/secret"', 1)[0].rsplit('action="', 1)[1] + "/secret"
    rotated = await c.post(rotate, data={"_csrf": csrf})
    assert rotated.status_code == 200
    old, secret = secret, rotated.text.split('id="client-secret">', 1)[1].split("<", 1)[0]
    stale = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                           "client_secret": old})
    fresh = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                           "client_secret": secret})
    assert stale.status_code == 401 and fresh.status_code == 200
    suspend = row.split('action="', 1)[1].split('"', 1)[0]
    assert suspend.endswith("/suspend")
    assert (await c.post(suspend, data={"_csrf": csrf})).status_code == 303
    refused = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                             "client_id": client_id, "client_secret": secret})
    assert refused.status_code == 401


async def test_reply_templates_are_edited_in_place(browser, new_staff, client) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    page = await c.get("/console/catalog")
    assert page.status_code == 200 and 'id="categories"' in page.text
    bad = await c.post("/console/catalog/templates", data={"_csrf": csrf, "code": "Bad Code", "state": "closed",
                                                           "title": "t", "body": "b"})
    assert bad.status_code == 400 and "Bad Code" in bad.text
    ok = await c.post("/console/catalog/templates", data={"_csrf": csrf, "code": "console_test", "state": "closed",
                                                          "title": "办结答复", "body": "您的 {receipt_no} 已办结。"})
    assert ok.status_code == 303
    api = await client.get("/api/v1/admin/complaints/templates",
                           headers=bearer(await token_for(client, "jinshan.admin")))
    assert {"code": "console_test", "state": "closed", "title": "办结答复", "body": "您的 {receipt_no} 已办结。"} \
        in api.json()


async def test_the_audit_page_shows_the_last_verification(browser, new_staff, settings) -> None:  # noqa: ANN001
    c = await browser()
    await signed_in(c, await new_staff())
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "JIANWU_REDIS_PREFIX": settings.redis_prefix, "JIANWU_SECRET_KEY": settings.secret_key,
           "JIANWU_DATA_DIR": str(settings.data_dir), "JIANWU_ENV": "test"}
    jianwu = os.path.join(os.path.dirname(sys.executable), "jianwu")
    done = await asyncio.to_thread(subprocess.run, [jianwu, "audit", "verify"], env=env, capture_output=True,
                                   text=True, timeout=120)
    checked = re.search(r"(\d+) audit records checked, (\d+) breaks", done.stdout)
    assert checked, done.stdout + done.stderr
    page = await c.get("/console/audit")
    shown = page.text.split('id="verification">', 1)[1].split("</p>", 1)[0]
    assert f"核验 {checked.group(1)} 条记录" in shown


async def test_a_role_that_sees_identities_waits_for_a_second_admin(browser, new_staff, conn) -> None:  # noqa: ANN001
    first, second = await browser(), await browser()
    csrf1 = await signed_in(first, await new_staff())
    csrf2 = await signed_in(second, await new_staff())
    target = await new_staff(roles=("prosecutor",))
    people = await first.get("/console/people")
    row = people.text.split(f'data-username="{target}"', 1)[1]
    roles_action = row.split('/roles"', 1)[0].rsplit('action="', 1)[1] + "/roles"
    asked = await first.post(roles_action, data={"_csrf": csrf1, "roles": ["prosecutor", "chief"]})
    assert asked.status_code == 303 and "requested" in asked.headers["location"]
    assert await conn.fetchval("select roles from users where username = $1", target) == ["prosecutor"]
    page = await first.get("/console/people")
    waiting = page.text.split('id="role-requests"', 1)[1].split(f'data-username="{target}"', 1)[0]
    request_id = waiting.rsplit('data-request="', 1)[1].split('"', 1)[0]
    own = await first.post(f"/console/role-requests/{request_id}/approval", data={"_csrf": csrf1})
    assert own.status_code == 403  # not the admin who asked
    approved = await second.post(f"/console/role-requests/{request_id}/approval", data={"_csrf": csrf2})
    assert approved.status_code == 303
    assert sorted(await conn.fetchval("select roles from users where username = $1", target)) == ["chief",
                                                                                                  "prosecutor"]


async def test_the_municipal_office_sees_the_offices_below(browser, new_staff, conn) -> None:  # noqa: ANN001
    c = await browser()
    await signed_in(c, await new_staff("shanghai", roles=("admin", "case_mgmt")))
    home = await c.get("/console")
    assert 'id="chart-offices"' in home.text
    data = (await c.get("/console/data/figures", headers={"Accept": "application/json"})).json()["below"]
    names = await conn.fetch("select name, id from offices where parent_id = (select id from offices"
                             " where code = 'shanghai') and retired_at is null order by code")
    assert data["offices"] == [r["name"] for r in names]
    jinshan = data["offices"].index(next(r["name"] for r in names if r["name"] and "金山" in r["name"]))
    overdue = await conn.fetchval("select count(*) from clocks k join offices o on o.id = k.office_id"
                                  " where o.code = 'jinshan' and k.status = 'overdue'")
    assert data["byState"]["overdue"][jinshan] == overdue
    district = await browser()
    await signed_in(district, await new_staff("jinshan", roles=("admin", "case_mgmt")))
    assert 'id="chart-offices"' not in (await district.get("/console")).text
