"""Liaison with deputies and members 代表委员联络: the register, suggestions answered on time, invitations, bulletins,
and the representative app."""

from __future__ import annotations

from uuid import UUID

from api.outbox import Audience, Event
from modules import registry
from modules.kernel.manifest import Manifest
from modules.liaison.rules import ACTIONS, CLOCKS, EVENT_TYPES, PERMISSION_DEFAULTS, TOPICS, Config

__all__ = ("MANIFEST",)


async def _named_user(conn: object, event: Event) -> Audience:
    """The representative the event names (their app); ids only."""
    user = event.payload.get("userId")
    return Audience(users=(UUID(user),) if user else ())


def _routes() -> list[object]:
    from modules.liaison.routes import routes

    return routes()


async def _demo(conn: object, box: object, offices: list[str]) -> None:
    from modules.liaison import demo

    await demo.load(conn, box, offices)  # type: ignore[arg-type]


async def _sweep(conn: object, office_id: object) -> int:
    from modules.liaison import policy

    return await policy.sweep(conn, office_id)  # type: ignore[arg-type]


def _subjects() -> tuple:  # type: ignore[type-arg]
    from modules.liaison.invitations import SUBJECT as INVITATION
    from modules.liaison.suggestions import SUBJECT as SUGGESTION

    return (SUGGESTION, INVITATION)


MANIFEST = registry.register(Manifest(
    name="liaison", label_zh="代表委员联络", routes=_routes, actions=ACTIONS,
    external_actions={"deputy": frozenset({"liaison.rep"}), "member": frozenset({"liaison.rep"})},
    permission_defaults=PERMISSION_DEFAULTS, uses_clocks=CLOCKS, topics=TOPICS, event_types=EVENT_TYPES,
    subjects=_subjects(),
    recipients={"liaison.representative": _named_user},
    config=Config, demo=_demo, sweep=_sweep,
))
