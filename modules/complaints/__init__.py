"""Complaints, reports and appeals 控告申诉 / 举报 / 信访: intake, handling, every reply on time."""

from __future__ import annotations

from auth.actions import register_actions
from modules.complaints.rules import ACTIONS

register_actions(ACTIONS, external={"citizen": {"complaint.create", "complaint.own"}})

__all__ = ("complaint_routes",)


def complaint_routes() -> list[object]:
    """Every route of the module, for the /api/v1 router."""
    from modules.complaints.routes import (
        AdminCatalogController, CitizenController, PublicController, StaffController, catalog_route,
    )

    return [catalog_route, PublicController, CitizenController, StaffController, AdminCatalogController]
