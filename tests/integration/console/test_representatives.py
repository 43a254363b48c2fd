"""Representatives in the console: the liaison register with contact details masked exactly as the liaison API masks
them, the handler and the contact cadence, and a representative's sign-in created from the entry through the same
service and permission action as the API; refused without the actions, another office's entry answering 404."""

from __future__ import annotations

import re

from tests.helpers import bearer, token_for
from tests.integration.console.conftest import csrf_of, signed_in
from tests.integration.liaison.helpers import STAFF, add_rep


def row_of(page: str, rep_id: str) -> str:
    """The table row of one register entry."""
    return page.split(f'data-representative="{rep_id}"', 1)[1].split("</tr>", 1)[0]


async def test_the_register_is_masked_as_the_api_masks_it_and_an_account_is_created(
        browser, new_staff, client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    handler = await conn.fetchrow("select id, display_name from users where username = 'jinshan.chief'")
    rep = await add_rep(client, office, handlerId=str(handler["id"]), delegation="金山区代表团")
    username = await new_staff(roles=("admin", "prosecutor"))  # reads the register, may not see contact details
    c = await browser()
    await signed_in(c, username)
    page = await c.get("/console/representatives")
    assert page.status_code == 200
    row = row_of(page.text, rep["id"])
    api = (await client.get(f"{STAFF}/representatives/{rep['id']}",
                            headers=bearer(await token_for(client, username)))).json()
    assert api["masked"] and api["phone"] == "139****5678"
    assert f'<span class="phone">{api["phone"]}</span>' in row and api["address"] in row
    assert "13912345678" not in page.text and "卫零路100号" not in page.text
    assert handler["display_name"] in row and "金山区代表团" in row and "人大代表" in row
    assert 'id="cadence"' in page.text and "本季度联络进度" in page.text
    # The account from the register entry: name, kind and phone are the register's.
    csrf = csrf_of(row)
    bad = await c.post(f"/console/representatives/{rep['id']}/account", data={"_csrf": csrf, "username": "X y"})
    assert bad.status_code == 400 and "用户名须为" in row_of(bad.text, rep["id"])
    new_name = f"jinshan.rep{rep['id'][:8]}"
    done = await c.post(f"/console/representatives/{rep['id']}/account", data={"_csrf": csrf, "username": new_name})
    assert done.status_code == 200 and new_name in done.text and "短信" in done.text
    account = await conn.fetchrow("select u.kind, u.display_name from liaison_representatives r"
                                  " join users u on u.id = r.user_id where r.id = $1", rep["id"])
    assert (account["kind"], account["display_name"]) == ("deputy", rep["name"])
    again = await c.post(f"/console/representatives/{rep['id']}/account",
                         data={"_csrf": csrf, "username": "jinshan.x2"})
    assert again.status_code == 409 and "该代表委员已有账户" in row_of(again.text, rep["id"])
    assert "已开通" in row_of((await c.get("/console/representatives")).text, rep["id"])
    assert not await conn.fetchval("select exists (select 1 from users where username = 'jinshan.x2')")
    assert (await c.post(f"/console/representatives/{rep['id']}/account",
                         data={"username": "jinshan.x3"})).status_code == 403  # no CSRF token


async def test_contact_details_unmasked_for_the_liaison_office_which_may_not_create_accounts(
        browser, new_staff, client, staff) -> None:  # noqa: ANN001
    rep = await add_rep(client, await staff("jinshan", "liaison_office"), phone=None)
    c = await browser()
    csrf = await signed_in(c, await new_staff(roles=("liaison_office",)))
    page = await c.get("/console/representatives")
    row = row_of(page.text, rep["id"])
    assert "卫零路100号" in row and 'class="contact masked"' not in row
    assert "开通账户" not in row
    refused = await c.post(f"/console/representatives/{rep['id']}/account",
                           data={"_csrf": csrf, "username": f"jinshan.r{rep['id'][:8]}"})
    assert refused.status_code == 403


async def test_without_liaison_read_the_register_is_refused(browser, new_staff) -> None:  # noqa: ANN001
    # Case management staff may use the console but not read the liaison register.
    c = await browser()
    await signed_in(c, await new_staff(roles=("case_mgmt",)))
    home = await c.get("/console")
    assert "/console/representatives" not in home.text
    assert (await c.get("/console/representatives")).status_code == 403


async def test_another_offices_entry_answers_404(browser, new_staff, client, staff, conn) -> None:  # noqa: ANN001
    other = await add_rep(client, await staff("chongming", "liaison_office"), phone=None)
    c = await browser()
    csrf = await signed_in(c, await new_staff(roles=("admin", "prosecutor")))
    assert other["id"] not in (await c.get("/console/representatives")).text
    resp = await c.post(f"/console/representatives/{other['id']}/account",
                        data={"_csrf": csrf, "username": f"jinshan.o{other['id'][:8]}"})
    assert resp.status_code == 404
    assert await conn.fetchval("select user_id from liaison_representatives where id = $1", other["id"]) is None
    assert re.search(r'id="problem"', resp.text)


async def test_the_register_stands_behind_the_liaison_modules_switch(browser, new_staff, make_office) -> None:  # noqa: ANN001
    office = await make_office()  # a new office: no module is on yet
    c = await browser()
    await signed_in(c, await new_staff(office=office, roles=("admin", "prosecutor")))
    page = await c.get("/console/representatives")
    assert page.status_code == 403 and 'data-code="module_disabled"' in page.text and "尚未启用此模块" in page.text
