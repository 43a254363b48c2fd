"""A link between two subjects of different modules reads from both sides and lands on both timelines."""

from __future__ import annotations

import uuid

from auth.audit import Actor
from modules.kernel.links import link, links
from modules.kernel.timeline import timeline


async def test_a_link_is_kept_both_ways_and_written_on_both_timelines(conn) -> None:  # noqa: ANN001
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    complaint, clue = uuid.uuid4(), uuid.uuid4()
    staff = Actor(id="u-1", kind="staff", office_id=office, device_id=None, ip=None, request_id=None)
    async with conn.transaction():
        await link(conn, staff, office, source=("complaints", complaint), target=("litigation", clue),
                   kind="transferred_to_clue", public=True)
        # Recording the same link again (a retried request) adds nothing.
        await link(conn, staff, office, source=("complaints", complaint), target=("litigation", clue),
                   kind="transferred_to_clue", public=True)
    [out] = await links(conn, complaint)
    [back] = await links(conn, clue)
    assert (out.direction, out.module, out.id, out.kind) == ("to", "litigation", clue, "transferred_to_clue")
    assert (back.direction, back.module, back.id) == ("from", "complaints", complaint)
    public_side = await timeline(conn, complaint, public_only=True)
    assert [e.type for e in public_side] == ["linked_to"]
    assert [e.type for e in await timeline(conn, clue, public_only=True)] == []
