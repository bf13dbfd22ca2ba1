"""Back-ordering copies fit the account name column on both sides: a 200-character name
that is already taken in the reseller's BSS is copied down as "… (2)", still 200."""

from __future__ import annotations

from sqlalchemy import select

from tests.test_storefront_public import make_tenant
from webapp.extensions import db
from webapp.models import Account, TenantReseller
from webapp.services import backordering


def test_a_long_duplicate_name_copied_down_fits(app, demo, auth, client, run_jobs):
    tenant_info = make_tenant(app, auth, client, run_jobs)
    name = "L" * 200
    with app.app_context():
        tenant = db.session.scalar(
            select(TenantReseller).where(
                TenantReseller.tenant_organization_id == tenant_info["org_id"]
            )
        )
        source = Account(organization_id=tenant.organization_id, name=name, billing_currency="EUR")
        taken = Account(organization_id=tenant_info["org_id"], name=name, billing_currency="EUR")
        db.session.add_all([source, taken])
        db.session.commit()
        copy = backordering.copy_account_down(tenant, source)
        db.session.commit()  # PostgreSQL refused the 204-character name here
        assert copy.name == "L" * 196 + " (2)"
