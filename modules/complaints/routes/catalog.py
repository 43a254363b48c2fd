"""The office's categories (with their extra fields) and reply templates, kept by its admins."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, put
from litestar.params import FromPath, JSONBody

from api.errors import invalid, problem_docs
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.complaints import catalog as service
from modules.complaints.queries import categories, templates
from modules.complaints.schemas import CategoryIn, CategoryOut, TemplateIn, TemplateOut

__all__ = ("AdminCatalogController",)

# The catalog can be prepared before the module is switched on for the office.
_OPT = {"action": "complaint.catalog.manage", "module_switch": False}


class AdminCatalogController(Controller):
    """The office's categories (with their extra fields) and reply templates."""

    path = "/admin/complaints"
    tags = ["complaints", "admin"]
    security = [{"bearer": []}]

    @get("/categories", operation_id="complaintCategoriesList", summary="All categories, inactive included",
         opt=_OPT, responses=problem_docs(401, 403))
    async def list_categories(self, request: Request[Any, Any, Any], state: AppState) -> list[CategoryOut]:
        """The office's categories."""
        async with state.db.connection() as conn:
            return await categories(conn, current_principal(request).office)

    @put("/categories/{code:str}", operation_id="complaintCategoryPut", summary="Create or change a category",
         opt=_OPT, responses=problem_docs(400, 401, 403))
    async def put_category(self, request: Request[Any, Any, Any], state: AppState, code: FromPath[str],
                           data: JSONBody[CategoryIn]) -> CategoryOut:
        """Each change bumps the category's version, and so the catalog's."""
        if data.code != code:
            raise invalid("The code in the path and the body differ.", ("code", "must equal the path"))
        p = current_principal(request)
        async with state.db.transaction() as conn:
            return await service.save_category(conn, actor_from(request, p), p.office_id, data)

    @get("/templates", operation_id="complaintTemplatesList", summary="Reply templates", opt=_OPT,
         responses=problem_docs(401, 403))
    async def list_templates(self, request: Request[Any, Any, Any], state: AppState) -> list[TemplateOut]:
        """The office's reply templates."""
        async with state.db.connection() as conn:
            return await templates(conn, current_principal(request).office)

    @put("/templates/{code:str}", operation_id="complaintTemplatePut", summary="Create or change a reply template",
         opt=_OPT, responses=problem_docs(400, 401, 403))
    async def put_template(self, request: Request[Any, Any, Any], state: AppState, code: FromPath[str],
                           data: JSONBody[TemplateIn]) -> TemplateOut:
        """Templates are filled with the item's receipt number, office, title, and the step's reason."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            return await service.save_template(conn, actor_from(request, p), p.office_id, code, data)
