"""Files attached to any module's subjects over HTTP: multipart upload into storage, and download of what each
caller may see.

The bytes go through `modules.attachments.service.ingest` (sniffed type, policy, hash, EXIF-free public copy) and
are written to storage *before* the command's transaction: a photo is decoded and a 200 MiB video hashed and
written without holding a row lock or a pooled connection. The metadata row, the timeline event, the outbox event
and the audit record then land in one transaction; when it does not commit (or a retry is answered from the
Idempotency-Key), the objects just written are deleted again, so storage keeps no file no row points at.

Staff download the original exactly as received (EXIF kept: the location is evidence). The public party (a
complainant signed in or with the query code) only ever gets the public variant (an image re-encoded without
metadata, or the original of a file that carries no location), and never a file staff attached (that stays internal,
like their notes).
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote
from uuid import UUID

from litestar import Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body
from litestar.response import Stream

from api.errors import ErrorCode, ProblemError, conflict, not_found
from api.headers import NOT_MODIFIED, matches_etag
from api.idempotency import answered, idempotency_key, run_once
from api.schema import Output
from api.state import AppState
from auth.audit import actor_from, record
from modules.attachments.policy import MIB
from modules.attachments.sealed import SealedStorage
from modules.attachments.service import AttachmentRejected, StoredAttachment, ingest, sha256_of
from modules.attachments.sniff import sniff
from modules.attachments.storage import LocalStorage, ObjectNotFound, Storage
from modules.kernel.timeline import add_event

if TYPE_CHECKING:
    import asyncpg
    from litestar import Request

    from auth.principal import Principal
    from modules.kernel.steps import Subject

__all__ = (
    "DOWNLOAD_RESPONSES", "FROM_PUBLIC", "UPLOAD_MAX_BODY", "UPLOAD_OPT", "AttachmentOut", "AttachmentUpload",
    "UploadForm", "attachment_out",
    "attachment_row", "attachments", "download", "storage", "upload",
)

log = logging.getLogger("jianwu.files")

# The largest file the policy takes is a 200 MiB video; the rest is room for the multipart framing.
UPLOAD_MAX_BODY = 210 * MIB
UPLOAD_OPT: dict[str, Any] = {"accepts": ("multipart/form-data",), "idempotency": "required"}
DOWNLOAD_RESPONSES = {
    200: ResponseSpec(data_container=bytes, media_type="application/octet-stream", generate_examples=False,
                      description="The file; `Content-Type` is its real type, `ETag` its SHA-256."),
    **NOT_MODIFIED,
}

# AttachmentRejected codes -> HTTP status; the code itself is the problem's `code`.
# Other spellings of an extension the sniffed type names, kept when a declared name already ends with one.
_ALIASES = {"jpg": {"jpeg", "jpe", "jfif"}, "mp4": {"m4v"}, "mov": {"qt"}, "ogg": {"oga"}, "heic": {"heif"},
            "heif": {"heic"}}
_MEDIA_EXTENSIONS = {"jpg", "jpeg", "jpe", "jfif", "png", "webp", "heic", "heif", "pdf", "mp3", "m4a", "aac", "amr",
                     "awb", "wav", "ogg", "oga", "opus", "mp4", "m4v", "mov", "qt"}


@dataclass
class AttachmentUpload:
    """The multipart form of an upload: one file in the field `file` (its type is read from the bytes)."""

    file: UploadFile


# A route's upload body: multipart with one file in the field `file`; its type is sniffed from the bytes, never taken
# from here.
UploadForm = Annotated[AttachmentUpload, Body(media_type=RequestEncodingType.MULTI_PART,
                                              description="One file in the form field `file`.")]


class AttachmentOut(Output):
    """A file attached to an item."""

    id: UUID
    media_type: str
    size: int
    sha256: str
    created_at: datetime
    captured_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


def attachment_out(r: Any, *, staff: bool) -> AttachmentOut:
    """One attachment as shown; where and when a photo was taken stays with staff (the public never sees EXIF)."""
    return AttachmentOut(id=r["id"], media_type=r["media_type"], size=r["size"], sha256=r["sha256"],
                         created_at=r["created_at"], captured_at=r["captured_at"] if staff else None,
                         latitude=r["latitude"] if staff else None, longitude=r["longitude"] if staff else None)


# Files staff attach are internal, like their notes: the public side never lists or downloads them
# (uploaded_by is "citizen:<id>", "anonymous" or "staff:<id>"; a row of unknown origin counts as internal).
FROM_PUBLIC = "uploaded_by not like 'staff:%'"


async def attachments(conn: asyncpg.Connection, subject_id: UUID, *, staff: bool) -> list[AttachmentOut]:
    """A subject's files as its viewer may see them, oldest first."""
    rows = await conn.fetch("select * from attachments where subject_id = $1"
                            + ("" if staff else f" and {FROM_PUBLIC}") + " order by created_at, id", subject_id)
    return [attachment_out(r, staff=staff) for r in rows]


