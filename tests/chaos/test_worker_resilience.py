"""Nothing kills a worker: a database locked or unreachable for longer than its timeouts,
Redis going away mid-job, a back-ordering event that fails once. Each time the same worker
process goes on and the work completes afterwards."""

from __future__ import annotations

import signal
import sqlite3
import time

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.chaos.conftest import (
    expected_snapshot,
    submit_northwind,
    tenant_snapshot,
    wait_completed,
    wait_for,
)
from webapp.extensions import db
from webapp.models import (
    Account,
    DomainEvent,
    OutboxEmail,
    PriceList,
    PriceListItem,
    Product,
    TenantReseller,
)
from webapp.services import backordering, commerce, mail, maintenance_errors

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 6  # longer than the busy timeout, the heartbeat lease and a maintenance tick


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def test_worker_survives_a_locked_sqlite_database(app, demo, workers, migrated):
    """Another connection holds SQLite's write lock for longer than the worker's busy
    timeout while a creation copies: the job stops, the reaper's writes fail and are counted,
    the worker lives on, and the creation completes once the lock is released."""
    if not _is_sqlite(migrated):
        pytest.skip("SQLite's write lock")
    process_id = submit_northwind(app)
    worker = workers.start(
        pause_at="copy_products:batch-committed:2", extra_env={"SQLITE_BUSY_TIMEOUT_MS": "300"}
    )
    workers.wait_paused()
    holder = sqlite3.connect(make_url(migrated).database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        workers.marker.unlink()  # the job goes on, into the lock
        time.sleep(OUTAGE_SECONDS)
        assert worker.poll() is None, workers.log_text()
    finally:
        holder.execute("COMMIT")
        holder.close()
    wait_completed(app, process_id, timeout=60)
    expected_snapshot(tenant_snapshot(app, process_id))
    assert worker.poll() is None
    assert "database is locked" in workers.log_text()
    with app.app_context():
        assert sum(maintenance_errors.totals().values()) >= 1


def test_worker_survives_postgresql_refusing_connections(app, demo, workers, migrated):
    """PostgreSQL drops every connection of the database and refuses new ones for a while
    (as during a restart): the worker lives on and the creation completes afterwards."""
    if _is_sqlite(migrated):
        pytest.skip("PostgreSQL connections")
    name = make_url(migrated).database
    admin = create_engine(make_url(migrated).set(database="postgres"), isolation_level="AUTOCOMMIT")
    process_id = submit_northwind(app)
    worker = workers.start(pause_at="copy_products:batch-committed:2")
    workers.wait_paused()
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    try:
        workers.marker.unlink()
        time.sleep(OUTAGE_SECONDS)
        assert worker.poll() is None, workers.log_text()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
    with app.app_context():
        db.engine.dispose()  # the test's own connections were dropped too
    wait_completed(app, process_id, timeout=60)
    expected_snapshot(tenant_snapshot(app, process_id))
    assert worker.poll() is None


def test_worker_survives_a_redis_outage_during_a_job(app, demo, workers, own_redis):
    """Redis stops while the horse copies: the job's work still reaches the database, the
    worker waits for Redis instead of quitting, and takes new work once it is back."""
    process_id = submit_northwind(app)
    worker = workers.start(pause_at="copy_products:batch-committed:2", redis_url=own_redis.url)
    workers.wait_paused()
    own_redis.stop()
    workers.marker.unlink()
    wait_completed(app, process_id, timeout=60)  # the database is the truth
    time.sleep(OUTAGE_SECONDS)
    assert worker.poll() is None, workers.log_text()
    own_redis.start()
    app.extensions["redis_connection"] = None
    with app.app_context():
        email = mail.compose(demo, "someone@example.com", "After the outage", "body")
        db.session.commit()
        email_id = email.id
        mail.deliver([email_id])

    def sent():
        with app.app_context():
            return db.session.get(OutboxEmail, email_id).status == "Logged"

    wait_for(sent, 60, "the same worker to send an email after the outage")
    assert worker.poll() is None
    expected_snapshot(tenant_snapshot(app, process_id))


def test_a_failed_event_is_retried_after_its_interval(app, demo, workers, run_jobs):
    """A back-ordering event that fails (its product left the price list) is retried by RQ's
    scheduler after the interval; once the product is back, the retry propagates it."""
    process_id = submit_northwind(app)
    run_jobs()
    wait_completed(app, process_id, timeout=10)
    with app.app_context():
        tenant = db.session.scalar(select(TenantReseller))
        backordering.start_activation(tenant, None)
    run_jobs()
    with app.app_context():
        tenant = db.session.scalar(select(TenantReseller))
        org_id = tenant.tenant_organization_id
        copy = db.session.scalar(
            Product.in_org(org_id).where(Product.name == "Microsoft 365 Business Basic")
        )
        item = db.session.scalar(
            select(PriceListItem).where(
                PriceListItem.price_list_id == tenant.price_list_id,
                PriceListItem.product_id == copy.source_product_id,
            )
        )
        removed = {
            "organization_id": item.organization_id,
            "price_list_id": item.price_list_id,
            "product_id": item.product_id,
            "retail_price": item.retail_price,
        }
        db.session.delete(item)
        db.session.commit()
        customer = commerce.sign_up(
            org_id, "Buyer GmbH", "buyer@example.com", "buyer-password-1", "EUR"
        ).account
        price_list = db.session.scalar(PriceList.in_org(org_id))
        lines = commerce.cart_lines(org_id, price_list, {str(copy.id): 2})
        commerce.place_order(db.session.get(Account, customer.id), price_list, lines)
    worker = workers.start()

    def event_status():
        with app.app_context():
            return db.session.scalar(select(DomainEvent.status))

    wait_for(lambda: event_status() == "Failed", 30, "the first delivery to fail")
    with app.app_context():
        db.session.add(PriceListItem(**removed))
        db.session.commit()
    wait_for(lambda: event_status() == "Processed", 60, "the scheduled retry")
    with app.app_context():
        event = db.session.scalar(select(DomainEvent))
        assert event.attempts == 1 and event.last_error == ""
    assert worker.poll() is None


def test_sigterm_stops_an_idle_worker(app, demo, workers):
    """SIGTERM to an idle worker stops it (and its scheduler) instead of restarting it."""
    worker = workers.start()
    wait_for(
        lambda: "Listening on" in workers.log_text() or "started" in workers.log_text(),
        30,
        "the worker to start",
    )
    time.sleep(1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0
