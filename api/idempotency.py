"""Idempotency-Key: a retried command gets the first answer again, and runs once, even when retries race."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Response

from api.db import holding_writes, send_held_writes, with_held_writes
from api.errors import ErrorCode, ProblemError
from api.headers import created_location

if TYPE_CHECKING:
    import asyncpg
    from litestar import Request

    from auth.secretbox import SecretBox

__all__ = ("Replay", "answered", "begin", "fingerprint", "finish", "idempotency_key", "run_once", "use_answer_key")

_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")
HEADER_DOC = "A client-chosen unique key per command (8-200 of A-Z a-z 0-9 . _ : -), reused on every retry."


_answer_box: SecretBox | None = None
_SEALED = b"\x01"  # SecretBox's version byte; an answer stored in the clear starts with "{" or "["


def use_answer_key(box: SecretBox | None) -> None:
    """Seal stored answers with the service key (a worker sets this at start): an answer may hold personal data
    or a secret the caller is shown again on a retry, such as an anonymous filer's query code."""
    global _answer_box
    _answer_box = box


def _aad(scope: str, key: str) -> bytes:
    # Bound to its key: an answer copied onto another key's row does not open.
    return f"idempotency:{scope}|{key}".encode()


def _seal(scope: str, key: str, body: bytes) -> bytes:
    return _answer_box.encrypt(body, aad=_aad(scope, key)) if _answer_box is not None else body


def _open(scope: str, key: str, stored: bytes) -> bytes:
    if stored[:1] == _SEALED and _answer_box is not None:
        return _answer_box.decrypt(stored, aad=_aad(scope, key))
    return stored  # stored before answers were sealed


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored answer to a command already carried out."""

    status: int
    body: bytes


def idempotency_key(request: Request[Any, Any, Any]) -> str:
    """The Idempotency-Key header, required on every create; 400 when missing or malformed."""
    key = request.headers.get("idempotency-key")
    if key is None:
        raise ProblemError(ErrorCode.IDEMPOTENCY_KEY_REQUIRED, "Send an Idempotency-Key header with this request.",
                           errors=[{"field": "Idempotency-Key", "message": "required", "source": "header"}])
    if not _KEY.match(key):
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The Idempotency-Key header is malformed.",
                           errors=[{"field": "Idempotency-Key", "message": HEADER_DOC, "source": "header"}])
    return key


def fingerprint(route: str, payload: Any) -> bytes:
    """A digest of what was asked: the route and the decoded body (so whitespace or key order do not matter)."""
    return hashlib.sha256(route.encode() + b"\0" + msgspec.json.encode(payload, order="sorted")).digest()


def _scoped(request: Request[Any, Any, Any], scope: str, payload: Any) -> tuple[str, bytes]:
    """The key's scope (caller and route template) and the request's fingerprint: written once, used everywhere."""
    route = f"{request.method} {request.scope.get('path_template') or request.url.path}"
    return f"{scope}|{route}", fingerprint(route + request.url.path, payload)


async def answered(conn: asyncpg.Connection, request: Request[Any, Any, Any], scope: str, payload: Any) -> bool:
    """Whether the request's Idempotency-Key already has a stored answer for this very payload (so `run_once`
    will replay it, and costly work before it, such as storing an upload, can be skipped)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return False
    key_scope, request_hash = _scoped(request, scope, payload)
    return bool(await conn.fetchval(
        "select status is not null from idempotency_keys where scope = $1 and key = $2 and request_hash = $3",
        key_scope, key, request_hash))


async def begin(conn: asyncpg.Connection, scope: str, key: str, request_hash: bytes) -> Replay | None:
    """Claim the key inside the command's transaction, or return the earlier answer.

    A concurrent duplicate blocks on the key's row until the first transaction ends, then sees its answer:
    so racing retries produce one record. The same key with another body is a 422.
    """
    claimed = await conn.fetchval(
        "insert into idempotency_keys (scope, key, request_hash) values ($1, $2, $3) "
        "on conflict do nothing returning true",
        scope, key, request_hash,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        "select request_hash, status, response from idempotency_keys where scope = $1 and key = $2",
                              scope, key)
    if row["request_hash"] != request_hash:
        raise ProblemError(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                           "This Idempotency-Key was used for a different request; use a new key.")
    if row["status"] is None:
        raise ProblemError(ErrorCode.IDEMPOTENCY_IN_PROGRESS, "The first request with this key is still running.",
                           headers={"Retry-After": "1"})
    return Replay(row["status"], _open(scope, key, row["response"]))


async def finish(conn: asyncpg.Connection, scope: str, key: str, status: int, body: bytes) -> None:
    """Store the answer with the key, sealed, in the same transaction as the work (and the writes the work held
    back for its last statement, such as its audit row)."""
    sql, args = with_held_writes(conn, "update idempotency_keys set status = $3, response = $4 "
                                       "where scope = $1 and key = $2", (scope, key, status, _seal(scope, key, body)))
    await conn.execute(sql, *args)


async def run_once(
    db: Any, request: Request[Any, Any, Any], scope: str, payload: Any,
    work: Callable[..., Awaitable[tuple[int, Any]]], *, required: bool = True,
    authorize: Callable[[asyncpg.Connection], Awaitable[Any]] | None = None,
    kept: Callable[[Any], Any] | None = None,
) -> Response[Any]:
    """Run `work` in one transaction guarded by the request's Idempotency-Key; a retry gets the stored answer.

    `authorize(conn)`, when given, runs first in that transaction: it finds the object (404 for anyone else),
    counts rate limits and checks rights, so a stored answer is replayed only to a caller who may still do the
    command; what it returns is handed to `work(conn, found)`. Every command on an existing object passes one.
    `work` returns (status, body struct); the body is encoded once, stored with the key and sent; a 201 carries
    the Location the route's `opt["location"]` template names.
    Without `required`, a request with no key simply runs. `kept` gives the body to store for a retry when the
    answer holds a secret shown only once (a one-time password): the retry gets the answer without it.
    """
    key = idempotency_key(request) if required or "idempotency-key" in request.headers else None
    key_scope, request_hash = _scoped(request, scope, payload)
    async with db.transaction() as conn:
        with holding_writes(conn):
            found = await authorize(conn) if authorize is not None else None
            if key is not None:
                replay = await begin(conn, key_scope, key, request_hash)
                if replay is not None:
                    await send_held_writes(conn)  # what `authorize` recorded stands, as it would have without holding
                    where = created_location(request, msgspec.json.decode(replay.body)) if replay.status == 201 else {}
                    return Response(replay.body, status_code=replay.status, media_type="application/json",
                                    headers={"Idempotent-Replayed": "true", **where})
            status, body = await (work(conn, found) if authorize is not None else work(conn))
            encoded = msgspec.json.encode(body)
            if key is not None:
                await finish(conn, key_scope, key, status, msgspec.json.encode(kept(body)) if kept else encoded)
            else:
                await send_held_writes(conn)
    return Response(encoded, status_code=status, media_type="application/json",
                    headers=created_location(request, body) if status == 201 else None)
