"""Declared file names: kept as labels, never as paths, never able to disguise themselves."""

from __future__ import annotations

import pytest

from modules.attachments.names import MAX_NAME_CHARS, sanitize_name


@pytest.mark.parametrize(("declared", "expected"), [
    ("现场照片.jpg", "现场照片.jpg"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\张三\\Desktop\\举报材料.pdf", "举报材料.pdf"),
    ("/var/mobile/IMG_0001.HEIC", "IMG_0001.HEIC"),
    ("photo\u202egpj.exe", "photogpj.exe"),  # right-to-left override would show "photoexe.jpg"
    ("a\x00b\r\nc\x1b[31m.txt", "abc[31m.txt"),
    ("zero\u200bwidth.jpg", "zerowidth.jpg"),
    ("  spaced \t out  .jpg ", "spaced out .jpg"),
    ("e\u0301.png", "\u00e9.png"),  # NFC: one code point, as PostgreSQL comparisons expect
    ("bad\ud800surrogate.jpg", "badsurrogate.jpg"),
    ("", None), ("   ", None), ("..", None), (".", None), ("dir/", None), ("\x00\x01", None), (None, None),
])
def test_sanitize_name(declared: str | None, expected: str | None) -> None:
    assert sanitize_name(declared) == expected


def test_long_names_are_cut_to_200_characters() -> None:
    name = sanitize_name("检" * 300 + ".jpg")
    assert name is not None and len(name) == MAX_NAME_CHARS == 200
