"""Which sniffed types an upload may be, and how large per category."""

from __future__ import annotations

import msgspec

from modules.attachments.errors import AttachmentRejected
from modules.attachments.sniff import Category, SniffedType

__all__ = ("DEFAULT_POLICY", "MIB", "AttachmentPolicy", "AttachmentRejected")

MIB = 1024 * 1024


class AttachmentPolicy(msgspec.Struct, frozen=True):
    """Size limits per category and the media types allowed; a category without a limit is not accepted."""

    max_bytes_by_category: dict[Category, int]
    allowed_media_types: frozenset[str]

    def check(self, sniffed: SniffedType | None, size: int) -> None:
        """Raise AttachmentRejected unless a file of this type and size may be stored."""
        if size <= 0:
            raise AttachmentRejected("empty", "the file is empty")
        if sniffed is None or sniffed.media_type not in self.allowed_media_types:
            what = "its content matches no accepted format" if sniffed is None else f"{sniffed.media_type} files"
            raise AttachmentRejected("unsupported_type", f"not accepted: {what}")
        limit = self.max_bytes_by_category.get(sniffed.category)
        if limit is None:
            raise AttachmentRejected("unsupported_type", f"not accepted: {sniffed.category} files")
        if size > limit:
            raise AttachmentRejected(
                "too_large", f"{sniffed.category} files may be at most {_size(limit)}; this one is {_size(size)}",
            )


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} bytes"


# Field evidence from phones: photos, voice recordings and short videos, plus PDFs of documents.
DEFAULT_POLICY = AttachmentPolicy(
    max_bytes_by_category={"image": 20 * MIB, "audio": 50 * MIB, "video": 200 * MIB, "document": 20 * MIB},
    allowed_media_types=frozenset({
        "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif",
        "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/amr-wb", "audio/wav", "audio/ogg",
        "video/mp4", "video/quicktime",
        "application/pdf",
    }),
)
