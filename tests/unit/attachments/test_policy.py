"""The default policy's limits and the stable rejection codes."""

from __future__ import annotations

import pytest

from modules.attachments.errors import AttachmentRejected
from modules.attachments.policy import DEFAULT_POLICY, MIB, AttachmentPolicy
from modules.attachments.sniff import SniffedType

JPEG = SniffedType("image/jpeg", "image", "jpg")
PDF = SniffedType("application/pdf", "document", "pdf")
MP3 = SniffedType("audio/mpeg", "audio", "mp3")
MP4 = SniffedType("video/mp4", "video", "mp4")
GIF = SniffedType("image/gif", "image", "gif")


@pytest.mark.parametrize(("kind", "limit"), [(JPEG, 20 * MIB), (PDF, 20 * MIB), (MP3, 50 * MIB), (MP4, 200 * MIB)])
def test_each_category_takes_up_to_its_limit_and_not_a_byte_more(kind: SniffedType, limit: int) -> None:
    DEFAULT_POLICY.check(kind, limit)
    with pytest.raises(AttachmentRejected) as rejected:
        DEFAULT_POLICY.check(kind, limit + 1)
    assert rejected.value.code == "too_large"
    assert kind.category in rejected.value.detail


@pytest.mark.parametrize("kind", [JPEG, None])
def test_empty_is_its_own_code(kind: SniffedType | None) -> None:
    with pytest.raises(AttachmentRejected) as rejected:
        DEFAULT_POLICY.check(kind, 0)
    assert rejected.value.code == "empty"


@pytest.mark.parametrize("kind", [None, GIF])
def test_unknown_or_unlisted_types_are_unsupported(kind: SniffedType | None) -> None:
    with pytest.raises(AttachmentRejected) as rejected:
        DEFAULT_POLICY.check(kind, 10)
    assert rejected.value.code == "unsupported_type"


def test_a_narrower_policy_refuses_what_it_does_not_list() -> None:
    photos_only = AttachmentPolicy(max_bytes_by_category={"image": MIB}, allowed_media_types=frozenset({"image/jpeg"}))
    photos_only.check(JPEG, MIB)
    for kind in (PDF, MP4):
        with pytest.raises(AttachmentRejected) as rejected:
            photos_only.check(kind, 10)
        assert rejected.value.code == "unsupported_type"
    # Listed but without a size limit for its category: still refused, never unlimited.
    no_limit = AttachmentPolicy(max_bytes_by_category={}, allowed_media_types=frozenset({"image/jpeg"}))
    with pytest.raises(AttachmentRejected) as rejected:
        no_limit.check(JPEG, 10)
    assert rejected.value.code == "unsupported_type"
