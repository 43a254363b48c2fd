"""RFC 9457 problem details: one error type, stable codes, and the handlers that turn every failure into one."""

from __future__ import annotations

import logging
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Self, cast

import asyncpg
import msgspec
import redis.exceptions
from litestar import Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

if TYPE_CHECKING:
    from litestar import Request

__all__ = (
    "DB_DOWN_ERRORS", "PROBLEM_JSON", "ErrorCode", "FieldError", "Problem", "ProblemError", "conflict",
    "exception_handlers", "forbidden", "invalid", "not_found", "problem_docs",
)

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("jianwu.errors")


class ErrorCode(str, Enum):
    """Every machine-readable error code a client can meet, with the status it is answered with; the value never
    changes once released."""

    status: int

    def __new__(cls, value: str, status: int) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        return member

    @classmethod
    def of(cls, value: str) -> ErrorCode:
        """The code with this wire value (ValueError for a value no code has)."""
        member = cls._value2member_map_.get(value)
        if member is None:
            raise ValueError(f"no error code {value!r}")
        return cast("ErrorCode", member)

    VALIDATION_FAILED = "validation_failed", 400
    MALFORMED_BODY = "malformed_body", 400
    UNAUTHENTICATED = "unauthenticated", 401
    INVALID_TOKEN = "invalid_token", 401
    FORBIDDEN = "forbidden", 403
    NOT_FOUND = "not_found", 404
    METHOD_NOT_ALLOWED = "method_not_allowed", 405
    CONFLICT = "conflict", 409
    BODY_TOO_LARGE = "body_too_large", 413
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415
    UNPROCESSABLE = "unprocessable", 422
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused", 422
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required", 400
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress", 409
    RATE_LIMITED = "rate_limited", 429
    MODULE_DISABLED = "module_disabled", 403
    WEAK_PASSWORD = "weak_password", 400
    PASSWORD_REUSED = "password_reused", 400
    PASSWORD_CHANGE_REQUIRED = "password_change_required", 403
    APPROVAL_REQUIRED = "approval_required", 403
    WRONG_PASSWORD = "wrong_password", 403
    UPSTREAM_UNAVAILABLE = "upstream_unavailable", 503
    INTERNAL = "internal_error", 500
    DATABASE_UNAVAILABLE = "database_unavailable", 503
    CACHE_UNAVAILABLE = "cache_unavailable", 503
    # Files refused as uploaded (modules/attachments).
    EMPTY_FILE = "empty", 422
    UNSUPPORTED_TYPE = "unsupported_type", 415
    FILE_TOO_LARGE = "too_large", 413
    UNREADABLE_IMAGE = "unreadable_image", 422
    # The OAuth token endpoint's own codes (RFC 6749 §5.2), sent as `code` and as `error`.
    INVALID_REQUEST = "invalid_request", 400
    INVALID_CLIENT = "invalid_client", 401
    INVALID_GRANT = "invalid_grant", 400
    UNAUTHORIZED_CLIENT = "unauthorized_client", 400
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type", 400
    INVALID_SCOPE = "invalid_scope", 400
    SERVER_ERROR = "server_error", 502
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable", 503
    # Any other refusal by the HTTP layer (a status none of the above names).
    REQUEST_REFUSED = "request_refused", 400


_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(msgspec.Struct, omit_defaults=True):
    """One bad field of a request: where it was (`source`), its path and what is wrong with it."""

    field: str | None
    message: str | None
    source: Literal["body", "query", "header", "path", "cookie"] | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem details object as sent on the wire."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = msgspec.field(default=None, name="requestId")
    errors: list[FieldError] | None = None
    extra: dict[str, Any] | None = None
    # RFC 6749 §5.2 members, present on errors of the OAuth token endpoint so OAuth clients understand them.
    error: str | None = None
    error_description: str | None = None


