"""The admin's side of onboarding beside the partner-client console (auth/admin/clients.py): the agency's contact
people. Another office's client answers 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, put
from litestar.params import FromPath, JSONBody

from api.errors import problem_docs
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.partners import queries, service
from modules.partners.schemas import ContactsIn, PartnerContactOut

__all__ = ("AdminContactsController",)


class AdminContactsController(Controller):
    """A partner client's contact people, as registered by the office's admin (before the module is switched on)."""

    path = "/admin/partner-clients/{client_uuid:uuid}/contacts"
    tags = ["admin"]
    security = [{"bearer": []}]

    @get("/", operation_id="adminClientContacts", summary="A partner client's contact people",
         opt={"action": "admin.clients.read", "module_switch": False}, responses=problem_docs(400, 401, 403, 404))
    async def get_contacts(self, request: Request[Any, Any, Any], state: AppState,
                           client_uuid: FromPath[UUID]) -> list[PartnerContactOut]:
        """Phones masked: the agency keeps its own list unmasked through the partner API."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            client = await queries.client_by_uuid(conn, client_uuid, p.office_id)
            rows = await queries.contacts(conn, client["id"])
        return service.contact_views(state.box, rows, masked=True)

    @put("/", operation_id="adminClientContactsPut", summary="Replace a partner client's contact people",
         opt={"action": "admin.clients.manage", "module_switch": False}, responses=problem_docs(400, 401, 403, 404))
    async def put_contacts(self, request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID],
                           data: JSONBody[ContactsIn]) -> list[PartnerContactOut]:
        """The whole list is replaced (names and phones stored encrypted); answered masked."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            client = await queries.client_by_uuid(conn, client_uuid, p.office_id)
            rows = await service.replace_contacts(conn, state.box, actor_from(request, p), client, data.contacts)
        return service.contact_views(state.box, rows, masked=True)
