"""The workflow engine's own checks: a workflow that names what does not exist is refused at import, and moves
are checked the way every module's routes rely on."""

from __future__ import annotations

import pytest

from api.errors import ProblemError
from modules.complaints.rules import WORKFLOW
from modules.kernel.workflow import Transition, Workflow

T = Transition


def _wf(*transitions: Transition, terminal: frozenset[str] = frozenset({"done"})) -> Workflow:
    return Workflow(states={"new": "新", "done": "完"}, transitions={t.name: t for t in transitions}, terminal=terminal)


def test_unknown_states_and_terminals_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        _wf(T(name="go", sources=frozenset({"new"}), target="gone", action="x.y"))
    with pytest.raises(ValueError, match="unknown terminal"):
        _wf(T(name="go", sources=frozenset({"new"}), target="done", action="x.y"), terminal=frozenset({"archived"}))
    with pytest.raises(ValueError, match="filed under"):
        Workflow(states={"new": "", "done": ""},
                 transitions={"other": T(name="go", sources=frozenset({"new"}), target="done", action="x.y")})
    with pytest.raises(ValueError, match="no source"):
        _wf(T(name="go", sources=frozenset(), target="done", action="x.y"))


def test_unknown_actions_and_clocks_are_refused_when_the_module_registers() -> None:
    wf = _wf(T(name="go", sources=frozenset({"new"}), target="done", action="x.go", approvals=("x.review",),
               stops=("reply",), starts=("follow",)))
    wf.check(actions={"x.go", "x.review"}, clocks={"reply", "follow"})
    with pytest.raises(ValueError, match="unknown action 'x.review'"):
        wf.check(actions={"x.go"}, clocks={"reply", "follow"})
    with pytest.raises(ValueError, match="unknown clock 'follow'"):
        wf.check(actions={"x.go", "x.review"}, clocks={"reply"})


def test_a_move_is_refused_with_the_reason_a_client_can_act_on() -> None:
    with pytest.raises(ProblemError) as unknown:
        WORKFLOW.move("received", "fly", {})
    assert unknown.value.status == 400 and unknown.value.errors[0]["field"] == "step"
    with pytest.raises(ProblemError) as wrong_state:
        WORKFLOW.move("closed", "accept", {})
    assert wrong_state.value.status == 409
    assert wrong_state.value.extra == {"state": "closed", "allowedFrom": ["awaiting_material", "received"]}
    with pytest.raises(ProblemError) as missing:
        WORKFLOW.move("received", "refer", {"referredTo": ""})
    assert missing.value.status == 400 and missing.value.errors == [
        {"field": "referredTo", "message": "required for this step"}]
    assert WORKFLOW.move("received", "refer", {"referredTo": "区市场监督管理局"}).target == "referred"


def test_only_offered_steps_the_caller_may_take_are_shown() -> None:
    everyone = {t.name for t in WORKFLOW.available("accepted")}
    assert everyone == {"refer", "close"}  # assignment has a route of its own: not offered as a step
    assert {t.name for t in WORKFLOW.available("accepted", frozenset({"complaint.close"}))} == {"close"}
    assert {t.name for t in WORKFLOW.available("awaiting_material")} == {"accept", "refer", "reject"}


def test_every_state_change_of_complaints_is_a_declared_transition() -> None:
    # Assignment and added material used to bypass the engine; the terminal states come from the workflow.
    assert WORKFLOW.transitions["assign"].target == "in_progress" and not WORKFLOW.transitions["assign"].offered
    assert WORKFLOW.transitions["add_material"].sources == frozenset({"awaiting_material"})
    assert all(WORKFLOW.is_terminal(s) for s in ("referred", "not_accepted", "closed"))
