"""Case steps as data: states, the transitions between them, the action each needs, the clocks each moves.
Complaints, litigation and liaison each declare a Workflow; this small engine checks and describes moves."""

from __future__ import annotations

from typing import Mapping

import msgspec

from api.errors import ErrorCode, ProblemError

__all__ = ("Transition", "Workflow")


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """One allowed move: from any of `sources` to `target`, by whoever the permission list grants `action`."""

    name: str
    sources: frozenset[str]
    target: str
    action: str
    # Request fields this move cannot do without (a reason, the organ referred to, the disposition ...).
    needs: tuple[str, ...] = ()
    # Clocks it stops (what they waited for has happened) and clocks it starts.
    stops: tuple[str, ...] = ()
    starts: tuple[str, ...] = ()
    # Whether the move is told to the complainant / public party (its text becomes a public reply).
    public: bool = True
    label_zh: str = ""


class Workflow(msgspec.Struct, frozen=True):
    """A module's states (code -> public label) and transitions (name -> Transition)."""

    states: Mapping[str, str]
    transitions: Mapping[str, Transition]
    terminal: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for t in self.transitions.values():
            unknown = (t.sources | {t.target}) - set(self.states)
            if unknown:
                raise ValueError(f"transition {t.name} names unknown states {sorted(unknown)}")

    def move(self, state: str, name: str, provided: Mapping[str, object]) -> Transition:
        """The transition `name` from `state`, or a 409/400 problem saying why it cannot happen."""
        t = self.transitions.get(name)
        if t is None:
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, f"Unknown step {name!r}.",
                               errors=[{"field": "step", "message": f"one of {', '.join(sorted(self.transitions))}"}])
        if state not in t.sources:
            raise ProblemError(409, ErrorCode.CONFLICT, f"Cannot {name} an item that is {state}.",
                               extra={"state": state, "allowedFrom": sorted(t.sources)})
        missing = [f for f in t.needs if not provided.get(f)]
        if missing:
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, f"{name} needs {', '.join(missing)}.",
                               errors=[{"field": f, "message": "required for this step"} for f in missing])
        return t

    def available(self, state: str) -> list[Transition]:
        """The moves possible from a state (the apps show them as buttons, filtered by the caller's actions)."""
        return [t for t in self.transitions.values() if state in t.sources]
