"""The office-administration pages, gathered for the console's router."""

from __future__ import annotations

from api.console.pages.audit import audit_routes
from api.console.pages.calendars import calendar_routes
from api.console.pages.catalog import catalog_routes
from api.console.pages.clients import client_routes
from api.console.pages.deliveries import delivery_routes
from api.console.pages.monitoring import monitoring_routes
from api.console.pages.people import people_routes
from api.console.pages.permissions import permission_routes
from api.console.pages.representatives import representative_routes

__all__ = ("admin_routes",)

admin_routes = [*people_routes, *representative_routes, *permission_routes, *calendar_routes, *client_routes,
                *delivery_routes, *catalog_routes, *monitoring_routes, *audit_routes]
