"""A module declares itself once: its routes, actions, clocks, public routes, permission defaults, demo data,
outbox topics and their recipients, timeline event types, subjects and configuration schema. The registry and
the app read manifests, never module names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uuid import UUID

    import asyncpg
    import msgspec

    from api.outbox import Resolver
    from auth.secretbox import SecretBox
    from modules.clocks.rules import ClockSpec
    from modules.kernel.partner_items import PartnerItems
    from modules.kernel.steps import Subject

__all__ = ("Manifest", "lazy_demo", "lazy_routes")

DemoLoader = Callable[["asyncpg.Connection", "SecretBox", list[str]], Awaitable[None]]
# A module's periodic duty for one office, run by flow monitoring's sweep: answers how many warnings it raised.
Sweep = Callable[["asyncpg.Connection", "UUID"], Awaitable[int]]


@dataclass(frozen=True)
class Manifest:
    """Everything the rest of Jianwu needs to know about one module."""

    # The switch key admins turn on per office ("complaints"), and a label for people.
    name: str
    label_zh: str
    # Route handlers and controllers, mounted under /api/v1 behind the module's switch (imported lazily).
    routes: Callable[[], list[Any]]
    # Permission-list actions the module defines (name -> description) and which outsiders may be granted them.
    actions: Mapping[str, str]
    external_actions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # The national default list's grants for the module: (role, action).
    permission_defaults: tuple[tuple[str, str], ...] = ()
    # Clocks the module brings (code -> spec); clocks already in the shared rules are named in `uses_clocks`.
    clocks: Mapping[str, ClockSpec] = field(default_factory=dict)
    uses_clocks: tuple[str, ...] = ()
    # Routes callable without a token: (METHOD, full path template as Litestar reports it).
    public_routes: frozenset[tuple[str, str]] = frozenset()
    # Outbox topics the module emits (name -> who listens): `api.outbox.emit` refuses any other.
    topics: Mapping[str, str] = field(default_factory=dict)
    # Timeline entry types the module writes besides its workflow's `step.<name>` ones (type -> label).
    event_types: Mapping[str, str] = field(default_factory=dict)
    # Who hears of each of those topics (topic -> async resolver answering an `api.outbox.Audience`): the delivery
    # worker asks the module, so a new module's notifications need no change in push/.
    recipients: Mapping[str, Resolver] = field(default_factory=dict)
    subjects: tuple[Subject, ...] = ()
    # The office's configuration of the module, checked when an admin saves it (None: any object).
    config: type[msgspec.Struct] | None = None
    demo: DemoLoader | None = None
    # Office policy the module watches over time (e.g. a contact cadence), checked on every sweep of an office.
    sweep: Sweep | None = None
    # What a partner agency has open with the office in this module (its list under /partner/open-items).
    partner_items: PartnerItems | None = None


def lazy_routes(package: str) -> Callable[[], list[Any]]:
    """`Manifest.routes` for a module whose `<package>.routes` has `routes()`, imported only when the app mounts it."""
    def routes() -> list[Any]:
        return import_module(f"{package}.routes").routes()

    return routes


def lazy_demo(package: str) -> DemoLoader:
    """`Manifest.demo` for a module whose `<package>.demo` has `load(conn, box, offices)`, imported only when loaded."""
    async def load(conn: asyncpg.Connection, box: SecretBox, offices: list[str]) -> None:
        await import_module(f"{package}.demo").load(conn, box, offices)

    return load
