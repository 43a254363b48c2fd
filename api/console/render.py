"""Rendering a console page: the layout's navigation (only the pages the caller's permission list allows), the
CSRF token of its forms, and redirects that work for plain forms and htmx alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.response import Redirect, Response, Template

from api.console.session import current_session
from auth.actions import AUTHENTICATED
from auth.principal import current_principal

if TYPE_CHECKING:
    from litestar import Request

__all__ = ("NAV", "page", "see_other")

# (path, title, the action its page needs: the same one the API route it mirrors names)
NAV: tuple[tuple[str, str, str], ...] = (
    ("/console", "概览", AUTHENTICATED),
    ("/console/modules", "模块管理", "admin.modules.manage"),
    ("/console/people", "人员与角色", "admin.users.read"),
    ("/console/representatives", "代表委员", "liaison.read"),
    ("/console/permissions", "权限清单", "admin.permissions.read"),
    ("/console/calendars", "节假日历", "admin.calendar.read"),
    ("/console/clients", "协作单位", "admin.clients.read"),
    ("/console/catalog", "目录与模板", "complaint.catalog.manage"),
    ("/console/monitoring", "流程监控", "monitoring.read"),
    ("/console/audit", "审计日志", "admin.audit.read"),
)


async def allowed(request: Request[Any, Any, Any], action: str) -> bool:
    """Whether the caller's permission list grants the action (as the API's guard decides it)."""
    if action == AUTHENTICATED:
        return True
    return bool(await request.app.state.permissions.allows(current_principal(request), action))


async def page(request: Request[Any, Any, Any], template: str, *, status: int = 200, **context: Any) -> Template:
    """A page in the layout, signed in."""
    session = current_session(request)
    nav = [(path, title) for path, title, action in NAV if await allowed(request, action)]
    return Template(template_name=template, status_code=status, context={
        "nav": nav, "here": request.url.path, "csrf": session.csrf if session else "",
        "signed_in_as": session.username if session else None, **context})


def see_other(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    """After a POST: go to `path` (htmx follows HX-Location without a second full page load)."""
    if request.headers.get("hx-request"):
        return Response(content=None, status_code=204, headers={"HX-Location": path})
    return Redirect(path, status_code=303)
