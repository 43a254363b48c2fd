"""Account lifecycle for an office's admins: create (one or many from CSV), reset a password, move to another
office, retire, unlock; and every user's own password change. Passwords handed out are one-time (72 hours)."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from api.errors import ErrorCode, ProblemError, problem_docs
from api.idempotency import run_once
from api.outbox import Audience, Event, emit, register_recipients, register_topics
from api.state import AppState
from auth import queries
from auth.actions import AUTHENTICATED
from auth.audit import Actor, actor_from, record
from auth.credentials import LOGIN_ACCOUNT, confirm_password, revoke_sessions, set_password
from auth.password_policy import one_time_password
from auth.passwords import hash_password
from auth.principal import Principal, current_principal
from auth.role_requests import approval_reason, check_roles, open_request
from auth.tokens import APP_CLIENTS, TokenResponse, issue_for_user, normalize_phone

if TYPE_CHECKING:
    import asyncpg

__all__ = ("AccountIn", "AccountsController", "account_office", "account_routes", "change_own_password", "check_spec",
           "create_account", "move_account", "one_time_passwords", "retire_account", "send_one_time_password")

register_topics({
    "account.created": "An account was created: its owner's inbox (how to sign in).",
    "account.moved": "An account moved to another office: its owner is told where it now belongs.",
})


async def _owner(conn: asyncpg.Connection, event: Event) -> Audience:
    """The account the event is about, and only that account."""
    return Audience(users=(UUID(event.payload["user"]),))


register_recipients({"account.created": _owner, "account.moved": _owner})

log = logging.getLogger("jianwu.accounts")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_USERNAME = r"^[a-z0-9][a-z0-9._-]{2,63}$"
BULK_MAX_ROWS = 200
_AUDIENCE = {"staff": APP_CLIENTS["staff-app"][0], "deputy": APP_CLIENTS["representative-app"][0],
             "member": APP_CLIENTS["representative-app"][0]}


class AccountIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """A new account of the admin's office: staff, or a deputy or member (representatives have no roles)."""

    username: Annotated[str, msgspec.Meta(pattern=_USERNAME)]
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    kind: Literal["staff", "deputy", "member"] = "staff"
    roles: list[str] = []
    department: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class AccountOut(msgspec.Struct, rename="camel"):
    """An account with its lifecycle state."""

    id: UUID
    kind: str
    username: str
    display_name: str
    office: str
    roles: list[str]
    department: str | None
    must_change_password: bool
    disabled: bool
    retired: bool
    created_at: datetime


class AccountCreated(msgspec.Struct, rename="camel", omit_defaults=True):
    """The new account; its one-time password went by text message, or is shown here once (never on a retry)."""

    account: AccountOut
    delivery: Literal["sms", "shown_once"]
    one_time_password: str | None = None
    # Roles that need a second admin were left out and asked for here.
    role_request: UUID | None = None


class BulkCreated(msgspec.Struct, rename="camel"):
    """Every account of the file, created together (or none, when any row is wrong)."""

    created: list[AccountCreated]


class OneTimePassword(msgspec.Struct, rename="camel", omit_defaults=True):
    """A reset: the new one-time password went by text message, or is shown here once."""

    delivery: Literal["sms", "shown_once"]
    one_time_password: str | None = None


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    """The office (code) the account moves to; its roles there are given by that office's admin."""

    office: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{1,39}$")]


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """One's own password change: the current password, and the new one."""

    old_password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


@dataclass
class _CsvBody(Operation):
    """The bulk route reads its body itself (Litestar decodes declared bodies as JSON): document it here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(required=True, description=(
            "UTF-8 CSV with a header row: name,username,roles,department,phone and an optional kind "
            "(staff, deputy, member); roles separated by `;`; at most 200 rows."),
            content={"text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))})


def _account(r: Any, office: str) -> AccountOut:
    return AccountOut(id=r["id"], kind=r["kind"], username=r["username"], display_name=r["display_name"],
                      office=office, roles=list(r["roles"]), department=r["department"],
                      must_change_password=r["must_change_password"], disabled=r["disabled_at"] is not None,
                      retired=r["retired_at"] is not None, created_at=r["created_at"])


def _without_secret(body: Any) -> Any:
    """What a retried create gets back: everything but the one-time passwords (shown once)."""
    if isinstance(body, BulkCreated):
        return BulkCreated(created=[_without_secret(c) for c in body.created])
    return msgspec.structs.replace(body, one_time_password=None)


async def one_time_passwords(count: int) -> list[tuple[str, str]]:
    """(password, argon2id hash) pairs, hashed before any transaction opens: hashing takes a while, and a
    transaction that has written audit rows holds its lanes' locks until it commits."""
    passwords = [one_time_password() for _ in range(count)]
    return list(zip(passwords, await asyncio.gather(*(hash_password(x) for x in passwords)), strict=True))