class ProblemError(Exception):
    """Raise anywhere to answer a problem+json response with a stable code."""

    def __init__(
        self,
        code: ErrorCode,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        oauth: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(detail or code.value)
        # The code's own status; `status` only where the HTTP layer reports one no code names (request_refused).
        self.status = status or code.status
        self.code = code.value
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra
        self.oauth = oauth


def not_found(detail: str = "No such item.") -> ProblemError:
    """404 `not_found`: also the answer for what exists but the caller may not see."""
    return ProblemError(ErrorCode.NOT_FOUND, detail)


def conflict(detail: str, **extra: Any) -> ProblemError:
    """409 `conflict`: the request does not fit the current state."""
    return ProblemError(ErrorCode.CONFLICT, detail, extra=extra or None)


def forbidden(detail: str, **extra: Any) -> ProblemError:
    """403 `forbidden`: the caller's permission list does not allow this."""
    return ProblemError(ErrorCode.FORBIDDEN, detail, extra=extra or None)


def invalid(detail: str, *fields: tuple[str, str], source: str | None = None) -> ProblemError:
    """400 `validation_failed` naming each bad field as (field, message)."""
    errors = [{"field": f, "message": m, **({"source": source} if source else {})} for f, m in fields]
    return ProblemError(ErrorCode.VALIDATION_FAILED, detail, errors=errors)


_DOC = {
    400: "The request has invalid fields (`validation_failed`, each bad field named) or a malformed body.",
    401: "No valid access token (`unauthenticated`, `invalid_token`).",
    403: "The caller's rights do not allow this action (`forbidden`).",
    404: "No such resource visible to the caller (`not_found`); another office's data is reported the same way.",
    409: "The request conflicts with the current state (`conflict`).",
    413: "The body is larger than allowed (`body_too_large`).",
    415: "The body's media type is not accepted here (`unsupported_media_type`).",
    422: "The request is well-formed but cannot be carried out (`unprocessable`, `idempotency_key_reused`).",
    429: "Too many requests; see `Retry-After` (`rate_limited`).",
    500: "An unexpected error on our side (`internal_error`); the request id identifies it in the logs.",
    503: "PostgreSQL or Redis cannot be reached; retry after `Retry-After` seconds.",
}


def problem_docs(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries for the error statuses a route can answer, plus 500 and 503 which any can."""
    return {
        status: ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON, description=_DOC[status],
                             generate_examples=False)
        for status in sorted({*statuses, 500, 503})
    }


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    oauth: bool = False,
) -> Response[bytes]:
    """Build the problem+json response for one error."""
    request_id = request.scope.get("state", {}).get("request_id")
    body = Problem(
        type=f"urn:jianwu:problem:{code}",
        title=_TITLES.get(status, "Error"),
        status=status,
        code=code,
        detail=detail,
        instance=request.url.path,
        request_id=request_id,
        errors=None if errors is None else [FieldError(e.get("field"), e.get("message"), e.get("source"))
                                            for e in errors],
        extra=extra,
        error=code if oauth else None,
        error_description=detail if oauth else None,
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers or {},
    )


def _problem_error(request: Request[Any, Any, Any], exc: ProblemError) -> Response[bytes]:
    return problem_response(
        request, exc.status, exc.code, exc.detail, errors=exc.errors, headers=exc.headers, extra=exc.extra,
        oauth=exc.oauth,
    )


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    out = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = item.get("key") or ""
            # msgspec reports nested paths as `$.a.b`; clients want the field path alone.
            out.append({"field": str(field).removeprefix("$.") or None, "message": item.get("message"),
                        "source": item.get("source")})
    return out


def _http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException) or status == 400:
        errors = _validation_errors(exc) if isinstance(exc, ValidationException) else []
        if errors:
            return problem_response(request, 400, ErrorCode.VALIDATION_FAILED.value,
                                    "The request has invalid fields.", errors=errors)
        return problem_response(request, 400, ErrorCode.MALFORMED_BODY.value, _clean_detail(exc.detail))
    code = {
        401: ErrorCode.UNAUTHENTICATED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        405: ErrorCode.METHOD_NOT_ALLOWED,
        409: ErrorCode.CONFLICT,
        413: ErrorCode.BODY_TOO_LARGE,
        415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        422: ErrorCode.UNPROCESSABLE,
        429: ErrorCode.RATE_LIMITED,
        503: ErrorCode.DATABASE_UNAVAILABLE,
    }.get(status)
    if code is None:
        if status >= 500:
            return _internal(request, exc)
        code_value = ErrorCode.REQUEST_REFUSED.value
    else:
        code_value = code.value
    detail = _clean_detail(exc.detail)
    if isinstance(exc, NotFoundException):
        detail = "No such resource."
    elif isinstance(exc, MethodNotAllowedException):
        detail = f"{request.method} is not allowed here."
    elif isinstance(exc, NotAuthorizedException) and status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    elif isinstance(exc, PermissionDeniedException):
        detail = detail or "You may not do this."
    return problem_response(request, status, code_value, detail, headers=headers)


def _clean_detail(detail: str | None) -> str | None:
    if not detail:
        return None
    # Litestar's default details are the status phrase; they add nothing to our title.
    return None if detail in {"Not Found", "Internal Server Error", "Bad Request", "Unauthorized"} else detail


def _unavailable(request: Request[Any, Any, Any], code: ErrorCode, what: str, exc: Exception) -> Response[bytes]:
    log.warning("%s unavailable for %s %s (%s)", what, request.method, request.url.path, type(exc).__name__,
                extra={"request_id": request.scope.get("state", {}).get("request_id")})
    return problem_response(
        request, 503, code.value, f"{what} cannot be reached; try again shortly.", headers={"Retry-After": "2"}
    )


def _db_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return _unavailable(request, ErrorCode.DATABASE_UNAVAILABLE, "The database", exc)


def _cache_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return _unavailable(request, ErrorCode.CACHE_UNAVAILABLE, "The cache", exc)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc,
              extra={"request_id": request.scope.get("state", {}).get("request_id")})
    return problem_response(request, HTTP_500_INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL.value,
                            "Something went wrong on our side; the request id identifies it in our logs.")


def _raised_parsing_form(exc: Exception) -> bool:
    """Whether Litestar's multipart parser raised this: it decodes every part without a filename as text, so a
    binary part sent without one (or with an unknown charset) fails there, before any handler runs."""
    if not isinstance(exc, (UnicodeDecodeError, LookupError)):
        return False
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "litestar._multipart":
            return True
        tb = tb.tb_next
    return False


def _any_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if _raised_parsing_form(exc):
        return problem_response(request, 400, ErrorCode.MALFORMED_BODY.value,
                                "A form field is not text in its declared charset; send a file with a filename.")
    if isinstance(exc, asyncpg.CheckViolationError):
        # A value a table's own check refuses: a route should have said so first; the client still gets a 400.
        log.warning("value refused by a check constraint on %s %s: %s", request.method, request.url.path,
                    getattr(exc, "constraint_name", None))
        return problem_response(request, 400, ErrorCode.VALIDATION_FAILED.value,
                                "A value in the request is not allowed here.")
    if isinstance(exc, asyncpg.DataError):
        # A value the client sent that PostgreSQL cannot hold (a NUL character, an out-of-range number ...).
        log.info("value refused by PostgreSQL on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(request, 400, ErrorCode.VALIDATION_FAILED.value,
                                "A value in the request cannot be stored (for example a NUL character).")
    if isinstance(exc, DB_DOWN_ERRORS):
        return _db_unavailable(request, exc)
    if isinstance(exc, CACHE_DOWN_ERRORS):
        return _cache_unavailable(request, exc)
    if isinstance(exc, asyncpg.QueryCanceledError):
        return _db_unavailable(request, exc)
    return _internal(request, exc)


DB_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # Raised by a connection whose server shut down in the middle of an operation (asyncpg #784).
    asyncpg.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)
CACHE_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)

exception_handlers: dict[type[Exception] | int, Any] = {
    ProblemError: _problem_error,
    HTTPException: _http_exception,
    Exception: _any_exception,
}
