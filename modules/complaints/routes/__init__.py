"""The complaint routes, one file per audience."""

from __future__ import annotations

__all__ = ("routes",)


def routes() -> list[object]:
    """Every route of the module, for the /api/v1 router."""
    from modules.complaints.routes.catalog import AdminCatalogController
    from modules.complaints.routes.citizen import CitizenController
    from modules.complaints.routes.monitoring import MonitoringController
    from modules.complaints.routes.public import PublicController, catalog_route
    from modules.complaints.routes.staff import StaffController

    return [catalog_route, PublicController, CitizenController, StaffController, MonitoringController,
            AdminCatalogController]