async def create_account(conn: asyncpg.Connection, state: AppState, p: Principal, spec: AccountIn, office: Any,
                         actor: Any, secret: tuple[str, str]) -> tuple[AccountCreated, str, str | None]:
    """Insert one account with its one-time password `secret` (password, hash), inside the caller's transaction.
    Roles that need a second admin are left out and asked for. Answers the result, the password, and the phone
    to text it to."""
    phone = normalize_phone(spec.phone) if spec.phone else None
    password, hashed = secret
    row = await conn.fetchrow(
        """
        insert into users (kind, office_id, username, display_name, department, phone_enc, roles,
                           totp_required)
        values ($1, $2, $3, $4, $5, $6, '{}', $7)
        on conflict (username) do nothing returning *
        """,
        spec.kind, office["id"], spec.username, spec.display_name, spec.department,
        state.box.encrypt_text(phone, aad=b"phone") if phone else None, False)
    if row is None:
        raise ProblemError(ErrorCode.CONFLICT, f"The username {spec.username} is taken.",
                           errors=[{"field": "username", "message": "taken"}])
    await set_password(conn, row, password, one_time=True, hashed=hashed)
    roles = sorted(set(spec.roles)) if spec.kind == "staff" else []
    pending = None
    if roles:
        reason = await approval_reason(conn, p, row, roles)
        if reason is None:
            row = await conn.fetchrow("update users set roles = $2 where id = $1 returning *", row["id"], roles)
        else:
            pending = (await open_request(conn, p, row, roles, reason))["id"]
    row = await conn.fetchrow("select * from users where id = $1", row["id"])
    await emit(conn, "account.created", {"user": str(row["id"])}, office_id=office["id"])
    await record(conn, actor, "admin.user.created", office_id=office["id"], object_type="user", object_id=row["id"],
                 detail={"username": spec.username, "kind": spec.kind, "roles": roles, "role_request":
                         str(pending) if pending else None, "delivery": "sms" if phone else "shown_once"})
    created = AccountCreated(account=_account(row, office["code"]), delivery="sms" if phone else "shown_once",
                             one_time_password=None if phone else password, role_request=pending)
    return created, password, phone


async def send_one_time_password(state: AppState, phone: str, username: str, password: str) -> None:
    """Text a one-time password after the transaction committed (a failure is logged: the admin resets)."""
    text = f"【检务】账号 {username} 的一次性密码：{password}，72小时内有效，首次登录须修改。请勿告诉他人。"
    try:
        await state.sms.send(phone, text)
    except Exception:  # the account exists either way; the admin sees delivery in the trail
        log.exception("one-time password not delivered", extra={"username": username})


def check_spec(spec: AccountIn) -> list[str]:
    """What is wrong with a new account (roles, kind, phone), for the API and the console alike."""
    problems = []
    try:
        check_roles(spec.roles)
    except ProblemError as exc:
        problems += [e["message"] for e in exc.errors or []]
    if spec.roles and spec.kind != "staff":
        problems.append("only staff accounts have roles")
    if spec.phone and normalize_phone(spec.phone) is None:
        problems.append("phone is not a mainland mobile number")
    return problems


def parse_accounts_csv(text: str) -> list[AccountIn]:
    """Rows of `name,username,roles,department,phone[,kind]` (roles separated by `;`); 400 naming every bad row."""
    try:
        return _parse_accounts(text)
    except csv.Error as exc:
        raise ProblemError(ErrorCode.MALFORMED_BODY, f"The CSV cannot be read: {exc}.") from None


