"""Recovery in seconds: a worker SIGKILLed in the middle of a 100,000-product copy, with the
production lease settings (heartbeat every 2 s, stale after 6 s, reaper every 5 s). A job
that is alive but slow keeps its process however long a step takes; a dead one loses it to
the live worker within seconds, which resumes after the last committed batch and leaves
exactly one copy of every product."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tests.chaos.conftest import submit_northwind, wait_completed, wait_for
from webapp.demo import ensure_platforms, seed_bulk
from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    Organization,
    PriceListItem,
    Process,
    ProcessTask,
    Product,
    SyncStatus,
    TenantReseller,
    utcnow,
)

pytestmark = pytest.mark.slow

N = 100_000
# The defaults of webapp/config.py (the chaos suite's own are shorter), and a real batch size.
PRODUCTION_LEASE = {
    "HEARTBEAT_STALE_SECONDS": "6",
    "HEARTBEAT_INTERVAL_SECONDS": "2",
    "MAINTENANCE_INTERVAL": "5",
    "WORKER_TTL": "30",
    "JOB_MONITORING_INTERVAL": "10",
    "COPY_BATCH_SIZE": "5000",
}


def sync_with_every_platform(account_name: str) -> None:
    """The bulk list spans every platform: the reseller must be synced where one requires it."""
    account = db.session.scalar(select(Account).where(Account.name == account_name))
    synced = set(
        db.session.scalars(
            select(AccountPlatformSync.platform_id).where(
                AccountPlatformSync.account_id == account.id
            )
        )
    )
    for platform in ensure_platforms().values():
        if platform.requires_reseller_sync and platform.id not in synced:
            db.session.add(
                AccountPlatformSync(
                    organization_id=account.organization_id,
                    account_id=account.id,
                    platform_id=platform.id,
                    status=SyncStatus.SYNCED_AS_RESELLER,
                    external_reference=f"TEST-{platform.id}",
                    synced_at=utcnow(),
                )
            )
    db.session.commit()


def copy_task(app, process_id: int) -> tuple[int, str]:
    """(products copied so far, the runner token holding the process)."""
    with app.app_context():
        done = db.session.scalar(
            select(ProcessTask.items_done).where(
                ProcessTask.process_id == process_id, ProcessTask.step == "copy_products"
            )
        )
        token = db.session.scalar(select(Process.runner_token).where(Process.id == process_id))
        return done or 0, token


def test_a_killed_copy_moves_again_within_seconds_and_a_slow_one_keeps_its_lease(
    app, demo, workers
):
    with app.app_context():
        seed_bulk(db.session.get(Organization, demo), N, name="Bulk EUR")
        sync_with_every_platform("Northwind Cloud")
    process_id = submit_northwind(app, price_list_name="Bulk EUR")
    doomed = workers.start(pause_at="copy_products:batch-committed:4", extra_env=PRODUCTION_LEASE)
    horse = workers.wait_paused(timeout=120)
    paused_done, paused_token = copy_task(app, process_id)
    assert paused_done == 4 * 5000

    # A live worker joins; the paused job stays in its step longer than the 6 s lease,
    # yet its lease thread keeps the process: nobody takes it over.
    workers.start(extra_env=PRODUCTION_LEASE)
    time.sleep(8)
    assert copy_task(app, process_id) == (paused_done, paused_token)

    workers.kill(doomed, horse)
    killed = time.monotonic()
    moving = wait_for(
        lambda: copy_task(app, process_id)[0] > paused_done,
        60,
        "the live worker to resume the copy",
        interval=0.05,
    )
    seconds = time.monotonic() - killed
    print(f"\nSIGKILL mid-copy of {N:,} products -> moving again after {seconds:.1f} s")
    assert moving
    assert copy_task(app, process_id)[1] != paused_token  # a new job holds it

    wait_completed(app, process_id, timeout=300)
    with app.app_context():
        process = db.session.get(Process, process_id)
        org_id = db.session.get(TenantReseller, process.tenant_reseller_id).tenant_organization_id
        copies = select(Product.source_product_id).where(Product.organization_id == org_id)
        assert db.session.scalar(select(func.count()).select_from(copies.subquery())) == N
        assert (
            db.session.scalar(
                select(func.count(func.distinct(Product.source_product_id))).where(
                    Product.organization_id == org_id
                )
            )
            == N
        )
        assert (
            db.session.scalar(select(func.count()).where(PriceListItem.organization_id == org_id))
            == N
        )
        assert process.attempts == 2
