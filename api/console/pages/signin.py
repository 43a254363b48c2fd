"""Sign-in (password, then the second factor when enrolled), second-factor enrolment and sign-out: the API's own
grant and service functions (auth/grants.py, auth/signin.py, auth/credentials.py) behind a form."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
import pyotp
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Template

from api.console.render import page, see_other
from api.console.session import (
    COOKIE,
    PRE_COOKIE,
    cookie_header,
    create_session,
    current_session,
    drop_session,
    replace_tokens,
)
from api.errors import ErrorCode, ProblemError
from api.state import AppState, app_state
from auth.accounts import change_own_password
from auth.actions import AUTHENTICATED
from auth.audit import actor_from
from auth.credentials import confirm_password
from auth.grants import GRANTS, TokenRequest
from auth.principal import current_principal
from auth.signin import confirm_totp, end_session, start_totp
from auth.tokens import GrantError

__all__ = ("signin_routes",)

FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
# Pages a signed-in account may open before it has set up a required second factor.
_PENDING = {"action": AUTHENTICATED, "allow_mfa_pending": True, "allow_password_change": True, "accepts": FORM}


def _login_page(request: Request[Any, Any, Any], *, status: int = 200, error: str | None = None,
                username: str = "", need_totp: bool = False, notice: FromQuery[str | None] = None) -> Template:
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    page_ = Template(template_name="login.html", status_code=status, context={
        "csrf": token, "error": error, "username": username, "need_totp": need_totp, "notice": notice,
        "nav": [], "here": "/console/login"})
    page_.headers["Set-Cookie"] = cookie_header(app_state(request.app), PRE_COOKIE, token)
    return page_


_NOTICES = {"signed_out": "您已退出登录。", "enrolled": "双因素认证已启用，请使用动态码重新登录。",
            "expired": "会话已过期，请重新登录。"}


@get("/login", opt={"public": True}, include_in_schema=False)
async def login_form(request: Request[Any, Any, Any], notice: FromQuery[str | None] = None) -> Response[Any]:
    """The sign-in form (a browser that is signed in goes to the overview)."""
    if current_session(request) is not None:
        return Redirect("/console", status_code=303)
    return _login_page(request, notice=_NOTICES.get(notice or ""))


@post("/login", status_code=200, opt={"public": True, "accepts": FORM}, include_in_schema=False)
async def login(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Sign in through the API's password grant (its lock-out, audit and second factor included)."""
    form = await request.form()
    username = str(form.get("username") or "")
    try:
        data = msgspec.convert({"grant_type": "password", "client_id": "staff-app", "username": username,
                                "password": str(form.get("password") or ""),
                                "totp": str(form.get("totp") or "").strip() or None}, TokenRequest)
        tokens = await GRANTS["password"](state, request, data)
    except msgspec.ValidationError:
        return _login_page(request, status=400, error="用户名或密码过长。", username=username)
    except GrantError as exc:
        totp_wrong = "second-factor" in exc.description
        return _login_page(request, status=400, username=username, need_totp=totp_wrong,
                           error="动态码错误或已使用。" if totp_wrong else "用户名或密码错误，或账户已停用。")
    except ProblemError as exc:
        if (exc.extra or {}).get("reason") == "mfa_required":
            return _login_page(request, status=400, username=username, need_totp=True,
                               error="此账户已启用双因素认证，请输入动态码。" if form.get("totp") is not None else None)
        if exc.status == 429:
            return _login_page(request, status=429, username=username, error="失败次数过多，账户暂时锁定，请稍后再试。")
        raise
    session = await create_session(state, tokens, data.username or "")
    response = Redirect("/console", status_code=303)
    response.headers["Set-Cookie"] = cookie_header(state, COOKIE, session.id)
    return response


