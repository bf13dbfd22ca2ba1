"""Long price work runs as a process, batch by batch, on a real worker: another request writes
while a markup of a large list is half-way, and the markup still sets every price."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from tests.chaos.conftest import wait_completed, wait_for
from webapp.demo import seed_bulk
from webapp.extensions import db
from webapp.models import Account, Organization, PriceListItem, Process, Product
from webapp.services import price_work

pytestmark = pytest.mark.slow

PRODUCTS = 20_000


def test_a_markup_of_a_large_list_lets_other_writes_through(app, demo, workers):
    with app.app_context():
        org = db.session.get(Organization, demo)
        bulk = seed_bulk(org, PRODUCTS)
        db.session.execute(
            update(Product)
            .where(Product.organization_id == demo, Product.category == "Bulk")
            .values(cost_price=Decimal("10.00"), cost_currency="EUR")
        )
        db.session.commit()
        launched = price_work.start_markup(demo, bulk, None, Decimal("10"), "cent", None, None)
        process_id, list_id = launched.process.id, bulk.id
    # Slow batches of 500 so that the markup runs for several seconds on any machine.
    workers.start(extra_env={"COPY_BATCH_SIZE": "500", "TRBSS_CHAOS_BATCH_SECONDS": "0.05"})

    def half_way():
        with app.app_context():
            task = db.session.get(Process, process_id).tasks[0]
            return task.items_total and 0 < task.items_done < task.items_total / 2

    wait_for(half_way, 60, "the markup to be under way")
    began = time.monotonic()
    with app.app_context():  # another request's write, while the markup runs
        account = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        account.name = "Northwind Cloud (renamed during a markup)"
        db.session.commit()
        waited = time.monotonic() - began
        task = db.session.get(Process, process_id).tasks[0]
        still_running = task.items_done < task.items_total
    print(f"a write during a {PRODUCTS:,}-product markup committed in {waited:.3f} s")
    assert still_running, "the write waited for the whole markup"

    wait_completed(app, process_id, timeout=180)
    with app.app_context():
        priced = db.session.execute(
            select(
                func.count(),
                func.min(PriceListItem.retail_price),
                func.max(PriceListItem.retail_price),
            )
            .join(Product, Product.id == PriceListItem.product_id)
            .where(PriceListItem.price_list_id == list_id, Product.category == "Bulk")
        ).one()
        assert priced == (PRODUCTS, Decimal("11.00"), Decimal("11.00"))
        process = db.session.get(Process, process_id)
        assert process.tasks[0].items_done == process.tasks[0].items_total