def _parse_accounts(text: str) -> list[AccountIn]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    missing = {"name", "username"} - set(reader.fieldnames or [])
    if missing:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The CSV needs a header row.",
                           errors=[{"field": "header", "message": f"missing column {c}"} for c in sorted(missing)])
    specs, errors, seen = [], [], set()
    for line, row in enumerate(reader, start=2):
        if line - 1 > BULK_MAX_ROWS:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, f"At most {BULK_MAX_ROWS} accounts per file.")
        raw = {"username": (row.get("username") or "").strip().lower(),
               "displayName": (row.get("name") or "").strip(),
               "kind": (row.get("kind") or "staff").strip() or "staff",
               "roles": [r.strip() for r in (row.get("roles") or "").replace(",", ";").split(";") if r.strip()],
               "department": (row.get("department") or "").strip() or None,
               "phone": (row.get("phone") or "").strip() or None}
        try:
            spec = msgspec.convert(raw, AccountIn)
        except msgspec.ValidationError as exc:
            errors.append({"field": f"line {line}", "message": str(exc)})
            continue
        problems = check_spec(spec) + (["username appears twice in the file"] if spec.username in seen else [])
        seen.add(spec.username)
        errors += [{"field": f"line {line}", "message": m} for m in problems]
        specs.append(spec)
    if errors:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Some rows are wrong; nothing was created.",
                           errors=errors)
    if not specs:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The file has no accounts.")
    return specs


async def account_office(conn: asyncpg.Connection, office_id: UUID | None) -> Any:
    """The office row the account routes work with: its id, its code (named in the account answered) and province
    (an account moves only within it)."""
    return await conn.fetchrow("select id, code, province from offices where id = $1", office_id)


async def _member(conn: asyncpg.Connection, p: Principal, user_id: UUID) -> Any:
    """An account of the caller's office, locked for the change; 404 for anyone else's."""
    row = await queries.user(conn, user_id=user_id, office_id=p.office_id, for_update=True)
    if row is None:
        raise ProblemError(ErrorCode.NOT_FOUND, "No such account.")
    return row


def _not_self(p: Principal, user: Any, what: str) -> None:
    if user["id"] == p.user_id:
        raise ProblemError(ErrorCode.CONFLICT, f"An admin cannot {what} their own account; ask another admin.")


async def move_account(conn: asyncpg.Connection, state: AppState, p: Principal, actor: Actor, user_id: UUID,
                       office_code: str) -> tuple[Any, str]:
    """Move a serving staff member of the caller's office to another office of its province, in the caller's
    transaction: roles cleared, waiting role requests rejected, sessions ended, both offices' audit trails told.
    Answers the account and its new office's code (404 for an unknown office, 409 for anyone else to move)."""
    user = await _member(conn, p, user_id)
    _not_self(p, user, "move")
    here = await account_office(conn, p.office_id)
    target = await conn.fetchrow(
        "select id, code from offices where code = $1 and province = $2 and retired_at is null",
        office_code, here["province"])
    if target is None:
        raise ProblemError(ErrorCode.NOT_FOUND, "No such office in this province.")
    if user["kind"] != "staff" or user["retired_at"] is not None or target["id"] == here["id"]:
        raise ProblemError(ErrorCode.CONFLICT, "Only a serving staff member moves, to another office.")
    since = await conn.fetchval("select max(to_at) from user_office_history where user_id = $1", user_id)
    await conn.execute(
        "insert into user_office_history (user_id, office_id, from_at, moved_by) values ($1, $2, $3, $4)",
        user_id, here["id"], since or user["created_at"], p.sub)
    await conn.execute("update role_requests set decision = 'rejected', decided_at = now(), decided_by = $2 "
                       "where user_id = $1 and decided_at is null", user_id, p.user_id)
    row = await conn.fetchrow("update users set office_id = $2, roles = '{}', updated_at = now() "
                              "where id = $1 returning *", user_id, target["id"])
    await revoke_sessions(state, conn, user_id)
    await emit(conn, "account.moved", {"user": str(user_id)}, office_id=target["id"])
    await record(conn, actor, "admin.user.moved_in", office_id=target["id"], object_type="user",
                 object_id=user_id, detail={"from": here["code"], "roles_before": list(user["roles"])})
    await record(conn, actor, "admin.user.moved_out", object_type="user", object_id=user_id,
                 detail={"to": target["code"], "roles_before": list(user["roles"])})
    return row, target["code"]


async def retire_account(conn: asyncpg.Connection, state: AppState, p: Principal, actor: Actor,
                         user_id: UUID) -> tuple[Any, str]:
    """Retire an account of the caller's office (never deleted: it stays for the audit trail), in the caller's
    transaction, and end its sessions. Answers the account and its office's code."""
    user = await _member(conn, p, user_id)
    _not_self(p, user, "retire")
    row = await conn.fetchrow(
        "update users set retired_at = coalesce(retired_at, now()), disabled_at = coalesce(disabled_at, now()),"
        " updated_at = now() where id = $1 returning *", user_id)
    await revoke_sessions(state, conn, user_id)
    await record(conn, actor, "admin.user.retired", object_type="user", object_id=user_id)
    office = await account_office(conn, p.office_id)
    return row, office["code"]


