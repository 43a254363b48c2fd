"""The admin console's API for one office, one controller per resource: accounts and sessions, the permission
list, partner clients, the audit trail and the office's settings. Reads are in auth/queries.py, writes in
auth/admin/service.py."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from auth.admin.audit import AdminAuditController
from auth.admin.clients import AdminClientsController
from auth.admin.office import AdminOfficeController
from auth.admin.permissions import AdminPermissionsController
from auth.admin.users import AdminUsersController

__all__ = ("admin_controllers",)

admin_controllers: list[ControllerRouterHandler] = [
    AdminUsersController, AdminPermissionsController, AdminClientsController, AdminAuditController,
    AdminOfficeController,
]
