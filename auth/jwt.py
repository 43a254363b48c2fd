"""ES256 access tokens: signing keys, issuing, verification and the public JWKS.

InvalidToken.reason is one of: malformed, too_large, bad_algorithm, unknown_key, bad_type, bad_signature,
missing_claim, bad_issuer, bad_audience, too_long_lived, issued_in_future, not_yet_valid, expired.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt as pyjwt
import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = (
    "ACCESS_TOKEN_MAX_LIFETIME",
    "ALGORITHM",
    "AUDIENCES",
    "AUD_PARTNER",
    "AUD_PUBLIC",
    "AUD_REPRESENTATIVE",
    "AUD_STAFF",
    "MAX_TOKEN_BYTES",
    "REQUIRED_CLAIMS",
    "TOKEN_TYPE",
    "InvalidToken",
    "SigningKey",
    "TokenVerifier",
    "encode_access_token",
    "jwks",
)

AUD_STAFF = "jianwu:staff"
AUD_REPRESENTATIVE = "jianwu:representative"
AUD_PUBLIC = "jianwu:public"
AUD_PARTNER = "jianwu:partner"
AUDIENCES = frozenset({AUD_STAFF, AUD_REPRESENTATIVE, AUD_PUBLIC, AUD_PARTNER})

ACCESS_TOKEN_MAX_LIFETIME = 600
ALGORITHM = "ES256"
TOKEN_TYPE = "access"
HEADER_TYP = "at+jwt"
MAX_TOKEN_BYTES = 8 * 1024
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "tt")

_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COORD_BYTES = 32  # P-256 coordinates and scalars
# base64url's two letters to the standard alphabet's; "+", "/" and "=" are not base64url, so they become a byte that
# strict decoding refuses.
_FROM_BASE64URL = bytes.maketrans(b"-_+/=", b"+/!!!")

# Parsed header segments: every token signed with one key has the same header, so it is decoded once per worker.
# Only headers that parsed are kept (refusals are decided after the lookup, as before); never mutated.
_headers: dict[str, dict[str, Any]] = {}
_HEADERS_MAX = 64
# The only signature algorithm verification knows: ECDSA over P-256 with SHA-256 (never HMAC, never none).
_ES256 = ec.ECDSA(hashes.SHA256())


class InvalidToken(Exception):
    """The token was refused; reason is a short stable machine string (see module docs for the values)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _check_p256(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> None:
    if not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        raise TypeError("expected an elliptic-curve key")
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs a P-256 key")


def _check_kid(kid: object) -> str:
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise ValueError("kid must be 1-64 characters of A-Z a-z 0-9 _ -")
    return kid


def _public_jwk(kid: str, public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(_COORD_BYTES, "big")),
        "y": _b64url(numbers.y.to_bytes(_COORD_BYTES, "big")),
        "kid": kid,
        "alg": ALGORITHM,
        "use": "sig",
    }


