"""Items by module and category: the API's /monitoring/categories and the console's chart data count the office's
items exactly (against the tables themselves), a new item moves its category's count by one, and the figures are
refused to whoever may not read monitoring."""

from __future__ import annotations

from tests.helpers import bearer, token_for
from tests.integration.clocks.helpers import file_item
from tests.integration.console.conftest import signed_in

JSON = {"Accept": "application/json"}


async def test_counts_by_category_are_the_offices_items(browser, new_staff, client, staff, conn) -> None:  # noqa: ANN001
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    await file_item(client, await staff("jinshan", "complaints_office"))  # at least one accusation is there
    username = await new_staff(roles=("admin", "case_mgmt"))
    c = await browser()
    await signed_in(c, username)
    data = (await c.get("/console/data/categories", headers=JSON)).json()
    bars = {(b["module"], b["subject"], b["category"]): b for b in data["categories"]}
    # Complaints by catalog category, counted straight from the table.
    for r in await conn.fetch("select cat.code, cat.name, count(*) as n from complaints c"
                              " join complaint_categories cat on cat.id = c.category_id where c.office_id = $1"
                              " group by 1, 2", office):
        bar = bars[("complaints", "complaint", r["code"])]
        assert bar["count"] == r["n"] and bar["label"] == f"控告申诉 · {r['name']}"
    # PIL clues by domain (the module counts cases too, so the subject is named).
    for r in await conn.fetch("select domain, count(*) as n from pil_clues where office_id = $1 group by 1", office):
        assert bars[("litigation", "clue", r["domain"])]["count"] == r["n"]
        assert bars[("litigation", "clue", r["domain"])]["label"].startswith("公益诉讼 · 线索 · ")
    assert data["total"] == sum(b["count"] for b in data["categories"])
    # The chart's form: one bar per category, a series per module holding only its own bars.
    assert len(data["labels"]) == len(data["categories"])
    for i, b in enumerate(data["categories"]):
        assert [data["series"][m][i] for m in data["modules"] if data["series"][m][i] is not None] == [b["count"]]
    # An app reads the same counts from the API, by state.
    api = await client.get("/api/v1/monitoring/categories", headers=bearer(await token_for(client, username)))
    assert api.status_code == 200
    rows = api.json()["counts"]
    assert sum(r["count"] for r in rows) == data["total"]
    accusations = bars[("complaints", "complaint", "accusation")]
    assert accusations["byState"] == {r["stateLabel"]: r["count"] for r in rows
                                      if (r["module"], r["category"]) == ("complaints", "accusation")}
    # One more accusation filed: its bar grows by one, nothing else moves.
    await file_item(client, await staff("jinshan", "complaints_office"))
    again = (await c.get("/console/data/categories", headers=JSON)).json()
    after = {(b["module"], b["subject"], b["category"]): b["count"] for b in again["categories"]}
    assert after[("complaints", "complaint", "accusation")] == accusations["count"] + 1
    assert again["total"] == data["total"] + 1
    only = (await client.get("/api/v1/monitoring/categories", params={"module": "litigation"},
                             headers=bearer(await token_for(client, username)))).json()["counts"]
    assert only and {r["module"] for r in only} == {"litigation"}


async def test_counts_by_category_are_refused_without_monitoring_read(browser, new_staff, client) -> None:  # noqa: ANN001
    username = await new_staff(roles=("prosecutor",))
    c = await browser()
    await signed_in(c, username)
    assert (await c.get("/console/data/categories", headers=JSON)).status_code == 403
    assert 'id="chart-categories"' not in (await c.get("/console")).text
    headers = bearer(await token_for(client, username))
    assert (await client.get("/api/v1/monitoring/categories", headers=headers)).status_code == 403
    admin = bearer(await token_for(client, await new_staff(roles=("case_mgmt",))))
    bad = await client.get("/api/v1/monitoring/categories", params={"module": "nope"}, headers=admin)
    assert bad.status_code == 400
