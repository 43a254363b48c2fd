"""SecretBox: authenticated encryption, blind indexes and display masking."""

from __future__ import annotations

import base64

import pytest

from auth.secretbox import SecretBox, SecretBoxError, mask_id_number, mask_phone

SECRET = "unit-test-secret-" + "s" * 32
OTHER_SECRET = "unit-test-secret-" + "o" * 32


@pytest.fixture(name="box")
def fx_box() -> SecretBox:
    return SecretBox(SECRET)


def test_round_trip_and_fresh_nonce(box: SecretBox) -> None:
    first, second = box.encrypt(b"13812345678"), box.encrypt(b"13812345678")
    assert first != second
    assert first[0] == 1
    assert box.decrypt(first) == box.decrypt(second) == b"13812345678"
    assert box.decrypt(box.encrypt(b"")) == b""


def test_text_round_trip_is_url_safe(box: SecretBox) -> None:
    token = box.encrypt_text("张三 13812345678", aad=b"people.name:42")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert box.decrypt_text(token, aad=b"people.name:42") == "张三 13812345678"


def test_every_flipped_bit_is_detected(box: SecretBox) -> None:
    token = box.encrypt(b"secret", aad=b"row:1")
    for i in range(len(token)):
        for bit in (0x01, 0x80):
            tampered = bytearray(token)
            tampered[i] ^= bit
            with pytest.raises(SecretBoxError):
                box.decrypt(bytes(tampered), aad=b"row:1")


@pytest.mark.parametrize("token", [b"", b"\x01", b"\x01" + b"\x00" * 27, b"\x02" + b"\x00" * 40])
def test_truncated_or_unknown_version(box: SecretBox, token: bytes) -> None:
    with pytest.raises(SecretBoxError):
        box.decrypt(token)


def test_wrong_aad_and_wrong_key(box: SecretBox) -> None:
    token = box.encrypt(b"secret", aad=b"row:1")
    with pytest.raises(SecretBoxError):
        box.decrypt(token, aad=b"row:2")
    with pytest.raises(SecretBoxError):
        box.decrypt(token)
    with pytest.raises(SecretBoxError):
        SecretBox(OTHER_SECRET).decrypt(token, aad=b"row:1")


@pytest.mark.parametrize("text", ["", "!!!", "a", "AQ==", "not base64 at all"])
def test_decrypt_text_rejects_garbage(box: SecretBox, text: str) -> None:
    with pytest.raises(SecretBoxError):
        box.decrypt_text(text)


def test_decrypt_text_rejects_truncated_token(box: SecretBox) -> None:
    token = box.encrypt_text("hello")
    with pytest.raises(SecretBoxError):
        box.decrypt_text(token[:-2])
    # Raw bytes sealed by encrypt() that are not UTF-8 surface as SecretBoxError, not UnicodeDecodeError.
    raw = base64.urlsafe_b64encode(box.encrypt(b"\xff\xfe")).decode()
    with pytest.raises(SecretBoxError):
        box.decrypt_text(raw)


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError):
        SecretBox("too-short")


def test_repr_hides_secret(box: SecretBox) -> None:
    assert SECRET not in repr(box)


def test_blind_index_stable_and_separated(box: SecretBox) -> None:
    index = box.blind_index("13812345678", purpose="phone")
    assert len(index) == 64 and int(index, 16) >= 0
    assert index == SecretBox(SECRET).blind_index("13812345678", purpose="phone")
    assert index != box.blind_index("13812345679", purpose="phone")
    assert index != box.blind_index("13812345678", purpose="id_number")
    assert index != SecretBox(OTHER_SECRET).blind_index("13812345678", purpose="phone")
    with pytest.raises(ValueError):
        box.blind_index("13812345678", purpose="")


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13812345678", "138****5678"), (" 13812345678 ", "138****5678"), ("+8613812345678", "+86*******5678"),
     ("", ""), (None, ""), ("1", "*"), ("1234", "***4"), ("12345678", "******78")],
)
def test_mask_phone(value: str | None, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("310101199001011234", "310101********1234"), ("31010119900101123X", "310101********123X"),
     ("310101900101123", "310101*****1123"), ("", ""), (None, ""), ("12", "**")],
)
def test_mask_id_number(value: str | None, masked: str) -> None:
    assert mask_id_number(value) == masked
    assert len(mask_id_number(value)) == len((value or "").strip())
