"""The partner routes (partner clients only, under /api/v1/partner) and the office's side of the exchanges."""

from __future__ import annotations

__all__ = ("routes",)


def routes() -> list[object]:
    """Every route of the module, for the /api/v1 router."""
    from modules.partners.routes.admin import AdminContactsController
    from modules.partners.routes.consultations import (
        OpenItemsController,
        PartnerConsultationController,
        StaffConsultationController,
        partner_openapi,
    )
    from modules.partners.routes.documents import PartnerDocumentController, StaffDocumentController
    from modules.partners.routes.involvements import PartnerInvolvementController
    from modules.partners.routes.staff import StaffInvolvementController
    from modules.partners.routes.transfers import ContactsController, HotlineController, PoliceTransferController

    return [HotlineController, PoliceTransferController, PartnerInvolvementController, ContactsController,
            StaffInvolvementController, AdminContactsController, PartnerDocumentController, StaffDocumentController,
            PartnerConsultationController, StaffConsultationController, OpenItemsController, partner_openapi]
