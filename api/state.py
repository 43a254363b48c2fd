"""The worker's shared services as handlers see them: `state: AppState` in a handler's signature gives typed
attributes over the app state the lifespan fills (api/app.py, auth.setup_auth), instead of untyped look-ups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar.datastructures import State

if TYPE_CHECKING:
    from litestar import Litestar

    from api.db import Database
    from api.settings import Settings
    from auth.audit_anchor import Anchors
    from auth.guards import VerifiedTokens
    from auth.keyring import Keyring
    from auth.permissions import PermissionCache
    from auth.ratelimit import RateLimiter
    from auth.revocation import Revocations
    from auth.secretbox import SecretBox
    from auth.sms import SmsProvider
    from modules.registry import ModuleSwitches

__all__ = ("AppState", "app_state")


class AppState(State):
    """What every worker holds: settings, the pool, Redis, keys, caches and limiters (set once at start)."""

    settings: Settings
    db: Database
    redis: Any  # redis.asyncio.Redis, generic over its response type
    box: SecretBox
    keyring: Keyring
    revocations: Revocations
    verified_tokens: VerifiedTokens
    permissions: PermissionCache
    limiter: RateLimiter
    sms: SmsProvider
    modules: ModuleSwitches
    anchors: Anchors  # this worker's audit anchors (queued heads written by one task)
    anchors_before: Anchors | None  # the audit anchors in use before this app started (put back when it stops)


def app_state(app: Litestar) -> AppState:
    """The app's state, typed, where no handler signature hands it over (middleware, templates)."""
    return cast("AppState", app.state)
