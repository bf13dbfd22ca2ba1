"""Start-up settings for running on many machines: the secret key, the proxy hops and the
database pool come from the environment, and production refuses to start without a key."""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.config import MissingSecretKey, Settings, engine_options
from webapp.extensions import db


def _without(config: dict, *keys: str) -> dict:
    return {k: v for k, v in config.items() if k not in keys}


def test_production_refuses_to_start_without_a_secret_key(app, monkeypatch):
    """No SECRET_KEY outside development or tests: create_app raises instead of signing
    sessions with a key anyone can read in the source."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    config = {**_without(app.config, "APP_ENV"), "TESTING": False, "SECRET_KEY": ""}
    with pytest.raises(MissingSecretKey, match="SECRET_KEY is not set"):
        create_app(config)


def test_development_keeps_a_random_key_in_the_instance_folder(app, tmp_path, monkeypatch):
    """APP_ENV=development without SECRET_KEY: a random key, the same on the next start (kept
    in the instance folder), never the same on two machines."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    config = {**_without(app.config, "APP_ENV"), "TESTING": False, "SECRET_KEY": ""}
    import webapp

    monkeypatch.setattr(webapp, "INSTANCE_DIR", tmp_path)
    first = create_app(config)
    first_key = first.config["SECRET_KEY"]
    assert first_key and len(first_key) >= 32
    assert first_key != "dev-only-secret-change-me"
    second = create_app(config)
    assert second.config["SECRET_KEY"] == first_key
    for built in (first, second):
        with built.app_context():
            db.engine.dispose()


def test_the_secret_key_from_the_environment_is_used(monkeypatch):
    """SECRET_KEY set: it signs the sessions (production)."""
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    assert Settings.from_environment().secret_key == "a-long-production-secret"


def test_engine_options_come_from_the_environment(monkeypatch):
    """DB_POOL_SIZE / DB_MAX_OVERFLOW bound each process's PostgreSQL connections, and
    pool_pre_ping replaces connections a restart or PgBouncer closed."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/bss")
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "2")
    config = Settings.from_environment().flask_config()
    options = engine_options(config)
    assert options["pool_size"] == 3
    assert options["max_overflow"] == 2
    assert options["pool_pre_ping"] is True


def test_the_engine_is_built_with_those_options(app):
    """The app's engine uses the configured pool (PostgreSQL) or the busy timeout (SQLite)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            assert engine.pool.size() == app.config["DB_POOL_SIZE"]
            assert engine.pool._pre_ping is True
        else:
            options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
            assert options["connect_args"]["timeout"] == app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000


def test_trusted_proxy_hops_replaces_proxy_count(monkeypatch):
    """TRUSTED_PROXY_HOPS is the one setting; the former PROXY_COUNT is still read."""
    monkeypatch.delenv("TRUSTED_PROXY_HOPS", raising=False)
    monkeypatch.setenv("PROXY_COUNT", "2")
    assert Settings.from_environment().flask_config()["TRUSTED_PROXY_HOPS"] == 2
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    assert Settings.from_environment().flask_config()["TRUSTED_PROXY_HOPS"] == 1
    monkeypatch.delenv("TRUSTED_PROXY_HOPS")
    monkeypatch.delenv("PROXY_COUNT")
    assert Settings.from_environment().flask_config()["TRUSTED_PROXY_HOPS"] == 0
