"""A partner client's deliveries and dead letters in the console: listed per client, a dead letter requeued through
the same service as the admin API (CSRF required), refused without `push.deliveries.manage`, another office's client
answering 404."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.console.conftest import signed_in


async def dead_letter(conn: Any, office: str = "jinshan") -> tuple[Any, Any, Any]:
    """A partner client of the office with one sent and one dead-lettered webhook delivery: (client, sent, dead)."""
    client = await conn.fetchval(
        "insert into partner_clients (office_id, client_id, name, agency_kind, secret_hash, scopes)"
        " select id, $2, '测试公安分局', 'police', 'x', '{}' from offices where code = $1 returning id",
        office, f"{office}-t{uuid.uuid4().hex[:8]}")
    office_id = await conn.fetchval("select office_id from partner_clients where id = $1", client)
    ids = []
    for n, (state, status) in enumerate((("sent", 200), ("dead", 503))):
        event = await conn.fetchval(
            "insert into partner_events (client_id, event_id, msg_id, kind, payload) values ($1, $2, $3,"
            " 'partners', '{}') returning id", client, 9_000_000 + n + uuid.uuid4().int % 1_000_000,
            f"msg_{uuid.uuid4().hex}")
        ids.append(await conn.fetchval(
            "insert into deliveries (queue, channel, office_id, client_id, partner_event_id, state, attempts,"
            " last_status, last_error) values ($8, 'webhook', $2, $1, $3, $4, $5, $6, $7) returning id",
            client, office_id, event, state, 1 if state == "sent" else 8, status,
            None if state == "sent" else "endpoint answered 503", f"webhook:{client}"))
    return client, ids[0], ids[1]


async def test_the_clients_deliveries_and_a_dead_letter_requeued(browser, new_staff, conn) -> None:  # noqa: ANN001
    client, sent, dead = await dead_letter(conn)
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    listing = await c.get("/console/clients")
    assert f'href="/console/clients/{client}/deliveries"' in listing.text
    page = await c.get(f"/console/clients/{client}/deliveries")
    assert page.status_code == 200
    dead_table = page.text.split('id="dead-letters"', 1)[1].split("</table>", 1)[0]
    assert str(dead) in dead_table and str(sent) not in dead_table and "endpoint answered 503" in dead_table
    everything = page.text.split('id="deliveries"', 1)[1]
    assert str(sent) in everything and str(dead) in everything and "死信" in everything
    only_sent = await c.get(f"/console/clients/{client}/deliveries?state=sent")
    listed = only_sent.text.split('id="deliveries"', 1)[1]
    assert str(sent) in listed and str(dead) not in listed
    url = f"/console/clients/{client}/deliveries/{dead}/requeue"
    assert (await c.post(url, data={})).status_code == 403  # no CSRF token: nothing happens
    assert await conn.fetchval("select state from deliveries where id = $1", dead) == "dead"
    done = await c.post(url, data={"_csrf": csrf})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=requeued")
    row = await conn.fetchrow("select state, attempts from deliveries where id = $1", dead)
    assert (row["state"], row["attempts"]) == ("pending", 0)
    assert await conn.fetchval("select count(*) from audit_log where action = 'push.delivery.requeued'"
                               " and object_id = $1", str(dead)) == 1
    after = await c.get(f"/console/clients/{client}/deliveries?done=requeued")
    assert "已重新排队" in after.text
    assert str(dead) not in after.text.split('id="dead-letters"', 1)[1].split("</table>")[0]
    # Only dead letters go back in the queue, as through the API.
    assert (await c.post(f"/console/clients/{client}/deliveries/{sent}/requeue", data={"_csrf": csrf})).status_code \
        == 404


async def test_without_the_permission_the_page_and_the_requeue_are_refused(browser, new_staff, conn) -> None:  # noqa: ANN001
    client, _, dead = await dead_letter(conn)
    c = await browser()
    csrf = await signed_in(c, await new_staff(roles=("prosecutor",)))
    assert (await c.get(f"/console/clients/{client}/deliveries")).status_code == 403
    refused = await c.post(f"/console/clients/{client}/deliveries/{dead}/requeue", data={"_csrf": csrf})
    assert refused.status_code == 403
    assert await conn.fetchval("select state from deliveries where id = $1", dead) == "dead"


async def test_another_offices_client_and_dead_letter_answer_404(browser, new_staff, conn) -> None:  # noqa: ANN001
    client, _, dead = await dead_letter(conn, office="chongming")
    own, _, _ = await dead_letter(conn)
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    assert (await c.get(f"/console/clients/{client}/deliveries")).status_code == 404
    assert (await c.post(f"/console/clients/{client}/deliveries/{dead}/requeue", data={"_csrf": csrf})).status_code \
        == 404
    # Nor through the page of one's own client.
    assert (await c.post(f"/console/clients/{own}/deliveries/{dead}/requeue", data={"_csrf": csrf})).status_code \
        == 404
    assert await conn.fetchval("select state from deliveries where id = $1", dead) == "dead"


async def test_every_dead_letter_of_the_office_on_one_page(browser, new_staff, conn) -> None:  # noqa: ANN001
    client, sent, dead = await dead_letter(conn)
    _, _, elsewhere = await dead_letter(conn, office="chongming")
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    assert 'href="/console/dead-letters"' in (await c.get("/console/clients")).text
    page = await c.get("/console/dead-letters")
    table = page.text.split('id="dead-letters"', 1)[1].split("</table>", 1)[0]
    assert str(dead) in table and str(sent) not in table and str(elsewhere) not in table
    assert f'href="/console/clients/{client}/deliveries"' in table.split(f'data-delivery="{dead}"', 1)[1]
    assert (await c.post(f"/console/dead-letters/{elsewhere}/requeue", data={"_csrf": csrf})).status_code == 404
    assert (await c.post(f"/console/dead-letters/{dead}/requeue", data={})).status_code == 403
    done = await c.post(f"/console/dead-letters/{dead}/requeue", data={"_csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/console/dead-letters?done=requeued"
    assert await conn.fetchval("select state from deliveries where id = $1", dead) == "pending"
    assert await conn.fetchval("select state from deliveries where id = $1", elsewhere) == "dead"
    prosecutor = await browser()
    await signed_in(prosecutor, await new_staff(roles=("prosecutor",)))
    assert (await prosecutor.get("/console/dead-letters")).status_code == 403
