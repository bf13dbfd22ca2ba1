"""The Tenant Reseller BSS web application."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from webapp.config import (
    DEVELOPMENT_ENVIRONMENTS,
    INSTANCE_DIR,
    PROJECT_ROOT,
    MissingSecretKey,
    Settings,
    development_secret_key,
    engine_options,
)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: WAL so readers never wait for the worker's batch writes, and enforced foreign
    keys. (The busy timeout, so that concurrent writers queue instead of failing, is the
    driver's `timeout`, set from SQLITE_BUSY_TIMEOUT_MS in create_app.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, then `config` overrides (tests)."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    from webapp.numbers import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route: ids range-checked
    app.config.from_mapping(Settings.from_environment().flask_config())
    if config:
        app.config.update(config)
    _require_secret_key(app)
    _check_platform_hosts(app)

    from jobs import connection
    from webapp import cli, security, templating
    from webapp.extensions import csrf, db, limiter, login_manager, migrate
    from webapp.ops import logs, rq_admin

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(exist_ok=True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", connection.limiter_storage_uri(app.config["REDIS_URL"])
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    connection.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    logs.init_app(app)
    cli.init_app(app)
    _register_blueprints(app)
    rq_admin.init_app(app)
    from webapp.storefront.hosts import StorefrontHosts

    app.wsgi_app = StorefrontHosts(app.wsgi_app, app)  # Premium custom storefront domains
    hops = app.config.get("TRUSTED_PROXY_HOPS") or 0
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address and scheme from X-Forwarded-For/-Proto, trusting only the
        # entries our own proxies appended (a client can write anything before them).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app


def _require_secret_key(app: Flask) -> None:
    """No SECRET_KEY outside development is a start-up error, not a silently known key.

    In development (APP_ENV=development, as `make run` sets, or debug) a random key is kept in
    the instance folder; tests pass their own."""
    if app.config.get("SECRET_KEY"):
        return
    if app.testing or app.debug or app.config.get("APP_ENV") in DEVELOPMENT_ENVIRONMENTS:
        app.config["SECRET_KEY"] = development_secret_key(Path(app.instance_path))
        return
    raise MissingSecretKey(
        "SECRET_KEY is not set. Set it to a long random value (for example the output of "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`), the same on every web "
        "server and worker; for local development set APP_ENV=development instead."
    )


DEVELOPMENT_HOSTS = ("localhost", "127.0.0.1")


def _check_platform_hosts(app: Flask) -> None:
    """PLATFORM_HOSTS is required in production; development and tests default to localhost."""
    hosts = tuple(h.lower().rstrip(".") for h in app.config.get("PLATFORM_HOSTS") or ())
    local = app.testing or app.config.get("APP_ENV") in ("development", "testing")
    if not hosts and not local:
        raise RuntimeError(
            "PLATFORM_HOSTS must list the host names the BSS answers on, e.g. "
            "PLATFORM_HOSTS=bss.example.com (APP_ENV=development for local use)."
        )
    app.config["PLATFORM_HOSTS"] = hosts or DEVELOPMENT_HOSTS


def _register_blueprints(app: Flask) -> None:
    from webapp.account.routes import bp as account_bp
    from webapp.accounts.routes import bp as accounts_bp
    from webapp.api.routes import bp as api_bp
    from webapp.api.token_routes import bp as api_tokens_bp
    from webapp.auth.routes import bp as auth_bp
    from webapp.backordering.routes import bp as backordering_bp
    from webapp.branding import bp as branding_bp
    from webapp.commerce.routes import bp as commerce_bp
    from webapp.home.routes import bp as home_bp
    from webapp.invoices.routes import bp as invoices_bp
    from webapp.media import bp as media_bp
    from webapp.notifications.routes import bp as notifications_bp
    from webapp.ops.health import bp as ops_bp
    from webapp.ops.queue_health import bp as queue_health_bp
    from webapp.pricelists.routes import bp as pricelists_bp
    from webapp.processes.routes import bp as processes_bp
    from webapp.storefront import bp as storefront_bp
    from webapp.storefront.customer_session import save as save_store_session
    from webapp.tenants.routes import bp as tenants_bp
    from webapp.users.routes import bp as users_bp

    for blueprint in (
        auth_bp,
        home_bp,
        accounts_bp,
        pricelists_bp,
        tenants_bp,
        processes_bp,
        notifications_bp,
        storefront_bp,
        media_bp,
        branding_bp,
        commerce_bp,
        backordering_bp,
        invoices_bp,
        ops_bp,
        queue_health_bp,
        users_bp,
        account_bp,
        api_bp,
        api_tokens_bp,
    ):
        app.register_blueprint(blueprint)
    from webapp.extensions import csrf

    csrf.exempt(api_bp)  # token authentication, no cookies: nothing for CSRF to protect
    app.after_request(save_store_session)
