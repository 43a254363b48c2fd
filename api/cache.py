"""The Redis client: short timeouts and a bounded retry, so a Redis outage answers quickly instead of hanging."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ("create_redis", "create_watcher")


def create_redis(settings: Settings, url: str) -> aioredis.Redis:
    """A pooled client; each call waits at most the configured timeout, retried twice with backoff."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=30,
        max_connections=128,
        decode_responses=False,
    )


def create_watcher(settings: Settings, url: str) -> aioredis.Redis:
    """A client for long-lived subscriptions: no retries, so a lost connection is reported the moment it is lost."""
    return aioredis.Redis.from_url(
        url, socket_connect_timeout=settings.redis_timeout, socket_timeout=settings.redis_timeout * 4,
        retry=Retry(ExponentialBackoff(), retries=0), max_connections=2,
    )
