"""Twenty creations submitted at once, two real workers: all complete, each with its own rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.chaos.conftest import submit_northwind, wait_for
from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    Organization,
    Process,
    Product,
    ProvisioningPlatform,
    SyncStatus,
    TenantReseller,
    utcnow,
)

pytestmark = pytest.mark.slow
COUNT = 20


def _make_resellers(app, count: int) -> list[str]:
    """`count` more accounts like Northwind Cloud: ready with Partner EUR."""
    names = [f"Reseller {i:02d}" for i in range(1, count + 1)]
    with app.app_context():
        org_id = db.session.scalar(select(Organization.id).where(Organization.client_id == "DEMO"))
        platforms = db.session.scalars(select(ProvisioningPlatform)).all()
        for name in names:
            account = Account(
                organization_id=org_id,
                name=name,
                is_reseller=True,
                enabled_for_ordering=True,
                billing_currency="EUR",
            )
            db.session.add(account)
            db.session.flush()
            for platform in platforms:
                db.session.add(
                    AccountPlatformSync(
                        organization_id=org_id,
                        account_id=account.id,
                        platform_id=platform.id,
                        status=SyncStatus.SYNCED_AS_RESELLER,
                        # readiness counts a sync that happened: a reference and a time
                        external_reference=f"REF-{account.id}-{platform.id}",
                        synced_at=utcnow(),
                    )
                )
        db.session.commit()
    return names


def test_twenty_processes_on_two_workers_all_complete(app, demo, workers):
    """No process is lost or mixed up when many run at once."""
    names = _make_resellers(app, COUNT)
    ids = [submit_northwind(app, name) for name in names]
    workers.start()
    workers.start()

    def all_finished():
        with app.app_context():
            statuses = db.session.scalars(select(Process.status).where(Process.id.in_(ids))).all()
            return all(s in ("Completed", "Failed") for s in statuses)

    wait_for(all_finished, 180, "twenty processes to finish", interval=0.5)
    with app.app_context():
        statuses = db.session.scalars(select(Process.status).where(Process.id.in_(ids))).all()
        assert statuses == ["Completed"] * COUNT
        tenants = db.session.scalars(select(TenantReseller)).all()
        assert len({t.tenant_organization_id for t in tenants}) == COUNT
        for tenant in tenants:
            products = db.session.scalar(
                select(func.count()).where(Product.organization_id == tenant.tenant_organization_id)
            )
            assert products == 64, tenant.account.name
            org = db.session.get(Organization, tenant.tenant_organization_id)
            assert org.name == tenant.account.name
        assert (
            db.session.scalar(select(func.count()).where(Product.source_product_id.is_not(None)))
            == 64 * COUNT
        )
