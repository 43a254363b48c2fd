"""Case steps as data: states, the transitions between them, the action each needs, the approvals it waits for,
the clocks it moves. Complaints, litigation and liaison each declare a Workflow; `modules.kernel.steps` applies it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from api.errors import ErrorCode, ProblemError, conflict

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
    # Actions whose holders must approve, in this order, before the move happens (审核 then 决定). Empty: the
    # move happens at once. The permission list decides who holds each action, so the chain is per province.
    approvals: tuple[str, ...] = ()
    # Whether the move is told to the public party (its text becomes a public reply).
    public: bool = True
    # False for moves a module makes through a route of their own (assignment, added material): they are not
    # offered as steps.
    offered: bool = True
    # A move back (a resumption): the subject returns to the state it left when it entered its present one;
    # `target` is where it goes when no such step is on record.
    back: bool = False
    label_zh: str = ""


class Workflow(msgspec.Struct, frozen=True):
    """A subject's states (code -> label), transitions (name -> Transition) and terminal states."""

    states: Mapping[str, str]
    transitions: Mapping[str, Transition]
    terminal: frozenset[str] = frozenset()
    # States after which every clock still open stops applying (state -> reason code), e.g. an item referred out.
    not_applicable_after: Mapping[str, str] = {}

    def __post_init__(self) -> None:
        problems = []
        for name, t in self.transitions.items():
            if name != t.name:
                problems.append(f"transition {t.name} is filed under {name!r}")
            unknown = (t.sources | {t.target}) - set(self.states)
            if unknown:
                problems.append(f"transition {t.name} names unknown states {sorted(unknown)}")
            if not t.sources:
                problems.append(f"transition {t.name} has no source state")
        if (self.terminal | set(self.not_applicable_after)) - set(self.states):
            stray = sorted((self.terminal | set(self.not_applicable_after)) - set(self.states))
            problems.append(f"unknown terminal states {stray}")
        if problems:
            raise ValueError("; ".join(problems))

    def check(self, *, actions: Iterable[str], clocks: Iterable[str]) -> None:
        """Refuse (ValueError) a workflow naming actions or clocks that are not registered: called at import."""
        known_actions, known_clocks, problems = set(actions), set(clocks), []
        for t in self.transitions.values():
            for a in (t.action, *t.approvals):
                if a not in known_actions:
                    problems.append(f"transition {t.name} names unknown action {a!r}")
            for c in (*t.stops, *t.starts):
                if c not in known_clocks:
                    problems.append(f"transition {t.name} names unknown clock {c!r}")
        if problems:
            raise ValueError("; ".join(problems))

    def move(self, state: str, name: str, provided: Mapping[str, object]) -> Transition:
        """The transition `name` from `state`, or a 409/400 problem saying why it cannot happen."""
        t = self.transitions.get(name)
        if t is None:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, f"Unknown step {name!r}.",
                               errors=[{"field": "step", "message": f"one of {', '.join(sorted(self.transitions))}"}])
        if state not in t.sources:
            raise conflict(f"Cannot {name} an item that is {state}.", state=state, allowedFrom=sorted(t.sources))
        missing = [f for f in t.needs if not provided.get(f)]
        if missing:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, f"{name} needs {', '.join(missing)}.",
                               errors=[{"field": f, "message": "required for this step"} for f in missing])
        return t

    def available(self, state: str, actions: frozenset[str] | None = None) -> list[Transition]:
        """The steps offered from a state (the apps show them as buttons), those the caller may take if given."""
        return [t for t in self.transitions.values()
                if state in t.sources and t.offered and (actions is None or t.action in actions)]

    def is_terminal(self, state: str) -> bool:
        """Whether the state concludes the subject (no reply clock runs, material is refused ...)."""
        return state in self.terminal
