"""Malicious access tokens, built by hand from a real signing key and valid claims, for tests at every layer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import get_default_algorithms

from auth.jwt import SigningKey, encode_access_token

__all__ = ("ALL_FORGERIES", "ATTACKER_URL", "EXPECTED_REASONS", "Builder", "forge")

Builder = Callable[[SigningKey, dict], str]
ATTACKER_URL = "https://attacker.example/.well-known/jwks.json"
_ALGORITHMS = get_default_algorithms()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_segment(obj: Any) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes] | None) -> str:
    """Assemble a compact JWS from any header and claims; sign=None leaves the signature part empty."""
    signing_input = f"{_json_segment(header)}.{_json_segment(claims)}"
    signature = sign(signing_input.encode("ascii")) if sign else b""
    return f"{signing_input}.{_b64(signature)}"


def _signer(alg: str, private_key: Any) -> Callable[[bytes], bytes]:
    algorithm = _ALGORITHMS[alg]
    return lambda msg: algorithm.sign(msg, private_key)


def _header(key: SigningKey, **extra: Any) -> dict[str, Any]:
    return {"alg": "ES256", "kid": key.kid, "typ": "at+jwt", **extra}


def _ours(key: SigningKey, claims: dict[str, Any], **header: Any) -> str:
    """Signed with our real key: only the header or the claims are wrong."""
    return forge(_header(key, **header), claims, _signer("ES256", key.private_key))


def _alg_none(spelling: str, signed: bool) -> Builder:
    def build(key: SigningKey, claims: dict) -> str:
        token = forge(_header(key, alg=spelling), claims, None)
        if signed:
            # Keep a genuine signature from our key: a verifier that skips "none" checks must still refuse it.
            token += encode_access_token(key, claims).rsplit(".", 1)[1]
        return token

    return build


def _hs256_with(secret_of: Callable[[SigningKey], bytes]) -> Builder:
    # pyjwt refuses a PEM as an HMAC secret, which is the point: a naive verifier would not, so sign by hand.
    def build(key: SigningKey, claims: dict) -> str:
        secret = secret_of(key)
        return forge(_header(key, alg="HS256"), claims, lambda msg: hmac.new(secret, msg, hashlib.sha256).digest())

    return build


def _public_pem(key: SigningKey) -> bytes:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _substituted(alg: str, new_key: Callable[[], Any]) -> Builder:
    def build(key: SigningKey, claims: dict) -> str:
        return forge(_header(key, alg=alg), claims, _signer(alg, new_key()))

    return build


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _kid(kid: Any) -> Builder:
    return lambda key, claims: _ours(key, claims, kid=kid)


def _without_header(name: str) -> Builder:
    def build(key: SigningKey, claims: dict) -> str:
        header = {k: v for k, v in _header(key).items() if k != name}
        return forge(header, claims, _signer("ES256", key.private_key))

    return build


def _embedded_jwk(key: SigningKey, claims: dict) -> str:
    attacker = SigningKey.generate()
    header = _header(key, jwk=attacker.public_jwk() | {"kid": key.kid})
    return forge(header, claims, _signer("ES256", attacker.private_key))


def _jku(key: SigningKey, claims: dict) -> str:
    attacker = SigningKey.generate()
    return forge(_header(key, jku=ATTACKER_URL), claims, _signer("ES256", attacker.private_key))


def _x5u(key: SigningKey, claims: dict) -> str:
    attacker = SigningKey.generate()
    return forge(_header(key, x5u=ATTACKER_URL), claims, _signer("ES256", attacker.private_key))


def _foreign_key_our_kid(key: SigningKey, claims: dict) -> str:
    return encode_access_token(SigningKey(key.kid, SigningKey.generate().private_key), claims)


def _expired(key: SigningKey, claims: dict) -> str:
    now = int(time.time())
    return _ours(key, {**claims, "iat": now - 3600, "exp": now - 3000})


def _not_yet_valid(key: SigningKey, claims: dict) -> str:
    now = int(time.time())
    return _ours(key, {**claims, "iat": now, "exp": now + 600, "nbf": now + 3600})


def _future_iat(key: SigningKey, claims: dict) -> str:
    now = int(time.time())
    return _ours(key, {**claims, "iat": now + 3600, "exp": now + 3600 + 300})


def _long_lived(key: SigningKey, claims: dict) -> str:
    now = int(time.time())
    return _ours(key, {**claims, "iat": now, "exp": now + 30 * 24 * 3600})


def _tampered_sub(key: SigningKey, claims: dict) -> str:
    header, _, signature = encode_access_token(key, claims).split(".")
    return f"{header}.{_json_segment({**claims, 'sub': str(claims['sub']) + '-admin'})}.{signature}"


def _aud_list(key: SigningKey, claims: dict) -> str:
    # Every audience at once, hoping the verifier accepts "any of them matches".
    return _ours(key, {**claims, "aud": ["jianwu:staff", "jianwu:representative", "jianwu:public", "jianwu:partner"]})


ALL_FORGERIES: list[tuple[str, Builder]] = [
    *[(f"alg_{s}", _alg_none(s, signed=False)) for s in ("none", "None", "NONE", "nOnE")],
    *[(f"alg_{s}_with_signature", _alg_none(s, signed=True)) for s in ("none", "None", "NONE", "nOnE")],
    ("alg_missing", _without_header("alg")),
    ("hs256_public_key_pem", _hs256_with(_public_pem)),
    ("hs256_public_jwk_json", _hs256_with(lambda key: json.dumps(key.public_jwk()).encode("utf-8"))),
    ("rs256_substitution", _substituted("RS256", _rsa)),
    ("ps256_substitution", _substituted("PS256", _rsa)),
    ("es384_substitution", _substituted("ES384", lambda: ec.generate_private_key(ec.SECP384R1()))),
    ("eddsa_substitution", _substituted("EdDSA", ed25519.Ed25519PrivateKey.generate)),
    ("kid_unknown", _kid("not-one-of-our-keys")),
    ("kid_missing", _without_header("kid")),
    ("kid_not_a_string", _kid(["kid"])),
    ("kid_path_traversal", _kid("../../etc/passwd")),
    ("kid_sql_injection", _kid("' or 1=1 --")),
    ("kid_too_long", _kid("k" * 65)),
    ("kid_oversized_10kb", _kid("A" * 10_240)),
    ("embedded_jwk_attacker_key", _embedded_jwk),
    ("jku_attacker_url", _jku),
    ("x5u_attacker_url", _x5u),
    ("foreign_key_our_kid", _foreign_key_our_kid),
    ("expired", _expired),
    ("not_yet_valid", _not_yet_valid),
    ("issued_in_future", _future_iat),
    ("too_long_lived", _long_lived),
    ("tampered_payload", _tampered_sub),
    ("header_typ_jwt", lambda key, claims: _ours(key, claims, typ="JWT")),
    ("refresh_token_type", lambda key, claims: _ours(key, {**claims, "tt": "refresh"})),
    ("missing_jti", lambda key, claims: _ours(key, {k: v for k, v in claims.items() if k != "jti"})),
    ("audience_list", _aud_list),
]

# What TokenVerifier.verify reports for each forgery, for tests that can see the reason.
EXPECTED_REASONS: dict[str, str] = {
    **{name: "bad_algorithm" for name, _ in ALL_FORGERIES if name.startswith(("alg_", "hs256_", "rs256_", "ps256_"))},
    "es384_substitution": "bad_algorithm",
    "eddsa_substitution": "bad_algorithm",
    "kid_unknown": "unknown_key",
    "kid_missing": "unknown_key",
    "kid_not_a_string": "unknown_key",
    "kid_path_traversal": "unknown_key",
    "kid_sql_injection": "unknown_key",
    "kid_too_long": "unknown_key",
    "kid_oversized_10kb": "too_large",
    "embedded_jwk_attacker_key": "bad_signature",
    "jku_attacker_url": "bad_signature",
    "x5u_attacker_url": "bad_signature",
    "foreign_key_our_kid": "bad_signature",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
    "issued_in_future": "issued_in_future",
    "too_long_lived": "too_long_lived",
    "tampered_payload": "bad_signature",
    "header_typ_jwt": "bad_type",
    "refresh_token_type": "bad_type",
    "missing_jti": "missing_claim",
    "audience_list": "bad_audience",
}
