"""The time remaining is honest: at a fifth of a large copy it is within half of the real
remaining time (tasks weighed by their items, not counted as equal)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tests.chaos.conftest import wait_completed
from webapp.demo import seed_bulk
from webapp.extensions import db
from webapp.models import Account, Organization, PriceList, Process, utcnow
from webapp.services import creation
from webapp.services.processes import estimate

pytestmark = pytest.mark.slow

PRODUCTS = 100_000


def test_estimate_at_a_fifth_of_a_large_copy(app, demo, workers, database_url, request):
    """Measured on a real worker copying 100,000 products in batches of 500, each batch made
    25 ms slower so that the pace is steady even on a busy machine."""
    if database_url.startswith("postgresql"):
        # Known defect, open in the process-engine and scale issues: since the copy batches by
        # source product id, the default price list step runs about twice as fast as the copy
        # on PostgreSQL, and without history the estimate prices it at the copy's pace
        # (estimated 34-36 s, took 18-19 s). Still run, reported as XPASS once fixed.
        request.applymarker(
            pytest.mark.xfail(reason="first-run estimate overrates the price list step on PG")
        )
    with app.app_context():
        seed_bulk(db.session.get(Organization, demo), PRODUCTS)
        account = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        bulk = db.session.scalar(select(PriceList).where(PriceList.name == "Bulk EUR"))
        result = creation.submit(
            demo,
            None,
            creation.CreationRequest(
                account_id=account.id,
                price_list_id=bulk.id,
                language="en",
                timezone="Europe/Athens",
                date_format="dd/MM/yyyy",
                edition="Basic",
                separate_invoices=False,
                admin_username="tenantadmin",
                admin_email="admin@example.com",
                admin_password="a-long-enough-password",
            ),
        )
        assert result.created, result
        process_id = result.process.id
    workers.start(extra_env={"COPY_BATCH_SIZE": "500", "TRBSS_CHAOS_BATCH_SECONDS": "0.025"})
    deadline = time.monotonic() + 120
    guess = at = None
    while time.monotonic() < deadline and guess is None:
        with app.app_context():
            process = db.session.get(Process, process_id)
            copy = next(t for t in process.tasks if t.step == "copy_products")
            if copy.items_total and copy.items_done >= copy.items_total / 5:
                guess, at = estimate.timing(process).remaining, utcnow()
                fraction = copy.items_done / copy.items_total
        time.sleep(0.02)
    assert guess is not None, "the copy never reached a fifth"
    assert fraction < 0.4, f"polled too late ({fraction:.0%})"
    wait_completed(app, process_id, timeout=300)
    with app.app_context():
        finished = db.session.get(Process, process_id).finished_at
    actual = (finished - at).total_seconds()
    assert abs(guess - actual) <= 0.5 * actual, f"estimated {guess:.1f} s, took {actual:.1f} s"
