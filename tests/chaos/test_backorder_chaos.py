"""Back-ordering propagation survives a SIGKILL of its worker: applied exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.chaos.conftest import wait_for
from tests.helpers import submit_creation
from webapp.extensions import db
from webapp.models import Account, DomainEvent, Order, PriceList, Product, TenantReseller
from webapp.services import backordering, commerce

pytestmark = pytest.mark.slow


def test_propagation_completes_after_the_worker_is_killed(
    app, demo, auth, client, run_jobs, workers
):
    """Kill worker and horse just before the event's commit; a new worker applies it once."""
    auth.login()
    submit_creation(client, app)
    run_jobs()
    with app.app_context():
        tenant = db.session.scalar(select(TenantReseller))
        backordering.start_activation(tenant, None)
    run_jobs()
    with app.app_context():
        org_id = db.session.scalar(select(TenantReseller.tenant_organization_id))
        customer = commerce.sign_up(org_id, "Buyer", "buyer@example.com", "buyer-password-1", "EUR")
        price_list = db.session.scalar(PriceList.in_org(org_id))
        product = db.session.scalar(Product.in_org(org_id).limit(1))
        lines = commerce.cart_lines(org_id, price_list, {str(product.id): 2})
        commerce.place_order(customer.account, price_list, lines)  # enqueues the propagation
    doomed = workers.start(pause_at="backorder:before-commit")
    horse = workers.wait_paused()
    workers.kill(doomed, horse)
    workers.start()

    def processed():
        with app.app_context():
            return db.session.scalar(select(DomainEvent.status)) == "Processed"

    wait_for(processed, 90, "the event to be applied by the new worker", interval=0.5)
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(Order.managed_by_reseller.is_(True))) == 1
        )
        assert (
            db.session.scalar(select(func.count()).where(Account.managed_by_reseller.is_(True)))
            == 1
        )