class AccountsController(Controller):
    """Creating accounts and their lifecycle. Every route works on the caller's office only (others: 404)."""

    path = "/admin/users"
    tags = ["admin"]
    security = [{"bearer": []}]

    @post("", operation_id="adminCreateUser", summary="Create an account with a one-time password",
          opt={"action": "admin.users.manage", "idempotency": "required",
               "location": "/api/v1/admin/users/{account[id]}"},
          responses=problem_docs(400, 401, 403, 409, 422))
    async def create(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[AccountIn]) -> Response[Any]:
        """Texts the one-time password when a phone is given, else shows it once. Needs an Idempotency-Key."""
        p = current_principal(request)
        problems = check_spec(data)
        if problems:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "Invalid account.",
                               errors=[{"field": "account", "message": m} for m in problems])
        sent: list[tuple[str, str, str]] = []
        secret = (await one_time_passwords(1))[0]

        async def work(conn: asyncpg.Connection) -> tuple[int, AccountCreated]:
            office = await account_office(conn, p.office_id)
            created, password, phone = await create_account(conn, state, p, data, office, actor_from(request, p),
                                                            secret)
            if phone:
                sent.append((phone, data.username, password))
            return 201, created

        response = await run_once(state.db, request, f"user:{p.sub}", msgspec.structs.asdict(data), work,
                                  kept=_without_secret)
        for phone, username, password in sent:
            await send_one_time_password(state, phone, username, password)
        response.headers.update(_NO_STORE)
        return response

    @post("/bulk", operation_id="adminCreateUsersFromCsv", summary="Create accounts from a CSV file",
          opt={"action": "admin.users.manage", "accepts": ("text/csv",), "idempotency": "required"},
          operation_class=_CsvBody,
          responses=problem_docs(400, 401, 403, 409, 415, 422))
    async def bulk(self, request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
        """The body is `text/csv`, UTF-8, with a header row `name,username,roles,department,phone[,kind]` (roles
        separated by `;`). All rows or none; each account gets a one-time password (texted, or shown once).
        Needs an Idempotency-Key."""
        p = current_principal(request)
        try:
            specs = parse_accounts_csv((await request.body()).decode("utf-8"))
        except UnicodeDecodeError:
            raise ProblemError(ErrorCode.MALFORMED_BODY, "The CSV must be UTF-8.") from None
        sent: list[tuple[str, str, str]] = []
        issued = await one_time_passwords(len(specs))

        async def work(conn: asyncpg.Connection) -> tuple[int, BulkCreated]:
            office, actor, created = await account_office(conn, p.office_id), actor_from(request, p), []
            sent.clear()
            for spec, secret in zip(specs, issued, strict=True):
                one, password, phone = await create_account(conn, state, p, spec, office, actor, secret)
                created.append(one)
                if phone:
                    sent.append((phone, spec.username, password))
            return 201, BulkCreated(created=created)

        response = await run_once(state.db, request, f"user:{p.sub}", [msgspec.structs.asdict(s) for s in specs],
                                  work, kept=_without_secret)
        for phone, username, password in sent:
            await send_one_time_password(state, phone, username, password)
        response.headers.update(_NO_STORE)
        return response

    @post("/{user_id:uuid}/password-reset", operation_id="adminResetPassword",
          summary="Give an account a new one-time password", opt={"action": "admin.users.manage"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def reset(self, request: Request[Any, Any, Any], state: AppState,
                    user_id: FromPath[UUID]) -> Response[OneTimePassword]:
        """The account must choose a new password at its next sign-in; all its sessions end now."""
        p = current_principal(request)
        password = one_time_password()
        async with state.db.transaction() as conn:
            user = await _member(conn, p, user_id)
            _not_self(p, user, "reset the password of")
            if user["retired_at"] is not None or user["username"] is None:
                raise ProblemError(ErrorCode.CONFLICT, "This account is retired or has no password.")
            await set_password(conn, user, password, one_time=True)
            await revoke_sessions(state, conn, user_id)
            phone = state.box.decrypt_text(user["phone_enc"], aad=b"phone") if user["phone_enc"] else None
            await record(conn, actor_from(request, p), "admin.user.password_reset", object_type="user",
                         object_id=user_id, detail={"delivery": "sms" if phone else "shown_once"})
        await state.limiter.clear(LOGIN_ACCOUNT, user["username"])
        if phone:
            await send_one_time_password(state, phone, user["username"], password)
            return Response(OneTimePassword(delivery="sms"), headers=_NO_STORE)
        return Response(OneTimePassword(delivery="shown_once", one_time_password=password), headers=_NO_STORE)

    @post("/{user_id:uuid}/move", operation_id="adminMoveUser", summary="Move a staff member to another office",
          opt={"action": "admin.users.manage"}, responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def move(self, request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID],
                   data: JSONBody[MoveIn]) -> AccountOut:
        """To an office of the same province. What the account did stays with the old office; its roles are
        cleared (the new office's admin gives them) and its sessions end."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            row, code = await move_account(conn, state, p, actor_from(request, p), user_id, data.office)
        return _account(row, code)

    @post("/{user_id:uuid}/retire", operation_id="adminRetireUser", summary="Retire an account (never deleted)",
          opt={"action": "admin.users.manage"}, responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def retire(self, request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID]) -> AccountOut:
        """The account can no longer sign in and its sessions end; it stays for the audit trail."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            row, code = await retire_account(conn, state, p, actor_from(request, p), user_id)
        return _account(row, code)

    @post("/{user_id:uuid}/unlock", operation_id="adminUnlockUser", summary="Lift the sign-in failure lock-out",
          opt={"action": "admin.users.manage"}, responses=problem_docs(400, 401, 403, 404), status_code=204)
    async def unlock(self, request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID]) -> None:
        """The account may try again at once (the failures stay on the audit trail)."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            user = await _member(conn, p, user_id)
            await record(conn, actor_from(request, p), "admin.user.unlocked", object_type="user", object_id=user_id)
        if user["username"]:
            await state.limiter.clear(LOGIN_ACCOUNT, user["username"])


async def change_own_password(state: AppState, actor: Actor, p: Principal, old_password: str,
                              new_password: str) -> TokenResponse:
    """Check the current password, set the new one under the office's policy, end every session of the account
    (this one too) and answer a new sign-in for the caller's device (the API route and the console both use it)."""
    if p.kind not in _AUDIENCE:
        raise ProblemError(ErrorCode.FORBIDDEN, "This account signs in without a password.")
    user = await confirm_password(state, p, old_password, field="oldPassword")
    async with state.db.transaction() as conn:
        await set_password(conn, user, new_password, one_time=False)
        families = {r["family_id"] for r in await conn.fetch(
            "update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null "
            "returning family_id", p.user_id)}
        fresh = await conn.fetchrow(
            """
            select u.*, (o.require_totp or u.totp_required) and u.totp_confirmed_at is null and u.kind = 'staff'
                   as enrol
            from users u join offices o on o.id = u.office_id where u.id = $1
            """, p.user_id)
        response, _ = await issue_for_user(conn, state.keyring, user=fresh, audience=_AUDIENCE[p.kind],
                                           device_id=p.device_id, mfa_pending=fresh["enrol"], amr=["pwd"])
        await record(conn, actor, "auth.password.changed", object_type="user", object_id=p.user_id,
                     detail={"sessions_revoked": len(families), "was_one_time": user["must_change_password"]})
    # Access tokens carry their sign-in's family: refusing the families ends them within a second everywhere.
    for family in {*map(str, families), *([p.family] if p.family else [])}:
        await state.revocations.deny_family(family)
    await state.revocations.deny_token(p.jti, p.exp)
    return response


@post("/auth/password", operation_id="authChangePassword", tags=["auth"], summary="Change one's own password",
      opt={"action": AUTHENTICATED, "allow_mfa_pending": True, "allow_password_change": True},
      responses=problem_docs(400, 401, 403, 429), security=[{"bearer": []}], status_code=200)
async def change_password(request: Request[Any, Any, Any], state: AppState,
                          data: JSONBody[PasswordChange]) -> Response[TokenResponse]:
    """The current password is required. Every session of the account ends, this one too; the answer is a new
    sign-in for this device (limited to second-factor enrolment while the office requires it and none is set)."""
    p = current_principal(request)
    response = await change_own_password(state, actor_from(request, p), p, data.old_password, data.new_password)
    return Response(response, headers=_NO_STORE)


account_routes: list[ControllerRouterHandler] = [AccountsController, change_password]
