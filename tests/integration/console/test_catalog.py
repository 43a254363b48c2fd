"""Complaint categories edited in the console: saved by the same function as PUT
/api/v1/admin/complaints/categories/{code} (the API reads back what the form wrote, the version goes up, the audit
trail names the admin), refused values shown beside their field, and a form without its CSRF token refused."""

from __future__ import annotations

import json
import uuid

from tests.helpers import bearer, token_for
from tests.integration.console.conftest import csrf_of, signed_in

FIELDS = [{"key": "amount", "label": "涉案金额", "type": "number", "required": True, "order": 1}]


def _form(csrf: str, code: str, **over: str) -> dict[str, str]:
    return {"_csrf": csrf, "code": code, "kind": "report", "name": "测试类别", "description": "控制台所建",
            "fields": json.dumps(FIELDS, ensure_ascii=False), "sort": "90", "handlingOpinion": "", **over}


async def test_a_category_is_created_and_changed_from_the_catalog_page(browser, new_staff, client, conn) -> None:  # noqa: ANN001
    username = await new_staff()
    c = await browser()
    csrf = await signed_in(c, username)
    code = f"t-{uuid.uuid4().hex[:8]}"
    # Inactive, so the apps' catalog (which other tests read) does not grow.
    made = await c.post("/console/catalog/categories", data=_form(csrf, code))
    assert made.status_code == 303 and made.headers["location"] == "/console/catalog?done=category"
    api = bearer(await token_for(client, username))
    listed = {x["code"]: x for x in (await client.get("/api/v1/admin/complaints/categories", headers=api)).json()}
    assert listed[code]["name"] == "测试类别" and listed[code]["kind"] == "report"
    assert [f["key"] for f in listed[code]["fields"]] == ["amount"] and listed[code]["version"] == 1
    row = await conn.fetchrow("select active, sort, handling_opinion from complaint_categories where code = $1", code)
    assert (row["active"], row["sort"], row["handling_opinion"]) == (False, 90, None)
    # The page shows it with its form filled from what is stored; change it (active now, a formal opinion owed).
    page = await c.get("/console/catalog")
    form = page.text.split(f'data-category="{code}"', 1)[1].split("</form>", 1)[0]
    assert 'value="90"' in form and "涉案金额" in form and 'value="" selected' in form
    changed = await c.post("/console/catalog/categories",
                           data=_form(csrf, code, name="改名", active="on", handlingOpinion="true"))
    assert changed.status_code == 303
    listed = {x["code"]: x for x in (await client.get("/api/v1/admin/complaints/categories", headers=api)).json()}
    assert listed[code]["name"] == "改名" and listed[code]["version"] == 2
    row = await conn.fetchrow("select active, handling_opinion from complaint_categories where code = $1", code)
    assert (row["active"], row["handling_opinion"]) == (True, True)
    user_id = await conn.fetchval("select id::text from users where username = $1", username)
    audit = await conn.fetch("select actor_id, detail from audit_log where action = 'complaint.category.saved'"
                             " and object_id = $1 order by id", code)
    assert [(r["actor_id"], r["detail"]["version"]) for r in audit] == [(user_id, 1), (user_id, 2)]
    # A refused change comes back in that category's own form, beside the field, with what was typed.
    refused = await c.post("/console/catalog/categories", data=_form(csrf, code, sort="soon", name="又改"))
    assert refused.status_code == 400
    assert f'<details class="category" data-code="{code}" open>' in refused.text  # opened to show it
    form = refused.text.split(f'data-category="{code}"', 1)[1].split("</form>", 1)[0]
    assert f'<div class="field invalid" id="category-{code}-sort">' in form and 'value="又改"' in form
    # Back to inactive, as the other tests expect the apps' catalog.
    assert (await c.post("/console/catalog/categories", data=_form(csrf, code))).status_code == 303


async def test_refused_category_values_come_back_beside_their_field(browser, new_staff, conn) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    code = f"t-{uuid.uuid4().hex[:8]}"
    cases = {
        "code": _form(csrf, "Not A Code"),
        "sort": _form(csrf, code, sort="soon"),
        "fields": _form(csrf, code, fields="[{"),
        "name": _form(csrf, code, name=""),
    }
    # The service's own check (a choice without options), as the API answers it.
    choice = [{"key": "where", "label": "地点", "type": "single_choice"}]
    cases["fields "] = _form(csrf, code, fields=json.dumps(choice))
    for field, data in cases.items():
        resp = await c.post("/console/catalog/categories", data=data)
        assert resp.status_code == 400, (field, resp.text)
        # The error sits in the new-category form, in the box of the field it names, and only there.
        box = f'<div class="field invalid" id="category-new-{field.strip()}">'
        assert resp.text.count('class="field invalid"') == 1 and box in resp.text, (field, resp.text)
        assert 'class="field-error"' in resp.text.split(box, 1)[1].split("</div>", 1)[0]
        assert data["name"] in resp.text  # what was typed is kept
    assert await conn.fetchval("select count(*) from complaint_categories where code = $1", code) == 0
    without = await c.post("/console/catalog/categories", data={k: v for k, v in _form(csrf, code).items()
                                                                if k != "_csrf"})
    assert without.status_code == 403
    assert await conn.fetchval("select count(*) from complaint_categories where code = $1", code) == 0
    assert csrf_of((await c.get("/console/catalog")).text) == csrf


async def test_categories_are_not_edited_without_the_catalog_right(browser, new_staff, conn) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff(roles=("prosecutor",)))
    code = f"t-{uuid.uuid4().hex[:8]}"
    assert (await c.post("/console/catalog/categories", data=_form(csrf, code))).status_code == 403
    assert await conn.fetchval("select count(*) from complaint_categories where code = $1", code) == 0
