"""Settings read from the environment once, validated, and shared by every part of the service."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ("Settings", "SettingsError", "get_settings", "master_secret", "settings_table")


class SettingsError(ValueError):
    """A setting has a value the service cannot use."""


def _number(cast: Callable[[str], Any], what: str, lo: Any, hi: Any) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            value = cast(raw)
        except ValueError:
            raise ValueError(f"must be {what}") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value

    return parse


def _int(lo: int, hi: int) -> Callable[[str], int]:
    return _number(int, "a whole number", lo, hi)


def _float(lo: float, hi: float) -> Callable[[str], float]:
    return _number(float, "a number", lo, hi)


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return raw

    return parse


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not raw.startswith(tuple(f"{s}://" for s in schemes)):
            raise ValueError(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return raw

    return parse


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


def _setting(env: str, default: Any, parse: Callable[[str], Any] = str, doc: str = "") -> Any:
    return field(default=default, metadata={"env": env, "parse": parse, "doc": doc})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting the service reads, each from one environment variable."""

    env: str = _setting(
        "JIANWU_ENV", "development", _choice("development", "test", "production"),
        "development, test or production; production refuses demo data and requires JIANWU_SECRET_KEY.",
    )
    database_url: str | None = _setting(
        "DATABASE_URL", None, _url("postgresql", "postgres"),
        "PostgreSQL server to use. Unset: `jianwu serve` starts an embedded one under the data directory.",
    )
    database_replica_url: str | None = _setting(
        "DATABASE_REPLICA_URL", None, _url("postgresql", "postgres"),
        "A streaming read replica of DATABASE_URL: office-wide lists, statistics, flow monitoring and dashboards "
        "read there (never single reads after a write). Reads fall back to DATABASE_URL while it is down or "
        "lagging. Unset: every read goes to DATABASE_URL.",
    )
    db_replica_max_lag: float = _setting(
        "JIANWU_DB_REPLICA_MAX_LAG", 5.0, _float(0.1, 3600),
        "Seconds of replay lag beyond which reads leave the replica for DATABASE_URL until it catches up.",
    )
    redis_url: str | None = _setting(
        "REDIS_URL", None, _url("redis", "rediss", "unix"),
        "Redis server to use. Unset: `jianwu serve` starts an embedded one under the data directory.",
    )
    data_dir: Path = _setting(  # noqa: RUF009  each field's default is read from the environment on purpose
        "JIANWU_DATA_DIR", Path(".data"), Path,
        "Where embedded PostgreSQL and Redis keep their data, plus keys, uploads and the SMS outbox.",
    )
    host: str = _setting("JIANWU_HOST", "127.0.0.1", str, "Address the API listens on.")
    port: int = _setting("PORT", 8000, _int(1, 65535), "Port the API listens on.")
    workers: int = _setting(
        "JIANWU_WORKERS", max(2, os.cpu_count() or 1), _int(1, 64),
        "Server worker processes (default: one per core, at least two).",
    )
    embedded_pg_port: int = _setting(
        "JIANWU_EMBEDDED_PG_PORT", 55432, _int(1, 65535), "Port of the embedded PostgreSQL (127.0.0.1 only)."
    )
    embedded_redis_port: int = _setting(
        "JIANWU_EMBEDDED_REDIS_PORT", 56379, _int(1, 65535), "Port of the embedded Redis (127.0.0.1 only)."
    )
    db_pool_max: int = _setting("JIANWU_DB_POOL_MAX", 16, _int(1, 500), "Most connections per worker.")
    db_connect_timeout: float = _setting(
        "JIANWU_DB_CONNECT_TIMEOUT", 3.0, _float(0.1, 60), "Seconds to wait for a new PostgreSQL connection."
    )
    db_acquire_timeout: float = _setting(
        "JIANWU_DB_ACQUIRE_TIMEOUT", 5.0, _float(0.1, 60), "Seconds a request waits for a free pooled connection."
    )
    db_command_timeout: float = _setting(
        "JIANWU_DB_COMMAND_TIMEOUT", 10.0, _float(0.1, 600), "Client-side limit in seconds on one SQL command."
    )
    db_statement_timeout_ms: int = _setting(
        "JIANWU_DB_STATEMENT_TIMEOUT_MS", 8000, _int(100, 600_000), "Server-side statement_timeout."
    )
    db_idle_tx_timeout_ms: int = _setting(
        "JIANWU_DB_IDLE_TX_TIMEOUT_MS", 15000, _int(100, 600_000), "Server-side idle_in_transaction_session_timeout."
    )
    redis_timeout: float = _setting(
        "JIANWU_REDIS_TIMEOUT", 0.5, _float(0.05, 30), "Seconds to connect to or wait on Redis before giving up."
    )
    redis_prefix: str = _setting("JIANWU_REDIS_PREFIX", "jw:", str, "Prefix of every Redis key the service writes.")
    max_body_bytes: int = _setting(
        "JIANWU_MAX_BODY_BYTES", 1_048_576, _int(1024, 1_073_741_824), "Largest JSON request body accepted (413 above)."
    )
    log_level: str = _setting(
        "JIANWU_LOG_LEVEL", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "Level of the JSON log on stdout."
    )
    access_log: bool = _setting("JIANWU_ACCESS_LOG", True, _bool, "Write one JSON line per request.")
    trusted_proxies: str = _setting(
        "JIANWU_TRUSTED_PROXIES", "", str,
        "Comma-separated addresses of load balancers whose X-Forwarded-For names the real client.",
    )
    partner_jwks_hosts: str = _setting(
        "JIANWU_PARTNER_JWKS_HOSTS", "", str,
        "Comma-separated host[:port] names a partner client's JWKS URL may point to (private_key_jwt); empty: none.",
    )
    login_ip_limit: int = _setting(
        "JIANWU_LOGIN_IP_LIMIT", 300, _int(1, 1_000_000),
        "Sign-in attempts allowed per client address per 5 minutes (an office behind one NAT shares one).",
    )
    anonymous_filing_ip_limit: int = _setting(
        "JIANWU_ANONYMOUS_FILING_IP_LIMIT", 30, _int(1, 1_000_000),
        "Items filed without an account that one client address may file per hour (a service hall's kiosk or a "
        "carrier's NAT shares one).",
    )
    otp_ip_limit: int = _setting(
        "JIANWU_OTP_IP_LIMIT", 100, _int(1, 1_000_000),
        "Sign-in codes one client address may request per hour (mobile carriers put many phones behind one).",
    )
    sweep_interval: int = _setting(
        "JIANWU_SWEEP_INTERVAL", 300, _int(0, 86_400),
        "Seconds between flow-monitoring sweeps (overdue clocks, the escalation ladder); 0 turns the sweep off.",
    )
    metrics_token: str | None = _setting(
        "JIANWU_METRICS_TOKEN", None, str,
        "Bearer token a Prometheus scraper sends to /metrics; unset: /metrics answers 404.",
    )
    received_at_max_days: int = _setting(
        "JIANWU_RECEIVED_AT_MAX_DAYS", 366, _int(1, 3650),
        "How many days back staff may date an item they file (a letter's receipt); never in the future.",
    )
    oidc_issuer: str | None = _setting(
        "JIANWU_OIDC_ISSUER", None, _url("https", "http"),
        "Single sign-on: issuer URL of the intranet's OpenID Connect identity service. Unset: sign-on is off.",
    )
    oidc_client_id: str | None = _setting("JIANWU_OIDC_CLIENT_ID", None, str, "Single sign-on: our client id there.")
    oidc_client_secret: str | None = _setting(
        "JIANWU_OIDC_CLIENT_SECRET", None, str, "Single sign-on: our client secret there."
    )
    oidc_redirect_uri: str | None = _setting(
        "JIANWU_OIDC_REDIRECT_URI", None, str, "Single sign-on: the staff app's redirect URI registered there."
    )
    oidc_claim: str = _setting(
        "JIANWU_OIDC_CLAIM", "preferred_username", str,
        "Single sign-on: the ID token claim whose value is the Jianwu username of the account signing in.",
    )
    push_fakes: bool = _setting(
        "JIANWU_PUSH_FAKES", False, _bool,
        "Deliver pushes to local fake providers (push/fakes) started beside the worker: development only.",
    )
    push_max_attempts: int = _setting(
        "JIANWU_PUSH_MAX_ATTEMPTS", 12, _int(1, 100),
        "Tries of one push or webhook before it is dead-lettered (backoff doubles from 1 s, with jitter).",
    )
    apns_key_file: Path | None = _setting(  # noqa: RUF009  read from the environment, as data_dir
        "JIANWU_APNS_KEY_FILE", None, Path, "APNs: the .p8 signing key file (ES256). Unset: no APNs sends.",
    )
    apns_key_id: str | None = _setting("JIANWU_APNS_KEY_ID", None, str, "APNs: the key's id.")
    apns_team_id: str | None = _setting("JIANWU_APNS_TEAM_ID", None, str, "APNs: the developer team id.")
    apns_topic: str | None = _setting("JIANWU_APNS_TOPIC", None, str, "APNs: the app's bundle id.")
    apns_url: str = _setting(
        "JIANWU_APNS_URL", "https://api.push.apple.com", _url("https", "http"), "APNs: the provider API's base URL.",
    )
    huawei_app_id: str | None = _setting("JIANWU_HUAWEI_APP_ID", None, str, "Huawei Push Kit: the app id.")
    huawei_client_secret: str | None = _setting(
        "JIANWU_HUAWEI_CLIENT_SECRET", None, str, "Huawei Push Kit: the app's client secret.",
    )
    huawei_token_url: str = _setting(
        "JIANWU_HUAWEI_TOKEN_URL", "https://oauth-login.cloud.huawei.com/oauth2/v3/token", _url("https", "http"),
        "Huawei Push Kit: the OAuth token endpoint.",
    )
    huawei_push_url: str = _setting(
        "JIANWU_HUAWEI_PUSH_URL", "https://push-api.cloud.huawei.com", _url("https", "http"),
        "Huawei Push Kit: the push API's base URL.",
    )
    honor_app_id: str | None = _setting("JIANWU_HONOR_APP_ID", None, str, "Honor Push: the app id.")
    honor_client_id: str | None = _setting("JIANWU_HONOR_CLIENT_ID", None, str, "Honor Push: the OAuth client id.")
    honor_client_secret: str | None = _setting(
        "JIANWU_HONOR_CLIENT_SECRET", None, str, "Honor Push: the OAuth client secret. Unset: no Honor sends.",
    )
    honor_token_url: str = _setting(
        "JIANWU_HONOR_TOKEN_URL", "https://iam.developer.honor.com/auth/token", _url("https", "http"),
        "Honor Push: the OAuth token endpoint.",
    )
    honor_push_url: str = _setting(
        "JIANWU_HONOR_PUSH_URL", "https://push-api.cloud.honor.com", _url("https", "http"),
        "Honor Push: the push API's base URL.",
    )
    xiaomi_app_secret: str | None = _setting(
        "JIANWU_XIAOMI_APP_SECRET", None, str, "Xiaomi MiPush: the app's AppSecret. Unset: no Xiaomi sends.",
    )
    xiaomi_package: str | None = _setting(
        "JIANWU_XIAOMI_PACKAGE", None, str, "Xiaomi MiPush: the Android app's package name.",
    )
    xiaomi_url: str = _setting(
        "JIANWU_XIAOMI_URL", "https://api.xmpush.xiaomi.com", _url("https", "http"),
        "Xiaomi MiPush: the API's base URL.",
    )
    oppo_app_key: str | None = _setting("JIANWU_OPPO_APP_KEY", None, str, "OPPO PUSH: the app's AppKey.")
    oppo_master_secret: str | None = _setting(
        "JIANWU_OPPO_MASTER_SECRET", None, str, "OPPO PUSH: the app's MasterSecret. Unset: no OPPO sends.",
    )
    oppo_url: str = _setting(
        "JIANWU_OPPO_URL", "https://api.push.oppomobile.com", _url("https", "http"), "OPPO PUSH: the API's base URL.",
    )
    vivo_app_id: str | None = _setting("JIANWU_VIVO_APP_ID", None, str, "vivo Push: the app id.")
    vivo_app_key: str | None = _setting("JIANWU_VIVO_APP_KEY", None, str, "vivo Push: the app's AppKey.")
    vivo_app_secret: str | None = _setting(
        "JIANWU_VIVO_APP_SECRET", None, str, "vivo Push: the app's AppSecret. Unset: no vivo sends.",
    )
    vivo_url: str = _setting(
        "JIANWU_VIVO_URL", "https://api-push.vivo.com.cn", _url("https", "http"), "vivo Push: the API's base URL.",
    )
    fcm_credentials_file: Path | None = _setting(  # noqa: RUF009  read from the environment, as data_dir
        "JIANWU_FCM_CREDENTIALS_FILE", None, Path,
        "FCM HTTP v1: the service account JSON file (phones outside the mainland). Unset: no FCM sends.",
    )
    fcm_url: str = _setting(
        "JIANWU_FCM_URL", "https://fcm.googleapis.com", _url("https", "http"), "FCM HTTP v1: the API's base URL.",
    )
    vapid_key_file: Path | None = _setting(  # noqa: RUF009  read from the environment, as data_dir
        "JIANWU_VAPID_KEY_FILE", None, Path,
        "Web Push: our VAPID private key (P-256 PEM) for the admin console and H5 pages. Unset: no Web Push.",
    )
    vapid_subject: str = _setting(
        "JIANWU_VAPID_SUBJECT", "mailto:push@jianwu.invalid", str, "Web Push: the contact the push services see.",
    )
    webpush_hosts: tuple[str, ...] = _setting(
        "JIANWU_WEBPUSH_HOSTS",
        ("fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com", ".notify.windows.com"),
        lambda raw: tuple(h.strip().lower() for h in raw.split(",") if h.strip()),
        "Web Push: the push services a browser subscription may point at (comma-separated; `.example.com` allows "
        "its subdomains, an address or network allows that address).",
    )
    secret_key: str | None = _setting(
        "JIANWU_SECRET_KEY", None, str,
        "Key that encrypts signing keys and personal data at rest (32+ characters). Outside production, "
        "one is generated into the data directory when unset.",
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | os._Environ[str] | None = None) -> Settings:
        """Read and validate every setting; raise SettingsError naming the first bad variable."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["env"]
            raw = environ.get(name)
            if raw is None or (raw == "" and f.default is None):
                continue
            try:
                values[f.name] = f.metadata["parse"](raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r} is invalid: {exc}") from None
        settings = cls(**values)
        if settings.secret_key is not None and len(settings.secret_key) < 32:
            raise SettingsError("JIANWU_SECRET_KEY is invalid: must be at least 32 characters")
        oidc = (settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_redirect_uri)
        if any(oidc) and not all(oidc):
            raise SettingsError("JIANWU_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URI go together")
        apns = (settings.apns_key_file, settings.apns_key_id, settings.apns_team_id, settings.apns_topic)
        if any(apns) and not all(apns):
            raise SettingsError("JIANWU_APNS_KEY_FILE, _KEY_ID, _TEAM_ID and _TOPIC go together")
        if settings.apns_key_file is not None and not settings.apns_key_file.is_file():
            raise SettingsError(f"JIANWU_APNS_KEY_FILE: no such file {settings.apns_key_file}")
        if settings.vapid_key_file is not None and not settings.vapid_key_file.is_file():
            raise SettingsError(f"JIANWU_VAPID_KEY_FILE: no such file {settings.vapid_key_file}")
        if settings.fcm_credentials_file is not None and not settings.fcm_credentials_file.is_file():
            raise SettingsError(f"JIANWU_FCM_CREDENTIALS_FILE: no such file {settings.fcm_credentials_file}")
        if bool(settings.huawei_app_id) != bool(settings.huawei_client_secret):
            raise SettingsError("JIANWU_HUAWEI_APP_ID and _CLIENT_SECRET go together")
        for names, group in (
            ("JIANWU_HONOR_APP_ID, _CLIENT_ID and _CLIENT_SECRET",
             (settings.honor_app_id, settings.honor_client_id, settings.honor_client_secret)),
            ("JIANWU_XIAOMI_APP_SECRET and _PACKAGE", (settings.xiaomi_app_secret, settings.xiaomi_package)),
            ("JIANWU_OPPO_APP_KEY and _MASTER_SECRET", (settings.oppo_app_key, settings.oppo_master_secret)),
            ("JIANWU_VIVO_APP_ID, _APP_KEY and _APP_SECRET",
             (settings.vivo_app_id, settings.vivo_app_key, settings.vivo_app_secret)),
        ):
            if any(group) and not all(group):
                raise SettingsError(f"{names} go together")
        if settings.database_replica_url is not None:
            if settings.database_url is None:
                raise SettingsError("DATABASE_REPLICA_URL needs DATABASE_URL: the embedded server has no replica")
            if settings.database_replica_url == settings.database_url:
                raise SettingsError("DATABASE_REPLICA_URL must name a replica, not DATABASE_URL itself")
        if settings.env == "production" and settings.secret_key is None:
            raise SettingsError("JIANWU_SECRET_KEY is required when JIANWU_ENV=production")
        return settings

    @property
    def data_path(self) -> Path:
        """The data directory as an absolute path."""
        return self.data_dir.expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; exits with one clear line when a value is bad."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"jianwu: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, for the README."""
    rows = []
    for f in fields(Settings):
        default = "unset" if f.default is None else str(f.default)
        if f.name == "workers":
            default = "cores (≥ 2)"
        rows.append((f.metadata["env"], default, f.metadata["doc"]))
    return rows


def master_secret(settings: Settings) -> str:
    """JIANWU_SECRET_KEY, or outside production a random one kept in <data dir>/secret.key (created once)."""
    if settings.secret_key:
        return settings.secret_key
    if settings.env == "production":
        raise SettingsError("JIANWU_SECRET_KEY is required when JIANWU_ENV=production")
    import secrets

    path = settings.data_path / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when several workers start at once, exactly one writes the key and the rest read it.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    for _ in range(50):
        value = path.read_text().strip()
        if value:
            return value
        import time

        time.sleep(0.02)
    raise SettingsError(f"{path} is empty; delete it or set JIANWU_SECRET_KEY")