async def attachment_row(conn: asyncpg.Connection, subject_id: UUID, attachment_id: UUID, *, public: bool) -> Any:
    """An attachment of a subject the caller may already see; for the public only one they may download (a public
    variant exists and staff did not attach it). Anything else is 404."""
    row = await conn.fetchrow(
        "select * from attachments where id = $1 and subject_id = $2"
        + (f" and public_key is not null and {FROM_PUBLIC}" if public else ""), attachment_id, subject_id)
    if row is None:
        raise not_found("No such attachment.")
    return row


def storage(state: AppState) -> Storage:
    """This worker's attachment store, made on first use: `<JIANWU_DATA_DIR>/uploads`, every object sealed with a
    key derived from the service secret (encrypted at rest)."""
    store = state.get("attachment_storage")
    if store is None:
        store = state.attachment_storage = SealedStorage(LocalStorage.in_data_dir(state.settings.data_path),
                                                         state.box.subkey("attachments-at-rest"))
    return store


def _check_open(subject: Subject, row: Any) -> None:
    if subject.workflow.is_terminal(row["state"]):
        raise conflict(f"The item is {row['state']}; no more files can be attached.")


def _rejected(exc: AttachmentRejected) -> ProblemError:
    return ProblemError(ErrorCode.of(exc.code), exc.detail)


async def _delete(store: Storage, stored: StoredAttachment) -> None:
    for key in {stored.original_key, stored.public_key} - {None}:
        try:
            await store.delete(key)  # type: ignore[arg-type]  # None was taken out of the set above
        except Exception:  # best effort: an orphan is logged, the request's own error stands
            log.warning("could not delete orphaned attachment object %s", key, exc_info=True)


async def _cleanup(state: AppState, store: Storage, stored: StoredAttachment, *, maybe_committed: bool) -> None:
    """Delete the objects of an upload whose transaction did not commit.

    When the failure came after the work had finished (during COMMIT), the commit may have happened anyway: the
    objects are deleted only once the database confirms no row points at them, since a row without its file
    would be lost evidence, while an orphaned file is only wasted space."""
    if maybe_committed:
        try:
            async with state.db.connection() as conn:
                kept = await conn.fetchval(
                    "select exists (select 1 from attachments where original_key = $1)", stored.original_key)
        except Exception:
            log.warning("attachment %s left in storage: could not tell whether its row committed",
                        stored.original_key, exc_info=True)
            return
        if kept:
            return
    await _delete(store, stored)


async def _save(conn: asyncpg.Connection, subject: Subject, request: Request[Any, Any, Any],
                principal: Principal | None, row: Any, stored: StoredAttachment, *, public: bool) -> AttachmentOut:
    """The metadata row, a timeline event, the outbox event and the audit record, in the caller's transaction."""
    uploaded_by = f"{principal.kind}:{principal.sub}" if principal is not None else "anonymous"
    place = stored.location
    att = await conn.fetchrow(
        """
        insert into attachments (module, subject_id, uploaded_by, media_type, category, size, sha256,
            original_key, public_key, captured_at, latitude, longitude, declared_name)
        values ($13, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        returning *
        """,
        row["id"], uploaded_by, stored.media_type, stored.category, stored.size, stored.sha256, stored.original_key,
        # public_key holds what the public may be served: the stripped copy, the original of a file without a
        # location, or nothing.
        stored.public_source, stored.captured_at, place.lat if place else None, place.lon if place else None,
        stored.declared_name, subject.module)
    actor = actor_from(request, principal)
    info = {"attachmentId": str(att["id"]), "mediaType": stored.media_type, "size": stored.size,
            **({"dropped": list(stored.notes)} if stored.notes else {})}
    await add_event(conn, subject.module, row["id"], actor, "attachment", public=public, data=info)
    await conn.execute(f"update {subject.table} set updated_at = now() where id = $1", row["id"])
    await subject.notify(conn, row, f"{subject.kind}.attachment_added", False, {"attachmentId": str(att["id"])})
    await record(conn, actor, f"{subject.kind}.attachment_added", office_id=row["office_id"],
                 object_type=subject.kind, object_id=row["id"], detail={**info, "sha256": stored.sha256,
                                                                       "public": public})
    return attachment_out(att, staff=not public)


