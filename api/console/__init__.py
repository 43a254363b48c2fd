"""The admin web console 院务管理 at /console: server-rendered pages (Jinja templates, vendored htmx and ECharts,
nothing loaded from outside) over the same service functions and permission actions as the API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Request, Router
from litestar.response import Redirect, Response, Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from api.console.pages.admin import admin_routes
from api.console.pages.dashboard import dashboard_routes
from api.console.pages.modules import module_routes
from api.console.pages.signin import signin_routes
from api.console.session import check_csrf, session_middleware
from api.errors import ProblemError, exception_handlers

if TYPE_CHECKING:
    from litestar.plugins.jinja import JinjaTemplateEngine

__all__ = ("ConsoleTemplates", "console_handlers", "template_config")

HERE = Path(__file__).resolve().parent
ASSETS = "/console/assets"


class ConsoleTemplates:
    """Litestar's Jinja engine for the console's templates, built when the first page renders: a worker that
    serves only the API (most requests, most workers) never loads Jinja, 2.2 MiB less per worker."""

    def __init__(self, directory: Path | list[Path] | None, engine_instance: Any | None = None) -> None:
        self._directory = directory
        self._engine: JinjaTemplateEngine | None = None
        self._callables: list[tuple[str, Callable[..., Any]]] = []

    def _jinja(self) -> JinjaTemplateEngine:
        if self._engine is None:
            from litestar.plugins.jinja import JinjaTemplateEngine

            engine = JinjaTemplateEngine(directory=self._directory)
            for key, template_callable in self._callables:
                engine.register_template_callable(key, template_callable)
            self._engine = engine
        return self._engine

    def get_template(self, template_name: str) -> Any:
        """The named template (Jinja's, autoescaped)."""
        return self._jinja().get_template(template_name)

    def render_string(self, template_string: str, context: Mapping[str, Any]) -> str:
        """Render a template given as text."""
        return self._jinja().render_string(template_string, context)

    def register_template_callable(self, key: str, template_callable: Callable[..., Any]) -> None:
        """Make a callable available to every template, now or once the engine is built."""
        if self._engine is None:
            self._callables.append((key, template_callable))
        else:
            self._engine.register_template_callable(key, template_callable)


def template_config() -> TemplateConfig[ConsoleTemplates]:
    """The console's templates (the app's only ones); autoescaped."""
    return TemplateConfig(directory=HERE / "templates", engine=ConsoleTemplates)


def _browser(request: Request[Any, Any, Any]) -> bool:
    return "text/html" in request.headers.get("accept", "") or bool(request.headers.get("hx-request"))


_MESSAGES = {401: "请先登录。", 403: "您的权限清单不允许此操作。", 404: "没有找到。", 409: "与当前状态冲突。",
             429: "操作过于频繁，请稍后再试。"}


def _problem(request: Request[Any, Any, Any], exc: ProblemError) -> Response[Any]:
    """A browser gets the sign-in page or an error page; anything else the API's problem+json."""
    if not _browser(request):
        return exception_handlers[ProblemError](request, exc)
    reason = (exc.extra or {}).get("reason")
    target = ("/console/login?notice=expired" if exc.status == 401 else
              "/console/totp" if reason == "mfa_enrollment_required" else
              "/console/password" if reason == "password_change_required" else None)
    if target:
        if request.headers.get("hx-request"):
            return Response(content=None, status_code=204, headers={"HX-Redirect": target})
        return Redirect(target, status_code=303)
    message = "表单已失效（缺少或错误的 CSRF 令牌），请刷新页面后重试。" if reason == "csrf" else (
        "本院尚未启用此模块（可在“模块管理”中开启）。" if exc.code == "module_disabled" else
        _MESSAGES.get(exc.status) or exc.detail or "请求有误。")
    return Template(template_name="error.html", status_code=exc.status, context={
        "message": message, "detail": exc.detail, "code": exc.code, "nav": [], "csrf": ""})


def console_handlers() -> list[Any]:
    """The console's router and its assets (served by us: the isolated network has no outside)."""
    pages = Router(path="/console", route_handlers=[*signin_routes, *dashboard_routes, *module_routes, *admin_routes],
                   middleware=[session_middleware], guards=[check_csrf], include_in_schema=False,
                   exception_handlers={ProblemError: _problem})
    assets = create_static_files_router(path=ASSETS, directories=[HERE / "static"], include_in_schema=False,
                                        opt={"public": True}, name="console-assets")
    return [pages, assets]
