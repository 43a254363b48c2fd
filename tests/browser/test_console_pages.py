"""The console's newer pages in a real browser: representatives from the liaison register (masked contact details,
a sign-in created from the entry), a partner client's deliveries with a dead letter requeued, and the overview's
counts by category read back from the chart, a complaint category added and changed on the catalog page; each page at
two widths, nothing loaded from outside."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.browser.conftest import run_sql, shoot
from tests.browser.test_console import PASSWORD, sign_in
from tests.helpers import key

pytestmark = pytest.mark.slow


async def test_representatives_masked_and_a_sign_in_created_from_the_register(page: Any, admin: str,
                                                                            server: str, settings: Any) -> None:
    async with httpx.AsyncClient(base_url=server) as api:
        token = (await api.post("/api/v1/auth/token", data={
            "grant_type": "password", "client_id": "staff-app", "username": "jinshan.liaison_office",
            "password": PASSWORD})).json()["access_token"]
        name = f"浏览器代表{uuid.uuid4().hex[:4]}"
        rep = (await api.post("/api/v1/staff/liaison/representatives", headers={
            "Authorization": f"Bearer {token}", **key()}, json={
            "kind": "member", "level": "district", "name": name, "delegation": "经济界", "phone": "13812345678",
            "address": "上海市金山区石化街道卫零路200号"})).json()
    await sign_in(page, admin)
    await page.click("nav a[href='/console/representatives']")
    row = page.locator(f"tr[data-representative='{rep['id']}']")
    assert await row.locator(".phone").inner_text() == "138****5678"
    assert "卫零路200号" not in await row.inner_text()
    assert "政协委员" in await row.inner_text() and "经济界" in await row.inner_text()
    await shoot(page, "representatives")
    username = f"jinshan.m{rep['id'][:8]}"
    await row.locator("input[name=username]").fill(username)
    await row.locator("button[type=submit]").click()
    await page.wait_for_selector("#new-username")
    assert await page.locator("#new-username").inner_text() == username
    kind = await run_sql(settings, "select u.kind, u.display_name from users u join liaison_representatives r"
                                   " on r.user_id = u.id where r.id = $1", uuid.UUID(rep["id"]))
    assert (kind[0]["kind"], kind[0]["display_name"]) == ("member", name)
    await page.goto("/console/representatives")
    assert "已开通" in await page.locator(f"tr[data-representative='{rep['id']}'] .account").inner_text()


async def test_a_partner_clients_dead_letter_is_requeued(page: Any, admin: str, settings: Any) -> None:
    client_id = f"jinshan-b{uuid.uuid4().hex[:8]}"
    client = (await run_sql(settings,
                            "insert into partner_clients (office_id, client_id, name, agency_kind, secret_hash)"
                            " select id, $1, '浏览器测试公安分局', 'police', 'x' from offices where code = 'jinshan'"
                            " returning id, office_id", client_id))[0]
    event = (await run_sql(settings, "insert into partner_events (client_id, event_id, msg_id, kind, payload)"
                                     " values ($1, $2, $3, 'litigation.partner', '{}') returning id",
                           client["id"], uuid.uuid4().int % 1_000_000_000, f"msg_{uuid.uuid4().hex}"))[0]["id"]
    dead = (await run_sql(settings,
                          "insert into deliveries (queue, channel, office_id, client_id, partner_event_id, state,"
                          " attempts, last_status, last_error) values ($1, 'webhook', $2, $3, $4, 'dead', 8, 502,"
                          " '对方服务器错误') returning id",
                          f"webhook:{client['id']}", client["office_id"], client["id"], event))[0]["id"]
    await sign_in(page, admin)
    await page.goto("/console/clients")
    await page.click(f"tr[data-client='{client_id}'] a[href$='/deliveries']")
    await page.wait_for_selector("#dead-letters")
    row = page.locator(f"#dead-letters tr[data-delivery='{dead}']")
    assert "HTTP 502" in await row.inner_text() and "对方服务器错误" in await row.inner_text()
    assert await page.locator(f"#deliveries tr[data-delivery='{dead}'] .state").inner_text() == "死信"
    await shoot(page, "client-deliveries")
    await row.locator("button[type=submit]").click()
    await page.wait_for_selector(".notice")
    assert await page.locator(f"#dead-letters tr[data-delivery='{dead}']").count() == 0
    # Back in the queue: the server's delivery worker takes it at once (this client has no endpoint, so it is
    # dropped rather than sent), never dead again.
    assert await page.locator(f"#deliveries tr[data-delivery='{dead}'] .state").inner_text() in ("待发送", "已放弃")
    state = await run_sql(settings, "select state from deliveries where id = $1", dead)
    assert state[0]["state"] in ("pending", "dropped")
    audit = await run_sql(settings, "select count(*) as n from audit_log where action = 'push.delivery.requeued'"
                                    " and object_id = $1", str(dead))
    assert audit[0]["n"] == 1


async def test_the_overview_chart_counts_items_by_category(page: Any, admin: str, settings: Any) -> None:
    await sign_in(page, admin)
    await page.wait_for_function("""() => { const el = document.getElementById('chart-categories');
        const c = el && echarts.getInstanceByDom(el); return c && c.getOption().series.length > 0; }""")
    data = await (await page.request.get("/console/data/categories")).json()
    option = await page.evaluate("""() => { const o = echarts.getInstanceByDom(
        document.getElementById('chart-categories')).getOption();
        return {labels: o.yAxis[0].data, series: o.series.map(s => ({id: s.id, data: s.data}))}; }""")
    assert option["labels"] == data["labels"]
    assert {s["id"]: s["data"] for s in option["series"]} == data["series"]
    # The bars are the tables' own counts: complaints of each catalog category at jinshan.
    expected = await run_sql(settings, "select cat.name, count(*) as n from complaints c join complaint_categories"
                                       " cat on cat.id = c.category_id join offices o on o.id = c.office_id"
                                       " where o.code = 'jinshan' group by 1")
    assert expected, "the demo office has complaints"
    drawn = dict(zip(option["labels"], next(s["data"] for s in option["series"] if s["id"] == "控告申诉"),
                     strict=True))
    assert {r["name"]: r["n"] for r in expected} == {
        label.removeprefix("控告申诉 · "): n for label, n in drawn.items() if n is not None}
    await shoot(page, "overview-categories")


async def test_a_category_is_added_and_changed_on_the_catalog_page(page: Any, admin: str, settings: Any) -> None:
    await sign_in(page, admin)
    await page.goto("/console/catalog")
    code = f"b-{uuid.uuid4().hex[:8]}"
    new = page.locator("form[data-category='']")
    await new.locator("input[name=code]").fill(code)
    await new.locator("select[name=kind]").select_option("report")
    await new.locator("input[name=name]").fill("浏览器类别")
    await new.locator("input[name=sort]").fill("soon")
    await new.locator("input[name=active]").uncheck()  # inactive: the apps' catalog stays as other tests expect
    await new.locator("button[type=submit]").click()
    # Refused: the error stands beside the order field, what was typed is kept.
    await page.wait_for_selector("#category-new-sort .field-error")
    assert await page.locator("form[data-category='"
                              + code + "'] input[name=name]").input_value() == "浏览器类别"
    mine = page.locator(f"form[data-category='{code}']")
    await mine.locator("input[name=sort]").fill("99")
    await mine.locator("button[type=submit]").click()
    await page.wait_for_selector(".notice")
    row = page.locator("#categories tr", has_text=code)
    assert "浏览器类别" in await row.inner_text()
    # Changed: a new name, a formal handling opinion owed; the version goes up.
    await page.click(f"details[data-code='{code}'] summary")
    mine = page.locator(f"form[data-category='{code}']")
    await mine.locator("input[name=name]").fill("浏览器类别改")
    await mine.locator("select[name=handlingOpinion]").select_option("true")
    await mine.locator("button[type=submit]").click()
    await page.wait_for_selector(".notice")
    await shoot(page, "catalog-category")
    cells = await page.locator("#categories tr", has_text=code).locator("td").all_inner_texts()
    assert cells[1] == "浏览器类别改" and cells[-2:] == ["停用", "2"]
    found = await run_sql(settings, "select active, handling_opinion from complaint_categories where code = $1", code)
    assert (found[0]["active"], found[0]["handling_opinion"]) == (False, True)


async def test_the_new_pages_load_only_our_own_files(page: Any, admin: str, server: str,
                                                     outside: list[str]) -> None:
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    await sign_in(page, admin)
    await page.goto("/console/representatives")
    assert await page.locator("h1").inner_text() == "代表委员名册"
    await page.goto("/console/clients")
    await page.locator("a[href$='/deliveries']").first.click()
    await page.wait_for_selector("#deliveries")
    assert (await page.locator("h1").inner_text()).startswith("投递记录")
    await page.set_viewport_size({"width": 390, "height": 900})
    # At phone width the page fits: nothing wider than the screen but the tables' own scrolling.
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert all(u.startswith((server, "data:")) for u in loaded), loaded
    assert not outside
