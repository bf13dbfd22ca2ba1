"""Migration 0020 (people: one-time links, recovery codes, storefront sessions, two-factor
columns) keeps every existing row and gives the new columns their defaults."""

from __future__ import annotations

import os
import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from webapp import create_app
from webapp.config import normalise_database_url
from webapp.extensions import db

BEFORE = "e1a0c0de0004"  # the revision this migration follows


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request, tmp_path):
    """An empty database of each kind (PostgreSQL only when TEST_DATABASE_URL is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'people.sqlite3'}"
        return
    base = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not base:
        pytest.skip("PostgreSQL runs when TEST_DATABASE_URL is set")
    base = normalise_database_url(base)
    name = f"trbss_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_keeps_users_organizations_and_tenants(scratch_url, redis_url):
    """Rows written under the previous revision are all there after the upgrade (and after a
    downgrade back); nobody is required to use two-factor, nobody has it, and no
    administrator counts as invited."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": scratch_url,
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        upgrade(revision=BEFORE)
        now = "2026-11-20 10:00:00+00:00"
        statements = [
            "INSERT INTO organization (id, name, client_id, language, timezone, date_format, "
            "currency, status, created_at) VALUES (1, 'Demo', 'DEMO', 'en', 'UTC', "
            f"'dd/MM/yyyy', 'EUR', 'Active', '{now}')",
            'INSERT INTO "user" (id, username, email, password_hash, role, active, '
            f"organization_id, created_at) VALUES (1, 'admin', 'a@x.example', '$argon2id$x', "
            f"'admin', true, 1, '{now}')",
            "INSERT INTO account (id, organization_id, name, email, is_reseller, "
            "is_lite_reseller, enabled_for_ordering, billing_currency, separate_invoices, "
            f"managed_by_reseller, created_at) VALUES (1, 1, 'Northwind', '', true, false, "
            f"true, 'EUR', false, false, '{now}')",
            "INSERT INTO price_list (id, organization_id, name, currency, active, created_at) "
            f"VALUES (1, 1, 'Partner EUR', 'EUR', true, '{now}')",
            "INSERT INTO tenant_reseller (id, organization_id, account_id, price_list_id, "
            "language, timezone, date_format, edition, separate_invoices, admin_username, "
            "admin_email, admin_password_hash, was_lite_reseller, back_ordering_active, status, "
            f"created_at) VALUES (1, 1, 1, 1, 'en', 'UTC', 'dd/MM/yyyy', 'Basic', false, "
            f"'nwadmin', 'nw@x.example', '$argon2id$y', false, false, 'In Progress', '{now}')",
        ]
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        upgrade()
        with db.engine.connect() as conn:
            org = conn.execute(
                text("SELECT name, require_admin_two_factor FROM organization")
            ).one()
            user = conn.execute(
                text('SELECT username, password_hash, totp_secret, totp_enabled_at FROM "user"')
            ).one()
            tenant = conn.execute(
                text(
                    "SELECT admin_username, admin_password_hash, invite_admin, admin_welcomed_at "
                    "FROM tenant_reseller"
                )
            ).one()
        assert (org.name, bool(org.require_admin_two_factor)) == ("Demo", False)
        assert tuple(user) == ("admin", "$argon2id$x", None, None)
        assert (tenant.admin_username, tenant.admin_password_hash) == ("nwadmin", "$argon2id$y")
        assert (bool(tenant.invite_admin), tenant.admin_welcomed_at) == (False, None)
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(text('SELECT username FROM "user"')).scalar() == "admin"
            assert conn.execute(text("SELECT admin_username FROM tenant_reseller")).scalar() == (
                "nwadmin"
            )
        db.engine.dispose()