@dataclass(frozen=True)
class SigningKey:
    """A P-256 private key and its key id."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_kid(self.kid)
        _check_p256(self.private_key)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half, for a TokenVerifier."""
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7517) for the JWKS endpoint."""
        return _public_jwk(self.kid, self.public_key())

    def private_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM; encrypt it with SecretBox before it is stored anywhere."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random P-256 key with a random kid."""
        return cls(secrets.token_urlsafe(16), ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, kid: str, pem: bytes | str) -> SigningKey:
        """Load a key stored with private_pem()."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("not an elliptic-curve private key")
        return cls(kid, key)


def _is_numeric_date(value: object) -> bool:
    # bool is an int subclass; NaN fails every comparison and inf or huge ints fail the bound.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 2**53


def encode_access_token(key: SigningKey, claims: dict[str, Any]) -> str:
    """Sign claims as an ES256 access token; refuses claims that TokenVerifier would refuse by shape."""
    missing = [name for name in REQUIRED_CLAIMS if claims.get(name) is None]
    if missing:
        raise ValueError(f"access token claims missing: {', '.join(missing)}")
    if claims["tt"] != TOKEN_TYPE:
        raise ValueError(f"tt must be {TOKEN_TYPE!r}")
    for name in ("iss", "sub", "aud", "jti"):
        if not isinstance(claims[name], str) or not claims[name]:
            raise ValueError(f"{name} must be a non-empty string (a single audience, not a list)")
    if not _is_numeric_date(claims["exp"]) or not _is_numeric_date(claims["iat"]):
        raise ValueError("exp and iat must be numeric dates")
    if not 0 < claims["exp"] - claims["iat"] <= ACCESS_TOKEN_MAX_LIFETIME:
        raise ValueError(f"exp must be after iat and at most {ACCESS_TOKEN_MAX_LIFETIME} s later")
    return pyjwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": HEADER_TYP})


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which duplicate wins; refusing them removes the ambiguity.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _b64_segment(segment: str) -> bytes:
    """Decode one unpadded base64url segment, raising InvalidToken('malformed') on anything else."""
    if not segment or len(segment) % 4 == 1:
        raise InvalidToken("malformed")
    try:
        raw = segment.encode("ascii").translate(_FROM_BASE64URL)
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
    except (binascii.Error, ValueError):  # a non-ASCII character raises UnicodeEncodeError, a ValueError
        raise InvalidToken("malformed") from None


def _json_object(raw: bytes) -> dict[str, Any]:
    """Parse strict UTF-8 JSON that must be an object, raising InvalidToken('malformed') otherwise."""
    # Our own signer writes compact JSON with each key once: msgspec reads it in a tenth of the time and, encoding
    # the result again, gives back the very same bytes, which also proves no key came twice (a repeated key would
    # come back once). Anything else, valid or not, is judged by the strict parser below.
    try:
        fast = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        fast = None
    if isinstance(fast, dict) and msgspec.json.encode(fast) == raw:
        return fast
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidToken("malformed") from None
    if not isinstance(value, dict):
        raise InvalidToken("malformed")
    return value


class TokenVerifier:
    """Verifies access tokens against a fixed set of our own public keys, by kid."""

    def __init__(
        self,
        keys: Mapping[str, ec.EllipticCurvePublicKey | SigningKey],
        *,
        issuer: str,
        leeway: int = 30,
    ) -> None:
        if not issuer:
            raise ValueError("issuer is required")
        if not 0 <= leeway <= 300:
            raise ValueError("leeway must be between 0 and 300 seconds")
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for kid, key in keys.items():
            public = key.public_key() if isinstance(key, SigningKey) else key
            _check_p256(public)
            if not isinstance(public, ec.EllipticCurvePublicKey):
                raise TypeError("verifier keys must be public keys or SigningKeys")
            self._keys[_check_kid(kid)] = public
        self._issuer = issuer
        self._leeway = leeway

    def verify(self, token: str, *, audiences: Collection[str]) -> dict[str, Any]:
        """Return the claims of a valid access token for one of audiences, or raise InvalidToken."""
        # A bare string would otherwise be searched by substring: "jianwu:s" in "jianwu:staff".
        allowed = frozenset([audiences] if isinstance(audiences, str) else audiences)
        try:
            return self._verify(token, allowed)
        except InvalidToken:
            raise
        except Exception:  # noqa: BLE001 - the contract is "InvalidToken or claims", whatever a library does
            raise InvalidToken("malformed") from None

    def _verify(self, token: str, audiences: frozenset[str]) -> dict[str, Any]:
        if not isinstance(token, str):
            raise InvalidToken("malformed")
        # Checked before any decoding; a valid token is ASCII, so characters and bytes are the same count.
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("too_large")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("malformed")
        header = _headers.get(parts[0])
        if header is None:
            header = _json_object(_b64_segment(parts[0]))
            if len(_headers) < _HEADERS_MAX:
                _headers[parts[0]] = header

        if header.get("alg") != ALGORITHM:
            raise InvalidToken("bad_algorithm")
        # jku, jwk, x5u and x5c are never read: keys come only from our own mapping, by kid.
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.fullmatch(kid) or kid not in self._keys:
            raise InvalidToken("unknown_key")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in (HEADER_TYP, "application/" + HEADER_TYP):
            raise InvalidToken("bad_type")
        if "crit" in header or "b64" in header:
            # We implement no extensions; RFC 7515 says to refuse tokens that require one.
            raise InvalidToken("malformed")
        payload = _b64_segment(parts[1])
        signature = _b64_segment(parts[2])  # an empty signature ("alg none" style) is refused here

        # Verified with `cryptography` directly (PyJWT's decode parsed the header again and cost about three times
        # the ECDSA operation itself): our own P-256 key by kid and ES256 only, so the header chooses neither the
        # key type nor the algorithm. A JWS ECDSA signature is r || s, 32 bytes each (RFC 7518 section 3.4).
        if len(signature) != 2 * _COORD_BYTES:
            raise InvalidToken("bad_signature")
        der = encode_dss_signature(int.from_bytes(signature[:_COORD_BYTES], "big"),
                                   int.from_bytes(signature[_COORD_BYTES:], "big"))
        try:
            self._keys[kid].verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), _ES256)
        except InvalidSignature:
            raise InvalidToken("bad_signature") from None
        claims = _json_object(payload)
        self._check_claims(claims, audiences)
        return claims

    def _check_claims(self, claims: dict[str, Any], audiences: frozenset[str]) -> None:
        if any(claims.get(name) is None for name in REQUIRED_CLAIMS):
            raise InvalidToken("missing_claim")
        for name in ("exp", "iat", "nbf"):
            if name in claims and not _is_numeric_date(claims[name]):
                raise InvalidToken("malformed")
        for name in ("iss", "sub", "jti"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise InvalidToken("malformed")
        if claims["iss"] != self._issuer:
            raise InvalidToken("bad_issuer")
        # Exactly one audience: a list would let a token minted for several apps be replayed against each.
        aud = claims["aud"]
        if not isinstance(aud, str) or aud not in audiences:
            raise InvalidToken("bad_audience")
        if claims["tt"] != TOKEN_TYPE:
            raise InvalidToken("bad_type")
        exp, iat = claims["exp"], claims["iat"]
        if exp - iat > ACCESS_TOKEN_MAX_LIFETIME:
            raise InvalidToken("too_long_lived")
        if exp <= iat:
            raise InvalidToken("malformed")
        now = time.time()
        if iat > now + self._leeway:
            raise InvalidToken("issued_in_future")
        if "nbf" in claims and claims["nbf"] > now + self._leeway:
            raise InvalidToken("not_yet_valid")
        if exp <= now - self._leeway:
            raise InvalidToken("expired")


def jwks(keys: Iterable[SigningKey | tuple[str, ec.EllipticCurvePublicKey]]) -> dict[str, list[dict[str, str]]]:
    """The public JWK Set (RFC 7517) for the given keys."""
    out = []
    for key in keys:
        if isinstance(key, SigningKey):
            out.append(key.public_jwk())
        else:
            kid, public = key
            _check_p256(public)
            out.append(_public_jwk(_check_kid(kid), public))
    return {"keys": out}
