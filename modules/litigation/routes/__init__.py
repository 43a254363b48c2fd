"""The litigation routes, one file per audience: staff clues, staff cases, partner clients, volunteers,
hearings and their invitees."""

from __future__ import annotations

__all__ = ("routes",)


def routes() -> list[object]:
    """Every route of the module, for the /api/v1 router."""
    from modules.litigation.routes.cases import CaseController
    from modules.litigation.routes.clues import ClueController, DomainController
    from modules.litigation.routes.hearings import HearingController, InvitationController
    from modules.litigation.routes.partner import AgencyController, PartnerClueController
    from modules.litigation.routes.volunteers import StaffVolunteerController, VolunteerController

    return [DomainController, ClueController, CaseController, PartnerClueController, AgencyController,
            VolunteerController, StaffVolunteerController, HearingController, InvitationController]
