"""The console in a real browser: sign in with TOTP, switch a module off and see the API refuse, edit a permission
list, import a calendar year, read the overview's chart, a form without its CSRF token refused, every page at two
widths with nothing loaded from outside."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pyotp
import pytest

from tests.browser.conftest import run_sql, shoot

pytestmark = pytest.mark.slow
PASSWORD = "jianwu-demo"


async def sign_in(page: Any, username: str, totp: str | None = None) -> None:
    """Sign in through the form (the second factor when asked for)."""
    await page.goto("/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    if totp is not None:
        await page.wait_for_selector("input[name=totp]")
        await page.fill("input[name=password]", PASSWORD)
        await page.fill("input[name=totp]", totp)
        await page.click("button[type=submit]")
    await page.wait_for_url("**/console")


async def test_sign_in_enrol_totp_and_sign_in_with_it(page: Any, admin: str) -> None:
    await sign_in(page, admin)
    await page.goto("/console/totp")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form[action='/console/totp'] button[type=submit]")
    secret = await page.locator("#totp-secret").inner_text()
    await shoot(page, "totp")
    await page.fill("input[name=code]", pyotp.TOTP(secret).now())
    await page.click("form[action='/console/totp/confirm'] button[type=submit]")
    await page.wait_for_selector("#recovery-codes")
    recovery = await page.locator("#recovery-codes code").first.inner_text()
    # Enrolment revokes every token issued up to its (whole) second, as the API does: sign in again after it.
    await page.wait_for_timeout(1100)
    await page.goto("/console")
    await page.wait_for_url("**/console/login**")
    await sign_in(page, admin, totp=recovery)
    assert await page.locator("h1").inner_text() == "概览"


async def test_switching_a_module_off_makes_the_api_answer_module_disabled(page: Any, admin: str, server: str) -> None:
    api = httpx.AsyncClient(base_url=server)
    token = (await api.post("/api/v1/auth/token", data={
        "grant_type": "password", "client_id": "staff-app", "username": "jinshan.prosecutor",
        "password": PASSWORD})).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    await sign_in(page, admin)
    await page.click("nav a[href='/console/modules']")
    row = page.locator("#module-complaints")
    try:
        await row.locator("button").click()
        await page.wait_for_selector("#module-complaints .off")
        await shoot(page, "modules")
        answer = await api.get("/api/v1/staff/complaints", headers=headers)
        assert answer.status_code == 403 and answer.json()["code"] == "module_disabled"
    finally:
        await page.goto("/console/modules")
        if await page.locator("#module-complaints .off").count():
            await page.locator("#module-complaints button").click()
            await page.wait_for_selector("#module-complaints .on")
    assert (await api.get("/api/v1/staff/complaints", headers=headers)).status_code == 200
    await api.aclose()


async def test_a_form_without_its_csrf_token_is_refused(page: Any, admin: str) -> None:
    await sign_in(page, admin)
    await page.goto("/console/modules")
    # Strip the token from the form and from the header htmx would add, as a forged form would lack both.
    await page.evaluate("""() => {
        document.querySelectorAll("input[name=_csrf]").forEach(e => e.remove());
        document.body.removeAttribute("hx-headers");
    }""")
    await page.locator("#module-complaints button").click()
    await page.wait_for_selector("#problem")
    assert "CSRF" in await page.locator("#problem").inner_text()
    await page.goto("/console/modules")
    assert await page.locator("#module-complaints .on").count() == 1


async def test_edit_a_permission_list(page: Any, admin: str, settings: Any) -> None:
    await sign_in(page, admin)
    await page.goto("/console/permissions?role=assistant")
    box = page.locator("input[name=actions][value='complaint.note']")
    assert await box.is_checked()
    try:
        await box.uncheck()
        await page.fill("textarea[name=reason]", "浏览器测试：助理不再写备注")
        await page.click("#permissions-form button[type=submit]")
        await page.wait_for_selector(".notice")
        await shoot(page, "permissions")
        assert "differs" in (await page.locator("tr[data-action='complaint.note']").get_attribute("class") or "")
        assert not await page.locator("input[name=actions][value='complaint.note']").is_checked()
    finally:
        await run_sql(settings, "delete from permission_grants where office_id = (select id from offices"
                          " where code = 'jinshan')")


async def test_import_a_calendar_year(page: Any, admin: str, tmp_path: Any) -> None:
    await sign_in(page, admin)
    await page.goto("/console/calendars")
    await shoot(page, "calendars")
    year = await page.locator("tr.differs").last.get_attribute("data-year")
    assert year, "a year ahead is estimated"
    path = tmp_path / f"{year}.csv"
    path.write_text(f"date,kind,name\n{year}-01-01,holiday,元旦\n", encoding="utf-8")
    await page.set_input_files("input[name=file]", str(path))
    await page.fill("input[name=notice]", "浏览器测试通知")
    await page.click("form[enctype='multipart/form-data'] button[type=submit]")
    await page.wait_for_selector(".notice")
    assert "浏览器测试通知" in await page.locator(f"tr[data-year='{year}']").inner_text()


async def test_the_overview_chart_shows_the_figures(page: Any, admin: str) -> None:
    await sign_in(page, admin)
    await page.wait_for_function("() => document.getElementById('overdue-count').textContent !== '…'")
    figures = await (await page.request.get("/console/data/figures")).json()
    series = await page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('chart-states'))
        .getOption().series.map(s => ({id: s.id, data: s.data}))""")
    assert {s["id"]: s["data"] for s in series} == figures["byState"]
    axis = await page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-states'))"
                         ".getOption().xAxis[0].data")
    assert axis == figures["modules"]
    assert await page.locator("#overdue-count").inner_text() == str(figures["overdue"])
    assert await page.locator("#chart-states canvas").count() == 1


async def test_every_page_at_two_widths_loads_only_our_own_files(page: Any, admin: str, server: str,
                                                           outside: list[str]) -> None:
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    await sign_in(page, admin)
    await shoot(page, "overview")
    for path in ("/console/modules", "/console/modules/complaints", "/console/people", "/console/people/new",
                 "/console/permissions", "/console/calendars", "/console/clients", "/console/clients/new",
                 "/console/catalog", "/console/monitoring", "/console/audit", "/console/password", "/console/totp",
                 "/console/representatives", "/console/dead-letters"):
        await page.goto(path)
        assert await page.locator("h1").count() == 1, path
        await shoot(page, re.sub(r"\W+", "-", path.strip("/")))
    await page.goto("/console/login")
    assert all(u.startswith((server, "data:")) for u in loaded), loaded
    assert not outside
