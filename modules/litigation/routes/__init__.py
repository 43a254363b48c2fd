"""The litigation routes, one file per audience: staff clues, staff cases, partner clients."""

from __future__ import annotations

__all__ = ("routes",)


def routes() -> list[object]:
    """Every route of the module, for the /api/v1 router."""
    from modules.litigation.routes.cases import CaseController
    from modules.litigation.routes.clues import ClueController, DomainController
    from modules.litigation.routes.partner import AgencyController, PartnerClueController

    return [DomainController, ClueController, CaseController, PartnerClueController, AgencyController]