@post("/logout", status_code=200, opt=_PENDING, include_in_schema=False)
async def logout(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Sign out: the access token and its refresh family are revoked as by POST /api/v1/auth/logout."""
    p = current_principal(request)
    await state.revocations.deny_token(p.jti, p.exp)
    if p.family:
        await state.revocations.deny_family(p.family)
    session = current_session(request)
    async with state.db.transaction() as conn:
        await end_session(conn, actor=actor_from(request, p), principal=p,
                          refresh_token=session.refresh_token if session else None)
    if session is not None:
        await drop_session(state, session.id)
    return _signed_out(request, "signed_out")


def _signed_out(request: Request[Any, Any, Any], notice: str) -> Response[Any]:
    response = Redirect(f"/console/login?notice={notice}", status_code=303)
    response.headers["Set-Cookie"] = cookie_header(app_state(request.app), COOKIE, "", max_age=0)
    return response


@get("/totp", opt=_PENDING, include_in_schema=False)
async def totp_form(request: Request[Any, Any, Any]) -> Template:
    """Second-factor enrolment, step one: the password again."""
    return await page(request, "totp.html", step="password", pending=current_principal(request).mfa_pending)


@post("/totp", status_code=200, opt=_PENDING, include_in_schema=False)
async def totp_start(request: Request[Any, Any, Any], state: AppState) -> Template:
    """Step two: a new secret (as POST /api/v1/auth/totp/enrollment), to type into the authenticator app."""
    p = current_principal(request)
    if p.kind != "staff" or p.user_id is None:
        raise ProblemError(ErrorCode.FORBIDDEN, "Only staff accounts use a second factor.")
    form = await request.form()
    try:
        await confirm_password(state, p, str(form.get("password") or "")[:128])
    except ProblemError as exc:
        if exc.status != 403:
            raise
        return await page(request, "totp.html", status=400, step="password", error="密码错误。")
    secret = pyotp.random_base32()
    async with state.db.transaction() as conn:
        username = await start_totp(conn, box=state.box, actor=actor_from(request, p), user_id=p.user_id,
                                    secret=secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Jianwu")
    return await page(request, "totp.html", step="code", secret=secret, uri=uri)


@post("/totp/confirm", status_code=200, opt=_PENDING, include_in_schema=False)
async def totp_confirm(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Step three: confirm with a code (as POST /api/v1/auth/totp/confirmation); every session of the account
    ends, this one too, and the recovery codes are shown once."""
    p = current_principal(request)
    if p.kind != "staff" or p.user_id is None:
        raise ProblemError(ErrorCode.FORBIDDEN, "Only staff accounts use a second factor.")
    form = await request.form()
    code = str(form.get("code") or "").strip()
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(10)]
    try:
        if not (len(code) == 6 and code.isdigit()):
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "The code does not match.")
        async with state.db.transaction() as conn:
            await confirm_totp(conn, state=state, actor=actor_from(request, p), user_id=p.user_id, code=code,
                               recovery_codes=codes)
    except ProblemError as exc:
        if exc.status != 400:
            raise
        return await page(request, "totp.html", status=400, step="code", secret=str(form.get("secret") or ""),
                          error="动态码不正确或已过期。")
    session = current_session(request)
    if session:
        await drop_session(state, session.id)
    response = Template(template_name="totp_done.html", context={"codes": codes, "nav": [], "csrf": ""})
    response.headers["Set-Cookie"] = cookie_header(state, COOKIE, "", max_age=0)
    return response


@get("/password", opt=_PENDING, include_in_schema=False)
async def password_form(request: Request[Any, Any, Any]) -> Template:
    """Change one's own password (a one-time or expired password allows nothing else)."""
    return await page(request, "password.html", must=current_principal(request).password_change)


@post("/password", status_code=200, opt=_PENDING, include_in_schema=False)
async def password_change(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """As POST /api/v1/auth/password: every other session ends; this one goes on with the new sign-in."""
    p = current_principal(request)
    form = await request.form()
    old, new = str(form.get("old_password") or "")[:128], str(form.get("new_password") or "")[:128]
    if not old or not new or new != str(form.get("new_password_again") or "")[:128]:
        return await page(request, "password.html", status=400, must=p.password_change,
                          errors=["请填写当前密码，并两次输入相同的新密码。"])
    try:
        tokens = await change_own_password(state, actor_from(request, p), p, old, new)
    except ProblemError as exc:
        if exc.status not in (400, 403):
            raise
        messages = [str(e.get("message")) for e in exc.errors or []] or [exc.detail or "无法修改"]
        return await page(request, "password.html", status=exc.status, must=p.password_change,
                          errors=["当前密码错误。"] if exc.code == "wrong_password" else messages)
    session = current_session(request)
    if session is not None:
        await replace_tokens(state, session, tokens)
    return see_other(request, "/console?done=password")


signin_routes = [login_form, login, logout, totp_form, totp_start, totp_confirm, password_form, password_change]
