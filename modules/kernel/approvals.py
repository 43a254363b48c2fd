"""The rules of an approval chain, without the database: which approval is next, who may give it, and what a
decision does to the proposal. `modules.kernel.steps.decide` applies them to a stored proposal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from api.errors import ErrorCode, ProblemError, forbidden

__all__ = ("Decision", "next_approval", "rule_on")

Decision = Literal["approve", "return", "withdraw"]
_DONE = {"approve": "approved", "return": "returned", "withdraw": "withdrawn"}


def next_approval(chain: tuple[str, ...], stage: int, status: str) -> str | None:
    """The action whose holder must decide next, or None once the proposal is no longer waiting."""
    return chain[stage] if status == "pending" and stage < len(chain) else None


def rule_on(chain: tuple[str, ...], stage: int, *, proposed_by: str, earlier: Iterable[str], by: str | None,
            actions: frozenset[str], decision: Decision, reason: str | None) -> str:
    """The proposal's status after `by` decides (`pending` while approvals remain), or the problem refusing it:
    only the proposer withdraws; approving or returning needs the next action of the chain, a person who neither
    proposed nor approved earlier, and returning needs a reason."""
    if decision == "withdraw":
        if by != proposed_by:
            raise forbidden("Only the proposer can withdraw a proposal.")
        return _DONE[decision]
    needed = chain[stage]
    if needed not in actions:
        raise forbidden(f"This decision needs {needed}.", action=needed)
    if by == proposed_by or by in set(earlier):
        raise forbidden("The proposer or an earlier approver cannot also approve this step.")
    if decision == "return" and not reason:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Returning a proposal needs a reason.",
                           errors=[{"field": "reason", "message": "required to return"}])
    if decision == "approve" and stage + 1 < len(chain):
        return "pending"
    return _DONE[decision]
