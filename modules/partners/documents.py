"""Document exchange with partner agencies: a typed message either way, signed for on receipt by the receiving side
(the time recorded), answered where its kind asks. Kinds are rows of partner_message_kinds, not code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from api.errors import ErrorCode, ProblemError, conflict
from auth.audit import Actor, record
from modules.kernel import steps
from modules.kernel.files import AttachmentOut, attachment_out
from modules.kernel.steps import Subject
from modules.kernel.timeline import add_event
from modules.partners.notices import notifier
from modules.partners.rules import MESSAGE
from modules.partners.schemas import DocumentAnswerIn, DocumentIn, DocumentOut

if TYPE_CHECKING:
    import asyncpg

__all__ = ("DIRECTION", "SUBJECT", "answer", "not_sender", "send", "sign", "view")

# Which way a document goes, by the side that sends it.
DIRECTION = {"office": "to_partner", "partner": "to_office"}


def not_sender() -> ProblemError:
    """The 409 for adding files to a document the other side sent."""
    return conflict("Files are attached by the side that sent the document.")


_notify = notifier("partner.document", "documentId")


SUBJECT = Subject(module="partners", table="partner_messages", kind="document", workflow=MESSAGE,
                  field_columns={"receivedBy": "received_by", "receivedAt": "received_at"}, notify=_notify,
                  category={"code": "t.kind",
                            "label": "(select k.label_zh from partner_message_kinds k where k.code = t.kind)"})


async def send(conn: asyncpg.Connection, actor: Actor, *, client: Any, side: str, data: DocumentIn,
               reply_to: Any = None) -> Any:
    """Send a document of a kind this agency exchanges, in a direction the kind allows. Returns the new row."""
    direction = DIRECTION[side]
    kind = await conn.fetchrow("select * from partner_message_kinds where code = $1", data.kind)
    if kind is None or client["agency_kind"] not in kind["agency_kinds"]:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "This agency exchanges no documents of that kind.",
                           errors=[{"field": "kind", "message": "see the message kinds list"}])
    if reply_to is None and kind["direction"] not in ("either", direction):
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Documents of this kind go the other way.",
                           errors=[{"field": "kind", "message": f"sent {kind['direction']} only"}])
    row = await conn.fetchrow(
        "insert into partner_messages (office_id, client_uuid, kind, direction, subject, body, reply_to, created_by) "
        "values ($1, $2, $3, $4, $5, $6, $7, $8) returning *",
        client["office_id"], client["id"], data.kind, direction, data.subject, data.body,
        reply_to["id"] if reply_to is not None else None, actor.id or "system")
    await add_event(conn, "partners", row["id"], actor, "sent", public=True, data={"direction": direction})
    await _notify(conn, row, "document.sent", True)
    await record(conn, actor, "document.sent", office_id=row["office_id"], object_type="document",
                 object_id=row["id"], detail={"kind": data.kind, "direction": direction,
                                              "client": client["client_id"]})
    return row


def _receiver(row: Any, side: str) -> None:
    if DIRECTION[side] == row["direction"]:
        raise conflict("The receiving side signs for and answers a document, not its sender.")


async def sign(conn: asyncpg.Connection, actor: Actor, row: Any, *, side: str) -> Any:
    """Sign for a document received (the time of receipt recorded); once only (409 after)."""
    _receiver(row, side)
    now = datetime.now(UTC)
    return await steps.apply(conn, SUBJECT, actor, row, "sign" if side == "partner" else "sign_office",
                             {"receivedBy": actor.id, "receivedAt": now},
                             event_data={"receivedAt": now.isoformat()})


async def answer(conn: asyncpg.Connection, actor: Actor, row: Any, *, side: str, client: Any,
                 data: DocumentAnswerIn) -> Any:
    """Answer a signed-for document whose kind asks for an answer; the answer is a document of its own."""
    _receiver(row, side)
    if not row["needs_answer"]:
        raise conflict("Documents of this kind are not answered.")
    reply = await send(conn, actor, client=client, side=side, reply_to=row,
                       data=DocumentIn(kind=row["kind"], subject=data.subject, body=data.body))
    await steps.apply(conn, SUBJECT, actor, row, "answer" if side == "partner" else "answer_office", {},
                      event_data={"answerId": str(reply["id"])})
    return reply


def view(row: Any, files: list[AttachmentOut] | None = None) -> DocumentOut:
    """A document as both sides see it, with its files: a list's, read for its whole page, or the file rows of a
    single read (`queries.message_read`)."""
    return DocumentOut(
        id=row["id"], client_id=row["client_id"], kind=row["kind"], kind_label=row["kind_label"],
        direction=row["direction"], subject=row["subject"], body=row["body"], state=row["state"],
        needs_answer=row["needs_answer"], reply_to=row["reply_to"], answer_id=row["answer_id"],
        received_at=row["received_at"], created_at=row["created_at"],
        attachments=files if files is not None else [attachment_out(a, staff=True) for a in row["attachments"]])
