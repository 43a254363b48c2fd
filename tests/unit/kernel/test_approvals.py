"""The approval chain's rules (审核 then 决定): who decides next, who may not, and what each decision does to a
proposal. `steps.decide` stores what these return; the HTTP flows are in tests/integration/litigation."""

from __future__ import annotations

import pytest

from api.errors import ProblemError
from modules.kernel.approvals import Decision, next_approval, rule_on

CHAIN = ("pil.review", "pil.decide")
BOTH = frozenset(CHAIN)


def _refusal(*, by: str, decision: Decision, stage: int = 0, earlier: tuple[str, ...] = (),
             actions: frozenset[str] = BOTH, reason: str | None = None) -> ProblemError:
    """The problem `rule_on` refuses this decision with, on a step the prosecutor proposed."""
    with pytest.raises(ProblemError) as refused:
        rule_on(CHAIN, stage, proposed_by="prosecutor", earlier=earlier, by=by, actions=actions, decision=decision,
                reason=reason)
    return refused.value


def test_the_chain_is_walked_in_order_and_only_the_last_approval_concludes() -> None:
    assert next_approval(CHAIN, 0, "pending") == "pil.review"
    after_review = rule_on(CHAIN, 0, proposed_by="prosecutor", earlier=(), by="head", actions=BOTH,
                           decision="approve", reason=None)
    assert after_review == "pending" and next_approval(CHAIN, 1, after_review) == "pil.decide"
    final = rule_on(CHAIN, 1, proposed_by="prosecutor", earlier=("head",), by="chief", actions=BOTH,
                    decision="approve", reason=None)
    assert final == "approved" and next_approval(CHAIN, 2, final) is None


def test_nothing_is_next_once_the_proposal_was_returned_or_withdrawn() -> None:
    assert next_approval(CHAIN, 0, "returned") is None
    assert next_approval(CHAIN, 1, "withdrawn") is None


def test_the_decision_needs_the_next_action_of_the_chain_not_any_of_it() -> None:
    # A department head (审核) cannot take the chief's decision (决定), nor the chief skip the review.
    refused = _refusal(stage=1, by="head", actions=frozenset({"pil.review"}), decision="approve")
    assert refused.status == 403 and refused.extra == {"action": "pil.decide"}
    assert _refusal(stage=0, by="chief", actions=frozenset({"pil.decide"}), decision="approve").status == 403


def test_the_proposer_never_approves_their_own_step() -> None:
    refused = _refusal(by="prosecutor", decision="approve")
    assert refused.status == 403 and "proposer" in refused.detail
    assert _refusal(by="prosecutor", decision="return", reason="再查").status == 403


def test_an_earlier_approver_cannot_also_take_the_later_decision() -> None:
    # The head holds both actions here: the one person still cannot review and then decide.
    refused = _refusal(stage=1, earlier=("head",), by="head", decision="approve")
    assert refused.status == 403 and "earlier approver" in refused.detail


def test_returning_needs_a_reason_and_ends_the_proposal() -> None:
    refused = _refusal(by="head", decision="return", reason="")
    assert refused.status == 400 and refused.errors == [{"field": "reason", "message": "required to return"}]
    assert rule_on(CHAIN, 1, proposed_by="prosecutor", earlier=("head",), by="chief", actions=BOTH,
                   decision="return", reason="证据不足") == "returned"


def test_only_the_proposer_withdraws_at_any_stage_without_holding_an_approval() -> None:
    assert rule_on(CHAIN, 1, proposed_by="prosecutor", earlier=("head",), by="prosecutor", actions=frozenset(),
                   decision="withdraw", reason=None) == "withdrawn"
    refused = _refusal(by="head", decision="withdraw")
    assert refused.status == 403 and "Only the proposer" in refused.detail


def test_a_chain_of_one_concludes_on_its_first_approval() -> None:
    assert rule_on(("x.decide",), 0, proposed_by="a", earlier=(), by="b", actions=frozenset({"x.decide"}),
                   decision="approve", reason=None) == "approved"
