"""The public keys a partner client signs its token assertions with (RFC 7523, private_key_jwt): a key registered
with the client, or the client's JWKS URL, fetched only from hosts on the operator's allow-list."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt as pyjwt

from api.ttl import TTLCache

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ("assertion_key", "forget_jwks", "jwks_url_allowed")

log = logging.getLogger("jianwu.partner_keys")
_TIMEOUT = 5.0  # seconds, for each of connect, read, write and the pool wait
_MAX_BYTES = 64 * 1024
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# A key set is kept an hour; an unknown kid fetches it again, at most once a minute per URL (a forger's random kids
# must not turn us into a load generator against the agency's server).
_sets: TTLCache[str, tuple[float, dict[str, Any]]] = TTLCache(3600.0)


def forget_jwks() -> None:
    """Drop every cached key set."""
    _sets.clear()


def jwks_url_allowed(settings: Settings, url: str) -> bool:
    """Whether keys may be fetched from `url`: https (plain http only on this machine, for development and tests),
    and its host[:port] on JIANWU_PARTNER_JWKS_HOSTS."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        return False
    if parts.username or parts.password or parts.fragment:
        return False
    allowed = {h.strip().lower() for h in settings.partner_jwks_hosts.split(",") if h.strip()}
    return parts.netloc.lower() in allowed or host.lower() in allowed


async def _fetch(settings: Settings, url: str) -> dict[str, Any] | None:
    import httpx  # imported on first use: it pulls rich and pygments in, ~7 MB per worker
    if not jwks_url_allowed(settings, url):  # checked again at use: the allow-list may have shrunk since
        log.warning("JWKS URL no longer on the allow-list: %s", url)
        return None
    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False) as http:
            resp = await http.get(url, headers={"Accept": "application/json"})
        if resp.status_code != 200 or len(resp.content) > _MAX_BYTES:
            log.warning("JWKS fetch from %s answered %s (%d bytes)", url, resp.status_code, len(resp.content))
            return None
        body = resp.json()
    except (httpx.HTTPError, ValueError):
        log.warning("JWKS fetch from %s failed", url, exc_info=True)
        return None
    return body if isinstance(body, dict) and isinstance(body.get("keys"), list) else None


def _pick(jwks: dict[str, Any], kid: str | None) -> Any:
    keys = [k for k in jwks["keys"] if isinstance(k, dict) and k.get("use", "sig") == "sig"]
    chosen = [k for k in keys if k.get("kid") == kid] if kid else (keys if len(keys) == 1 else [])
    if not chosen:
        return None
    try:
        return pyjwt.PyJWK(chosen[0]).key
    except (pyjwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


async def assertion_key(settings: Settings, client: Any, assertion: str) -> Any:
    """The key that should have signed the client's assertion, or None."""
    if client["public_jwk"]:
        try:
            return pyjwt.PyJWK(client["public_jwk"]).key
        except (pyjwt.PyJWTError, ValueError, TypeError, KeyError):
            return None
    url = client["jwks_url"]
    if not url:
        return None
    try:
        kid = pyjwt.get_unverified_header(assertion).get("kid")
    except pyjwt.PyJWTError:
        return None
    cached = _sets.get(url)
    if cached is not None:
        key = _pick(cached[1], kid)
        if key is not None or time.monotonic() - cached[0] < 60:
            return key
    jwks = await _fetch(settings, url)
    if jwks is None:
        return _pick(cached[1], kid) if cached else None
    _sets.put(url, (time.monotonic(), jwks))
    return _pick(jwks, kid)
