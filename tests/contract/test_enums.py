"""Closed sets are enums in the spec, and what the server writes stays inside them."""

from __future__ import annotations

import json

from api.enums import CLOSED_SETS
from api.errors import ErrorCode
from api.spec import COMMITTED
from modules.clocks.rules import CLOCKS
from modules.kernel.timeline import EVENT_TYPES


def test_every_closed_set_is_an_enum_in_the_spec() -> None:
    """The committed spec equals the code's (test_spec); here: each closed set made it in, with its values."""
    schemas = json.loads(COMMITTED.read_text())["components"]["schemas"]
    for schema, prop in CLOSED_SETS:
        node = schemas[schema]["properties"][prop]  # a renamed schema or property fails here, not silently
        targets = [t.get("items", t) for t in (node, *node.get("oneOf", ())) if t.get("type") in ("string", "array")]
        assert targets and all(t["enum"] for t in targets), (schema, prop)
    assert set(schemas["Problem"]["properties"]["code"]["enum"]) == {c.value for c in ErrorCode}
    assert set(CLOCKS) <= set(schemas["ClockView"]["properties"]["code"]["enum"])
    assert {"step.accept", "reply.result", "linked_to", "monitoring.notice"} <= set(
        schemas["EventOut"]["properties"]["type"]["enum"])


async def test_every_timeline_entry_written_has_a_declared_type(conn) -> None:  # noqa: ANN001
    """Entries written by SQL of their own (the intake's single statement) must be declared too."""
    written = {r["type"] for r in await conn.fetch("select distinct type from timeline_events")}
    assert written and written <= set(EVENT_TYPES)
