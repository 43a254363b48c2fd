"""Admin console: the office's sign-in settings."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, patch
from litestar.params import JSONBody

from api.errors import problem_docs
from api.state import AppState
from auth.admin import service
from auth.admin.common import SECURITY
from auth.audit import actor_from
from auth.principal import current_principal

__all__ = ("AdminOfficeController", "OfficeSettings")


class OfficeSettings(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Office-wide sign-in settings."""

    require_totp: bool


class AdminOfficeController(Controller):
    """The caller's own office."""

    path = "/admin"
    tags = ["admin"]
    security = SECURITY

    @patch("/office", operation_id="adminUpdateOffice", summary="Change office sign-in settings",
           opt={"action": "admin.office.manage"}, responses=problem_docs(400, 401, 403))
    async def update_office(
        self, request: Request[Any, Any, Any], state: AppState, data: JSONBody[OfficeSettings]
    ) -> OfficeSettings:
        """Require a second factor of every staff member of the office (they enrol at their next sign-in)."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            await service.set_office_totp(conn, actor=actor_from(request, p), office_id=p.office_id,
                                          require_totp=data.require_totp)
        return data
