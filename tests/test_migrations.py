"""Schema changes go through Alembic: migrations build a fresh schema equal to the models."""

from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from webapp import create_app
from webapp.extensions import db


def _fresh_urls(tmp_path, database_url):
    urls = [f"sqlite:///{tmp_path / 'fresh.sqlite3'}"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append(database_url)  # the run's own new PostgreSQL database, built the same way
    return urls


def test_migrations_build_a_schema_identical_to_the_models(tmp_path, migrated, redis_url):
    """upgrade() on an empty database gives every table, with no drift from the models."""
    for url in _fresh_urls(tmp_path, migrated):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": redis_url,
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        with app.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {
                "organization",
                "user",
                "account",
                "product",
                "price_list_item",
                "tenant_reseller",
                "process",
                "process_task",
                "audit_log",
            } <= tables
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], diff
            db.engine.dispose()


def test_downgrade_to_base_and_back(tmp_path, redis_url):
    """The migrations are reversible on a scratch SQLite database."""
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert "organization" not in inspect(db.engine).get_table_names()
        upgrade()
        assert "organization" in inspect(db.engine).get_table_names()
        db.engine.dispose()
