"""The reference tables app developers and admins read: who holds each action in the national default list (in the
README), and each module's states, timeline event types and clocks with their labels (docs/reference.md). Written
from the catalogues; `tests/unit/test_reference.py` keeps both files equal to them (UPDATE_DOCS=1 rewrites them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from auth.actions import ACTIONS, STAFF_ROLES
from modules.clocks.rules import CLOCKS
from modules.kernel.timeline import EVENT_TYPES
from modules.registry import manifests

__all__ = ("README_BEGIN", "README_END", "module_reference", "permission_table")

README_BEGIN = "<!-- permission table: written by tests/unit/test_reference.py with UPDATE_DOCS=1 -->"
README_END = "<!-- end of permission table -->"
_COLUMNS = (*STAFF_ROLES, "deputy", "member", "citizen", "partner")


def permission_table(grants: Iterable[tuple[str, str]]) -> str:
    """One markdown table per action family (`complaint`, `admin` ...): actions down, roles across, ✓ where the
    national default list grants it."""
    held: dict[str, set[str]] = defaultdict(set)
    for role, action in grants:
        held[action].add(role)
    families: dict[str, list[str]] = defaultdict(list)
    for action in sorted(ACTIONS):
        families[action.split(".", 1)[0]].append(action)
    out = []
    for family, actions in families.items():
        out += [f"**{family}**", "", "| action | " + " | ".join(_COLUMNS) + " |",
                "|---|" + "---|" * len(_COLUMNS)]
        out += [f"| `{a}` | " + " | ".join("✓" if r in held[a] else "" for r in _COLUMNS) + " |" for a in actions]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def module_reference() -> str:
    """Each module's states, timeline event types and clocks, with the labels the apps show."""
    out = ["# Reference: states, timeline events and clocks of each module", "",
           "Written from the code's catalogues (`api/reference.py`); a test keeps this file current.", ""]
    for m in manifests():
        out += [f"## {m.name} {m.label_zh}", ""]
        for subject in m.subjects:
            wf = subject.workflow
            out += [f"### {subject.kind}: states", "", "| state | label | terminal |", "|---|---|---|"]
            out += [f"| `{s}` | {label} | {'yes' if wf.is_terminal(s) else ''} |" for s, label in wf.states.items()]
            out += ["", f"### {subject.kind}: steps (timeline type `step.<name>`)", "",
                    "| step | label | from | to | action |", "|---|---|---|---|---|"]
            out += [f"| `{t.name}` | {t.label_zh} | {', '.join(sorted(t.sources))} | {t.target} | `{t.action}` |"
                    for t in wf.transitions.values()]
            out.append("")
        out += ["### other timeline events", "", "| type | label |", "|---|---|"]
        out += [f"| `{t}` | {label} |" for t, label in m.event_types.items()]
        codes = [*m.uses_clocks, *m.clocks]
        out += ["", "### clocks", "", "| code | label |", "|---|---|"]
        out += [f"| `{c}` | {CLOCKS[c].label_zh} |" for c in codes]
        out.append("")
    shared = {t: label for t, label in EVENT_TYPES.items()
              if not t.startswith("step.") and all(t not in m.event_types for m in manifests())}
    out += ["## Timeline events every module can write", "", "| type | label |", "|---|---|"]
    out += [f"| `{t}` | {label} |" for t, label in sorted(shared.items())]
    return "\n".join(out) + "\n"