async def upload(
    state: AppState, request: Request[Any, Any, Any], form: AttachmentUpload, *, subject: Subject, scope: str,
    principal: Principal | None, row: Any, relock: Callable[[asyncpg.Connection], Awaitable[Any]], public: bool,
) -> Response[Any]:
    """Store an upload for the subject `row` (already found and access-checked by the route) and record it.

    `relock` finds the item again, locked, inside the transaction; `public` says whether the complainant's side
    uploads (public timeline event) or staff (internal). Requires an Idempotency-Key."""
    idempotency_key(request)  # 400 before any work when it is missing or malformed
    file = form.file
    # The upload is spooled to a temporary file by the multipart parser; it is hashed and stored from there a
    # chunk at a time, never copied whole into memory (a 200 MiB video costs a megabyte, not 200).
    try:
        digest, size = await asyncio.to_thread(sha256_of, file.file)
        # What was asked, for the Idempotency-Key: the file's content hash, size and declared name, not its bytes.
        payload = {"sha256": digest, "size": size, "name": file.filename}
        async with state.db.connection() as conn:
            done = await answered(conn, request, scope, payload)
        store = storage(state)
        stored: StoredAttachment | None = None
        if not done:
            _check_open(subject, row)
            try:
                stored = await ingest(store, file.file, declared_name=file.filename, hashed=(digest, size))
            except AttachmentRejected as exc:
                raise _rejected(exc) from None
    finally:
        await file.close()
    finished = False

    async def work(conn: asyncpg.Connection, current: Any) -> tuple[int, AttachmentOut]:
        nonlocal finished
        if stored is None:  # the stored answer vanished between the look-up and now
            raise ProblemError(ErrorCode.CONFLICT, "Send the file again.")
        _check_open(subject, current)
        out = await _save(conn, subject, request, principal, current, stored, public=public)
        finished = True
        return 201, out

    try:
        response = await run_once(state.db, request, scope, payload, work, authorize=relock)
    except BaseException:
        if stored is not None:
            await asyncio.shield(_cleanup(state, store, stored, maybe_committed=finished))
        raise
    if stored is not None and not finished:
        # A concurrent request with the same key stored this upload first; ours is a duplicate.
        await asyncio.shield(_delete(store, stored))
    return response


def _download_name(declared: str | None, attachment_id: Any, extension: str | None) -> str:
    name = declared or f"attachment-{str(attachment_id)[:8]}"
    if extension:
        path = PurePosixPath(name)
        suffix = path.suffix[1:].lower()
        if suffix != extension and suffix not in _ALIASES.get(extension, ()):
            # The served type decides the extension: "photo.html" holding a JPEG is saved as "photo.html.jpg".
            stem = path.stem if suffix in _MEDIA_EXTENSIONS else name
            name = f"{stem}.{extension}"
    return name


def _disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, and the real (e.g. Chinese) name as RFC 5987 UTF-8."""
    def ascii_only(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return "".join(c if c.isalnum() or c in "-_() " else "_" for c in text).strip(" _")

    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    fallback = (ascii_only(stem) or "attachment") + (f".{ascii_only(extension)}" if ascii_only(extension) else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def download(state: AppState, request: Request[Any, Any, Any], att: Any, *, original: bool) -> Response[Any]:
    """Stream the original (staff) or the public variant of an attachment row the route has already authorised."""
    key = att["original_key"] if original else att["public_key"]
    if key is None:
        raise not_found("No such attachment.")
    # The public copy of an image is different bytes from the original, so it gets an entity tag of its own.
    etag = f'"{att["sha256"]}"' if key == att["original_key"] else f'"{att["sha256"]}-public"'
    headers = {"ETag": etag, "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if matches_etag(request, etag):
        return Response(b"", status_code=304, headers=headers)
    chunks = storage(state).open(key)
    try:
        first = await anext(chunks, b"")
    except ObjectNotFound:
        log.error("attachment %s has no stored object %s", att["id"], key)
        raise not_found("No such attachment.") from None
    sniffed = sniff(first)
    if key == att["original_key"]:
        media_type = att["media_type"]
    else:  # the public copy's own type (a HEIC photo is published as JPEG)
        media_type = sniffed.media_type if sniffed else "application/octet-stream"
    headers["Content-Disposition"] = _disposition(
        _download_name(att["declared_name"], att["id"], sniffed.extension if sniffed else None))
    if key == att["original_key"]:
        headers["Content-Length"] = str(att["size"])

    async def body() -> AsyncIterator[bytes]:
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]  # the storage's chunk iterators are async generators, which have aclose()

    return Stream(body(), media_type=media_type, headers=headers)
