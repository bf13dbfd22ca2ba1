"""Configuration read once from the environment, with typed defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Local state of `make run` (SQLite file, embedded Redis); INSTANCE_PATH moves it (tests do).
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH") or PROJECT_ROOT / "instance")


def env_str(name: str, default: str) -> str:
    """A string setting; empty counts as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    """An integer setting; a malformed value is a start-up error, not a silent default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    """A number setting; a malformed value is a start-up error, not a silent default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    """A boolean setting: 1/true/yes/on or 0/false/no/off."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean, got {raw!r}")


def env_hosts(name: str) -> tuple[str, ...]:
    """A comma-separated list of host names: lower case, no port, no trailing dot."""
    raw = os.environ.get(name, "")
    hosts = []
    for item in raw.split(","):
        host = item.strip().lower().rstrip(".")
        if host:
            hosts.append(host)
    return tuple(hosts)


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    """Every setting the application reads from its environment."""

    database_url: str
    redis_url: str | None
    secret_key: str
    port: int
    session_cookie_secure: bool
    copy_batch_size: int
    heartbeat_stale_seconds: int
    max_attempts: int
    worker_ttl: int
    maintenance_interval: int
    job_timeout: int
    mail_server: str | None
    mail_port: int
    mail_from: str
    mail_use_tls: bool
    app_env: str = "production"
    trusted_proxy_hops: int = 0
    db_pool_size: int = 2
    db_max_overflow: int = 3
    db_pool_recycle: int = 1800

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            database_url=normalise_database_url(
                env_str("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'bss.sqlite3'}")
            ),
            redis_url=os.environ.get("REDIS_URL", "").strip() or None,
            secret_key=os.environ.get("SECRET_KEY", "").strip(),
            port=env_int("PORT", 5000),
            session_cookie_secure=env_bool("SESSION_COOKIE_SECURE", True),
            copy_batch_size=env_int("COPY_BATCH_SIZE", 5000),
            heartbeat_stale_seconds=env_int("HEARTBEAT_STALE_SECONDS", 6),
            max_attempts=env_int("PROCESS_MAX_ATTEMPTS", 5),
            worker_ttl=env_int("WORKER_TTL", 30),
            maintenance_interval=env_int("MAINTENANCE_INTERVAL", 5),
            job_timeout=env_int("JOB_TIMEOUT", 3600),
            mail_server=os.environ.get("MAIL_SERVER", "").strip() or None,
            mail_port=env_int("MAIL_PORT", 25),
            mail_from=env_str("MAIL_FROM", "noreply@localhost"),
            mail_use_tls=env_bool("MAIL_USE_TLS", False),
            app_env=env_str("APP_ENV", "production").lower(),
            # PROXY_COUNT is the setting's former name, still honoured.
            trusted_proxy_hops=env_int("TRUSTED_PROXY_HOPS", env_int("PROXY_COUNT", 0)),
            # At most 5 connections per process: see "Connections" in the README.
            db_pool_size=env_int("DB_POOL_SIZE", 2),
            db_max_overflow=env_int("DB_MAX_OVERFLOW", 3),
            db_pool_recycle=env_int("DB_POOL_RECYCLE", 1800),
        )

    def flask_config(self) -> dict:
        """The Flask config keys these settings map to."""
        return {
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "APP_ENV": self.app_env,
            "DB_POOL_SIZE": self.db_pool_size,
            "DB_MAX_OVERFLOW": self.db_max_overflow,
            "DB_POOL_RECYCLE": self.db_pool_recycle,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": self.secret_key,
            "PORT": self.port,
            "SESSION_COOKIE_SECURE": self.session_cookie_secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.session_cookie_secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            # The server enforces idle and absolute timeouts (UserSession); not re-sending the
            # cookie on every response keeps a late static request from dropping a flash.
            "PERMANENT_SESSION_LIFETIME": env_int("SESSION_ABSOLUTE_HOURS", 12) * 3600,
            "SESSION_REFRESH_EACH_REQUEST": False,
            "WTF_CSRF_TIME_LIMIT": None,
            # Far above any form (the branding page's two images may be 1 MB each, which the
            # page checks itself with a message next to the field), far below a memory worry.
            "MAX_CONTENT_LENGTH": env_int("MAX_CONTENT_LENGTH", 4 * 1024 * 1024),
            "COPY_BATCH_SIZE": self.copy_batch_size,
            "HEARTBEAT_STALE_SECONDS": self.heartbeat_stale_seconds,
            # A running process's lease is renewed this often by a thread of its job, whatever
            # the step is doing: a lease three beats long survives a slow beat, not a death.
            "HEARTBEAT_INTERVAL_SECONDS": env_float("HEARTBEAT_INTERVAL_SECONDS", 2.0),
            "PROCESS_MAX_ATTEMPTS": self.max_attempts,
            "WORKER_TTL": self.worker_ttl,
            "MAINTENANCE_INTERVAL": self.maintenance_interval,
            "JOB_MONITORING_INTERVAL": env_int("JOB_MONITORING_INTERVAL", 10),
            "JOB_TIMEOUT": self.job_timeout,
            # How long a SQLite writer waits for another's lock before giving up.
            "SQLITE_BUSY_TIMEOUT_MS": env_int("SQLITE_BUSY_TIMEOUT_MS", 30000),
            # Links in emails are absolute: https://bss.example.com (no trailing slash needed).
            "BASE_URL": env_str("BASE_URL", ""),
            "MAIL_SERVER": self.mail_server,
            "MAIL_PORT": self.mail_port,
            "MAIL_FROM": self.mail_from,
            "MAIL_USE_TLS": self.mail_use_tls,
            "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
            "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
            "SESSION_IDLE_MINUTES": env_int("SESSION_IDLE_MINUTES", 30),
            "JSON_LOGS": env_bool("JSON_LOGS", True),
            "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
            "SESSION_ABSOLUTE_HOURS": env_int("SESSION_ABSOLUTE_HOURS", 12),
            # Reverse proxies in front of the app that append to X-Forwarded-For: sign-in
            # throttling counts per client address, which only they know. 0: none (the
            # address of the connection is the client's, and X-Forwarded-For is ignored).
            "TRUSTED_PROXY_HOPS": self.trusted_proxy_hops,
            # How long a tenant reseller marked as deleted keeps its data (and can be
            # restored) before the reaper purges it.
            "TENANT_RETENTION_DAYS": env_int("TENANT_RETENTION_DAYS", 30),
            # A price list copy with more items than this is a queued process, not a request.
            "PRICE_LIST_COPY_INLINE_MAX": env_int("PRICE_LIST_COPY_INLINE_MAX", 5000),
            # What the reaper forgets, and after how long: ended staff and customer sessions
            # and used or expired links (days past their end), read notifications (days
            # after being read), sent, logged or abandoned emails (days after they were
            # written), API idempotency records (hours). Deleted this many rows per
            # transaction, so a big purge never holds the write lock for long.
            "SESSION_RETENTION_DAYS": env_int("SESSION_RETENTION_DAYS", 1),
            "NOTIFICATION_RETENTION_DAYS": env_int("NOTIFICATION_RETENTION_DAYS", 30),
            "OUTBOX_RETENTION_DAYS": env_int("OUTBOX_RETENTION_DAYS", 30),
            "IDEMPOTENCY_RETENTION_HOURS": env_int("IDEMPOTENCY_RETENTION_HOURS", 24),
            "PURGE_BATCH_SIZE": max(env_int("PURGE_BATCH_SIZE", 1000), 1),
            # The host names the BSS itself answers on (comma list). Never taken from the
            # request: a tenant's custom domain may not be, or end with, one of them.
            "PLATFORM_HOSTS": env_hosts("PLATFORM_HOSTS"),
            # The DNS server (host or host:port) that checks custom domain TXT records; unset:
            # the system's resolvers.
            "DNS_RESOLVER": os.environ.get("DNS_RESOLVER", "").strip() or None,
        }


def engine_options(config: dict) -> dict:
    """SQLAlchemy engine options for the configured database (explicit options win).

    A server database gets a bounded pool: each process holds at most DB_POOL_SIZE +
    DB_MAX_OVERFLOW connections, and with pre-ping a connection that PgBouncer, a failover
    or a restart closed is replaced instead of failing the request. SQLite gets the busy
    timeout, so that concurrent writers queue instead of failing."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
        options["connect_args"] = connect_args
        return options
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", config["DB_POOL_SIZE"])
    options.setdefault("max_overflow", config["DB_MAX_OVERFLOW"])
    options.setdefault("pool_recycle", config["DB_POOL_RECYCLE"])
    return options


DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test", "testing"})


class MissingSecretKey(RuntimeError):
    """SECRET_KEY is unset outside development: sessions would be signed with a known key."""


def development_secret_key(instance_dir: Path) -> str:
    """A random key kept in the instance folder, so local sessions survive restarts."""
    import secrets

    path = instance_dir / "secret_key"
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
