"""The one error the attachment layer raises for a file it will not take, with a stable machine-readable code."""

from __future__ import annotations

from typing import Literal

__all__ = ("REJECTION_CODES", "AttachmentRejected", "RejectionCode")

RejectionCode = Literal["empty", "unsupported_type", "too_large", "unreadable_image"]
REJECTION_CODES: tuple[RejectionCode, ...] = ("empty", "unsupported_type", "too_large", "unreadable_image")


class AttachmentRejected(ValueError):
    """A file refused as uploaded; the HTTP layer maps `code` to a status (e.g. 415, 413, 422)."""

    def __init__(self, code: RejectionCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code: RejectionCode = code
        self.detail = detail
