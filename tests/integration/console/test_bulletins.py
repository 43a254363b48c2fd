"""The ladder's last rung in the console: a bulletin 通报 of a period issued from the monitoring page by the same
service as POST /api/v1/monitoring/bulletins (the API lists it with the missed deadline, the audit trail names the
admin), once per period, and only by whoever may escalate."""

from __future__ import annotations

import random
from datetime import date, timedelta

from tests.helpers import bearer, token_for
from tests.integration.clocks.helpers import backdate, file_item
from tests.integration.console.conftest import signed_in


async def test_a_bulletin_is_issued_from_the_monitoring_page(browser, new_staff, client, staff, conn) -> None:  # noqa: ANN001
    cid = await file_item(client, await staff("jinshan", "complaints_office"))
    await backdate(conn, cid, "procedural_reply", 60)  # missed by now
    clock = await conn.fetchrow("select id, due from clocks where subject_id = $1::uuid and code = 'procedural_reply'",
                                cid)
    username = await new_staff(roles=("admin", "case_mgmt"))
    c = await browser()
    csrf = await signed_in(c, username)
    page = await c.get("/console/monitoring")
    assert page.status_code == 200 and 'id="bulletin-form"' in page.text
    # A period of its own (one bulletin per period and office), ending just after the missed due day.
    end = clock["due"] + timedelta(days=1)
    start = end - timedelta(days=random.randint(2, 3000))
    period = {"_csrf": csrf, "start": start.isoformat(), "end": end.isoformat()}
    issued = await c.post("/console/monitoring/bulletins", data=period)
    assert issued.status_code == 303 and issued.headers["location"] == "/console/monitoring?done=bulletin"
    api = (await client.get("/api/v1/monitoring/bulletins",
                            headers=bearer(await token_for(client, username)))).json()
    mine = next(b for b in api if (b["periodStart"], b["periodEnd"]) == (start.isoformat(), end.isoformat()))
    assert not mine["automatic"] and str(clock["id"]) in {i["clockId"] for i in mine["items"]}
    shown = await c.get("/console/monitoring?done=bulletin")
    assert "已发出流程监控通报" in shown.text and f'data-bulletin="{mine["id"]}"' in shown.text
    user_id = await conn.fetchval("select id::text from users where username = $1", username)
    assert await conn.fetchval("select actor_id from audit_log where action = 'monitoring.bulletin'"
                               " and object_id = $1", mine["id"]) == user_id
    # Once per period, as the API answers; a period that ends before it starts is refused.
    again = await c.post("/console/monitoring/bulletins", data=period)
    assert again.status_code == 409 and 'data-code="conflict"' in again.text
    backwards = await c.post("/console/monitoring/bulletins", data={**period, "end": start.isoformat(),
                                                                    "start": end.isoformat()})
    assert backwards.status_code == 400
    assert (await c.post("/console/monitoring/bulletins", data={**period, "end": "soon"})).status_code == 400


async def test_a_bulletin_needs_the_right_to_escalate_and_its_csrf_token(browser, new_staff, conn) -> None:  # noqa: ANN001
    reader = await browser()
    csrf = await signed_in(reader, await new_staff(roles=("prosecutor",)))
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    before = await conn.fetchval("select count(*) from monitoring_bulletins where office_id = $1", office)
    period = {"start": date(2001, 1, 1).isoformat(), "end": date(2001, 2, 1).isoformat()}
    assert (await reader.post("/console/monitoring/bulletins", data={"_csrf": csrf, **period})).status_code == 403
    admin = await browser()
    await signed_in(admin, await new_staff(roles=("admin", "case_mgmt")))
    assert (await admin.post("/console/monitoring/bulletins", data=period)).status_code == 403
    assert await conn.fetchval("select count(*) from monitoring_bulletins where office_id = $1", office) == before
