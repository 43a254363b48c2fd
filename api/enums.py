"""Closed sets the spec publishes as enums, read from the catalogues when the document is written: so a module
that registers clocks, actions, steps or timeline types widens the enums without touching the spec code."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from api.errors import ErrorCode
from auth.actions import ACTIONS, EXTERNAL_KINDS, STAFF_ROLES
from modules.clocks.rules import CLOCKS
from modules.kernel.timeline import EVENT_TYPES
from modules.registry import manifests

__all__ = ("CLOSED_SETS", "QUERY_SETS")


def _steps() -> Iterable[str]:
    return {name for m in manifests() for s in m.subjects for name in s.workflow.transitions}


def _event_types() -> Iterable[str]:
    # Steps from the modules registered now (a module registered for a while, as in a test, leaves no trace).
    return {t for t in EVENT_TYPES if not t.startswith("step.")} | {f"step.{n}" for n in _steps()}


def _roles() -> Iterable[str]:
    return STAFF_ROLES


def _kinds() -> Iterable[str]:
    return ("staff", *EXTERNAL_KINDS)


def _clocks() -> Iterable[str]:
    return CLOCKS


def _actions() -> Iterable[str]:
    return ACTIONS

# (schema, property) -> where its values come from. A property holding a list gets the enum on its items.
CLOSED_SETS: dict[tuple[str, str], Callable[[], Iterable[str]]] = {
    ("Problem", "code"): lambda: (c.value for c in ErrorCode),
    ("EventOut", "type"): _event_types,
    ("StaffComplaint", "availableSteps"): _steps,
    ("StepIn", "step"): _steps,
    ("ProposalOut", "step"): _steps,
    **{(schema, prop): _clocks for schema, prop in (
        ("ClockView", "code"), ("Deadline", "clock"), ("DeadlineOut", "clock"), ("Rate", "clock"),
        ("RateOut", "clock"), ("ClockEventIn", "clock"))},
    **{(schema, "roles"): _roles for schema in (
        "AccountIn", "AccountOut", "Me", "RoleRequestIn", "RoleRequestOut", "UserOut", "UserPatch")},
    **{(schema, "kind"): _kinds for schema in ("AccountOut", "UserOut", "Me")},
    **{(schema, "scopes"): _actions for schema in ("ClientIn", "ClientOut", "ClientPatch", "Me")},
}

# Query parameters (by name, on every operation) whose values are a closed set; the routes answer 400 for others.
QUERY_SETS: dict[str, Callable[[], Iterable[str]]] = {
    "module": lambda: (m.name for m in manifests()),
    "clock": _clocks,
}
