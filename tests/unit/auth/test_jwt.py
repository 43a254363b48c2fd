"""Access tokens: issuing, verification, every known forgery, and a fuzz loop that must only ever see InvalidToken."""

from __future__ import annotations

import base64
import json
import random
import secrets
import time
import uuid
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from auth.jwt import (
    ACCESS_TOKEN_MAX_LIFETIME,
    AUD_PARTNER,
    AUD_PUBLIC,
    AUD_REPRESENTATIVE,
    AUD_STAFF,
    MAX_TOKEN_BYTES,
    InvalidToken,
    SigningKey,
    TokenVerifier,
    encode_access_token,
    jwks,
)
from tests.forgery import ALL_FORGERIES, EXPECTED_REASONS, Builder

ISSUER = "https://id.jianwu.test"
ALL_AUDIENCES = (AUD_STAFF, AUD_REPRESENTATIVE, AUD_PUBLIC, AUD_PARTNER)


@pytest.fixture(scope="module", name="key")
def fx_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(name="verifier")
def fx_verifier(key: SigningKey) -> TokenVerifier:
    return TokenVerifier({key.kid: key.public_key()}, issuer=ISSUER)


def claims_for(aud: str = AUD_STAFF, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "sub": "user-42", "aud": aud, "iat": now, "exp": now + ACCESS_TOKEN_MAX_LIFETIME,
            "jti": uuid.uuid4().hex, "tt": "access", **overrides}


def reason(verifier: TokenVerifier, token: str, audiences: tuple[str, ...] = (AUD_STAFF,)) -> str:
    with pytest.raises(InvalidToken) as caught:
        verifier.verify(token, audiences=audiences)
    return caught.value.reason


def segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_round_trip(key: SigningKey, verifier: TokenVerifier) -> None:
    claims = claims_for(role="prosecutor")
    token = encode_access_token(key, claims)
    assert segment(token, 0) == {"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}
    assert verifier.verify(token, audiences=[AUD_STAFF]) == claims
    assert verifier.verify(token, audiences=AUD_STAFF) == claims  # a bare string is one audience, not a substring


def test_signing_key_serialisation(key: SigningKey) -> None:
    assert len(key.kid) >= 16
    assert key.private_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = SigningKey.from_pem(key.kid, key.private_pem())
    assert loaded.public_jwk() == key.public_jwk()
    jwk = key.public_jwk()
    assert {k: jwk[k] for k in ("kty", "crv", "kid", "alg", "use")} == {
        "kty": "EC", "crv": "P-256", "kid": key.kid, "alg": "ES256", "use": "sig"}
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == len(base64.urlsafe_b64decode(jwk["y"] + "=")) == 32
    assert "d" not in jwk and "PRIVATE" not in repr(key)
    with pytest.raises(ValueError):
        SigningKey("../etc", key.private_key)
    with pytest.raises(ValueError):
        SigningKey("p384", ec.generate_private_key(ec.SECP384R1()))


def test_jwks_verifies_with_pyjwt(key: SigningKey) -> None:
    other = SigningKey.generate()
    document = jwks([key, ("legacy-key", other.public_key())])
    assert [k["kid"] for k in document["keys"]] == [key.kid, "legacy-key"]
    token = encode_access_token(key, claims_for())
    public = pyjwt.PyJWK(document["keys"][0]).key
    assert pyjwt.decode(token, public, algorithms=["ES256"], audience=AUD_STAFF)["sub"] == "user-42"


@pytest.mark.parametrize(
    "bad",
    [{"tt": "refresh"}, {"sub": 42}, {"aud": [AUD_STAFF]}, {"exp": None}, {"jti": None},
     {"iat": 1_000_000, "exp": 1_000_000 + ACCESS_TOKEN_MAX_LIFETIME + 1}, {"iat": "now"}],
)
def test_encode_refuses_bad_claims(key: SigningKey, bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        encode_access_token(key, claims_for(**bad))


@pytest.mark.parametrize(("name", "build"), ALL_FORGERIES, ids=[name for name, _ in ALL_FORGERIES])
def test_forgery_refused(key: SigningKey, verifier: TokenVerifier, name: str, build: Builder) -> None:
    token = build(key, claims_for(aud=AUD_STAFF))
    assert reason(verifier, token, ALL_AUDIENCES) == EXPECTED_REASONS[name]


def test_every_forgery_has_an_expected_reason() -> None:
    assert set(EXPECTED_REASONS) == {name for name, _ in ALL_FORGERIES}


def test_oversized_token_refused_before_parsing(verifier: TokenVerifier) -> None:
    assert reason(verifier, "A" * (MAX_TOKEN_BYTES + 1)) == "too_large"
    assert reason(verifier, "!" * (MAX_TOKEN_BYTES + 1)) == "too_large"


@pytest.mark.parametrize("minted", ALL_AUDIENCES)
def test_audience_mix_ups(key: SigningKey, verifier: TokenVerifier, minted: str) -> None:
    token = encode_access_token(key, claims_for(aud=minted))
    for expected in ALL_AUDIENCES:
        if expected == minted:
            assert verifier.verify(token, audiences=[expected])["aud"] == minted
        else:
            assert reason(verifier, token, (expected,)) == "bad_audience"
    assert reason(verifier, token, ()) == "bad_audience"
    assert reason(verifier, token, (minted[:-1],)) == "bad_audience"


def test_other_issuer_refused(key: SigningKey, verifier: TokenVerifier) -> None:
    for issuer in ("https://id.jianwu.test/", "https://evil.example", ISSUER.upper()):
        token = encode_access_token(key, claims_for(iss=issuer))
        assert reason(verifier, token) == "bad_issuer"
    foreign = TokenVerifier({key.kid: key}, issuer="https://partner.example")
    assert reason(foreign, encode_access_token(key, claims_for())) == "bad_issuer"


def test_refresh_token_is_malformed(verifier: TokenVerifier) -> None:
    for opaque in (secrets.token_urlsafe(32), secrets.token_hex(32), "rt_" + secrets.token_urlsafe(48), ""):
        assert reason(verifier, opaque) == "malformed"


def test_key_rotation(key: SigningKey) -> None:
    new = SigningKey.generate()
    both = TokenVerifier({key.kid: key, new.kid: new.public_key()}, issuer=ISSUER)
    for signer in (key, new):
        assert both.verify(encode_access_token(signer, claims_for()), audiences=[AUD_STAFF])["sub"] == "user-42"
    retired = TokenVerifier({new.kid: new}, issuer=ISSUER)
    assert reason(retired, encode_access_token(key, claims_for())) == "unknown_key"


def test_leeway(key: SigningKey, verifier: TokenVerifier) -> None:
    now = int(time.time())
    slightly_expired = claims_for(iat=now - ACCESS_TOKEN_MAX_LIFETIME - 10, exp=now - 10)
    assert verifier.verify(encode_access_token(key, slightly_expired), audiences=[AUD_STAFF])
    strict = TokenVerifier({key.kid: key}, issuer=ISSUER, leeway=0)
    assert reason(strict, encode_access_token(key, slightly_expired)) == "expired"
    clock_skew = claims_for(iat=now + 10, exp=now + 300)
    assert verifier.verify(encode_access_token(key, clock_skew), audiences=[AUD_STAFF])
    past_nbf = claims_for(nbf=now - 5)
    assert verifier.verify(encode_access_token(key, past_nbf), audiences=[AUD_STAFF])


def _mutations(token: str, rng: random.Random) -> str:
    chars = list(token)
    choice = rng.randrange(6)
    if choice == 0:
        chars[rng.randrange(len(chars))] = rng.choice("AZaz09-_.=!+/ \x00é")
    elif choice == 1:
        del chars[rng.randrange(len(chars))]
    elif choice == 2:
        chars.insert(rng.randrange(len(chars)), rng.choice("A.-_"))
    elif choice == 3:
        cut = rng.randrange(len(chars))
        chars = chars[:cut]
    elif choice == 4:
        parts = token.split(".")
        rng.shuffle(parts)
        return ".".join(parts)
    else:
        header, payload, signature = token.split(".")
        junk = base64.urlsafe_b64encode(rng.randbytes(rng.randrange(1, 60))).rstrip(b"=").decode()
        return ".".join(rng.choice([(junk, payload, signature), (header, junk, signature), (header, payload, junk)]))
    return "".join(chars)


def _garbage(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 200)).decode("latin-1")
    if kind == 1:
        return ".".join(base64.urlsafe_b64encode(rng.randbytes(rng.randrange(0, 80))).decode().rstrip("=")
                        for _ in range(rng.randrange(1, 5)))
    if kind == 2:
        # Valid base64url of hostile JSON: wrong types, deep nesting, huge numbers, duplicates.
        header = rng.choice(['{"alg":"ES256","kid":[]}', '[' * 5000, '{"alg":"ES256","alg":"none"}', "1e999",
                             '{"alg":"ES256","kid":"%s","typ":"at+jwt"}', "null", '"ES256"', "9" * 5000])
        seg = base64.urlsafe_b64encode(header.encode()).decode().rstrip("=")
        return f"{seg}.{seg}.{seg}"
    return "".join(chr(rng.randrange(0, 0x11000)) for _ in range(rng.randrange(0, 60))).replace("\ud800", "")


def test_fuzz_only_invalid_token(key: SigningKey, verifier: TokenVerifier) -> None:
    rng = random.Random(20240601)
    valid = encode_access_token(key, claims_for())
    forged = [build(key, claims_for()) for _, build in ALL_FORGERIES]
    for i in range(5000):
        if i % 2:
            token = _garbage(rng)
        else:
            token = _mutations(rng.choice([valid, *forged]), rng)
        try:
            verifier.verify(token, audiences=ALL_AUDIENCES)
        except InvalidToken as exc:
            assert exc.reason in {*EXPECTED_REASONS.values(), "malformed"}
        else:
            # A mutation can only be accepted when it happened to reproduce the original token exactly.
            assert token == valid


def test_non_string_input(verifier: TokenVerifier) -> None:
    for junk in (None, b"a.b.c", 42, ["a", "b", "c"]):
        assert reason(verifier, junk) == "malformed"  # type: ignore[arg-type]


def _signed_raw(key: SigningKey, payload: bytes) -> str:
    """A token signed with our real key over exactly these payload bytes (the claims' JSON as written)."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}).encode())
    signing_input = header.rstrip(b"=") + b"." + base64.urlsafe_b64encode(payload).rstrip(b"=")
    signature = pyjwt.get_algorithm_by_name("ES256").sign(signing_input, key.private_key)
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def test_claims_json_however_written(key: SigningKey, verifier: TokenVerifier) -> None:
    """Our own compact JSON and any other valid spelling of the same claims verify alike (the parser's fast path
    takes only the first; the strict parser judges the rest)."""
    claims = claims_for(sub="检察官-7", roles=["handler"])
    for payload in (json.dumps(claims, separators=(",", ":")).encode(),  # as our signer writes it (ASCII escapes)
                    json.dumps(claims, indent=2).encode(),  # whitespace
                    json.dumps(claims, ensure_ascii=False).encode("utf-8")):  # raw UTF-8
        assert verifier.verify(_signed_raw(key, payload), audiences=[AUD_STAFF]) == claims


@pytest.mark.parametrize("payload", [
    # A repeated claim: parsers disagree on which one wins, so a signed token with one is refused outright.
    b'{"sub":"user-1","sub":"user-42",' + json.dumps(claims_for())[1:].encode(),
    json.dumps(claims_for()).encode()[:-1] + b',"jti":"again"}',
    json.dumps(claims_for(extra={"a": 1})).encode().replace(b'{"a": 1}', b'{"a":1,"a":2}'),  # nested, too
    json.dumps(claims_for()).encode()[:-1] + b',"n":NaN}',  # not JSON
    json.dumps(claims_for()).encode()[:-1] + b',"n":Infinity}',
    b"\xff" + json.dumps(claims_for()).encode(),  # not UTF-8
    json.dumps([claims_for()]).encode(),  # not an object
])
def test_signed_but_malformed_claims_refused(key: SigningKey, verifier: TokenVerifier, payload: bytes) -> None:
    assert reason(verifier, _signed_raw(key, payload)) == "malformed"


@pytest.mark.parametrize("spoil", [
    lambda seg: seg + "=",  # padding is not part of a JWS segment
    lambda seg: seg[:-2] + "==",
    lambda seg: seg.replace("-", "+").replace("_", "/") if ("-" in seg or "_" in seg) else seg[:-1] + "+",  # base64
    lambda seg: seg[:8] + " " + seg[8:],
    lambda seg: seg[:8] + "\n" + seg[8:],
    lambda seg: seg[:8] + "é" + seg[9:],
    lambda seg: seg + "A" * ((1 - len(seg)) % 4 or 4),  # a length no base64 has (4n + 1)
])
def test_payload_segment_outside_base64url_refused(key: SigningKey, verifier: TokenVerifier, spoil: Any) -> None:
    head, payload, signature = encode_access_token(key, claims_for()).split(".")
    assert reason(verifier, f"{head}.{spoil(payload)}.{signature}") == "malformed"
