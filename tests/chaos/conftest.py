"""Real `flask worker` (RQ) subprocesses that the chaos tests pause, kill and restart."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.embedded_redis import EmbeddedRedis
from webapp.extensions import db
from webapp.models import (
    Account,
    Organization,
    PlatformSetting,
    PriceList,
    PriceListItem,
    Process,
    Product,
    Storefront,
    TenantReseller,
    User,
)
from webapp.services import creation

ROOT = Path(__file__).resolve().parents[2]

# Short timings so that the whole chaos suite stays well under five minutes: a job silent
# for 3 s is presumed dead, and an idle worker runs its reaper about every second.
CHAOS_SETTINGS = {
    "HEARTBEAT_STALE_SECONDS": "3",
    "WORKER_TTL": "16",
    "MAINTENANCE_INTERVAL": "1",
    "JOB_MONITORING_INTERVAL": "1",
    "COPY_BATCH_SIZE": "10",
}


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its parent) counts as dead.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


class Workers:
    """Starts worker subprocesses against the test database and Redis; stops all at the end."""

    def __init__(self, database_url: str, redis_url: str, tmp_path: Path):
        self.database_url = database_url
        self.redis_url = redis_url
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen] = []
        self.horses: list[int] = []
        self.logs = []

    def start(
        self,
        pause_at: str | None = None,
        redis_url: str | None = None,
        extra_env: dict | None = None,
    ) -> subprocess.Popen:
        env = {
            **os.environ,
            **CHAOS_SETTINGS,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url or self.redis_url,
            "SECRET_KEY": "test-secret",
            **(extra_env or {}),
        }
        env.pop("TRBSS_CHAOS_PAUSE_AT", None)
        if pause_at:
            env["TRBSS_CHAOS_PAUSE_AT"] = pause_at
            env["TRBSS_CHAOS_MARKER"] = str(self.marker)
        log = open(self.tmp_path / f"worker-{len(self.started)}.log", "w")  # noqa: SIM115
        self.logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.started.append(proc)
        return proc

    @property
    def marker(self) -> Path:
        return self.tmp_path / "chaos-marker"

    def wait_paused(self, timeout: float = 30) -> int:
        """The paused work-horse's pid, once it reached the chaos point."""
        text = wait_for(
            lambda: self.marker.exists() and self.marker.read_text(),
            timeout,
            "the worker to reach the chaos point",
        )
        horse = int(text)
        self.horses.append(horse)
        return horse

    def kill(self, worker: subprocess.Popen, horse: int) -> None:
        """SIGKILL the worker and its work-horse (it lives in its own process group)."""
        for pid in (worker.pid, horse):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.wait(10)
        wait_for(lambda: not pid_alive(horse), 10, "the work-horse to die")
        self.marker.unlink(missing_ok=True)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for horse in self.horses:
            if pid_alive(horse):
                os.kill(horse, signal.SIGKILL)
        for log in self.logs:
            log.close()

    def log_text(self) -> str:
        for log in self.logs:
            log.flush()
        return "".join(
            (self.tmp_path / f"worker-{n}.log").read_text() for n in range(len(self.logs))
        )


@pytest.fixture
def own_redis(app, tmp_path):
    """A Redis of this test's own, which it may stop and restart; the app is pointed at it."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    original = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = server.url
    app.extensions["redis_connection"] = None
    try:
        yield server
    finally:
        app.config["REDIS_URL"] = original
        app.extensions["redis_connection"] = None
        server.stop()


@pytest.fixture
def workers(app, migrated, redis_url, tmp_path):
    manager = Workers(migrated, redis_url, tmp_path)
    try:
        yield manager
    finally:
        manager.marker.unlink(missing_ok=True)
        manager.stop_all()


def submit_northwind(
    app, account_name: str = "Northwind Cloud", price_list_name: str = "Partner EUR"
) -> int:
    """Queue a creation through the same service as the form; returns the process id."""
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.name == account_name))
        price_list = db.session.scalar(select(PriceList).where(PriceList.name == price_list_name))
        result = creation.submit(
            account.organization_id,
            None,
            creation.CreationRequest(
                account_id=account.id,
                price_list_id=price_list.id,
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
        return result.process.id


def process_status(app, process_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Process.status).where(Process.id == process_id))


def wait_completed(app, process_id: int, timeout: float = 60) -> None:
    wait_for(
        lambda: process_status(app, process_id) in ("Completed", "Failed"),
        timeout,
        f"process {process_id} to finish",
    )
    assert process_status(app, process_id) == "Completed"


def tenant_snapshot(app, process_id: int) -> dict:
    """Everything the creation made, in a comparable form."""
    with app.app_context():
        process = db.session.get(Process, process_id)
        tenant = db.session.get(TenantReseller, process.tenant_reseller_id)
        org_id = tenant.tenant_organization_id

        def count(model):
            return db.session.scalar(
                select(func.count()).select_from(model).where(model.organization_id == org_id)
            )

        return {
            "process": process.status,
            "tasks": [t.status for t in process.tasks],
            "tenant": tenant.status,
            "organizations": db.session.scalar(
                select(func.count()).where(Organization.parent_id.is_not(None))
            ),
            "products": count(Product),
            "distinct_sources": db.session.scalar(
                select(func.count(func.distinct(Product.source_product_id))).where(
                    Product.organization_id == org_id
                )
            ),
            "costs": sorted(
                (sku, str(cost))
                for sku, cost in db.session.execute(
                    select(Product.sku, Product.cost_price).where(Product.organization_id == org_id)
                )
            ),
            "price_lists": count(PriceList),
            "prices": count(PriceListItem),
            "users": count(User),
            "storefronts": count(Storefront),
            "platform_settings": count(PlatformSetting),
        }


def expected_snapshot(snapshot: dict) -> None:
    """What an undisturbed run makes from Partner EUR: 64 products, one of everything else."""
    assert snapshot["process"] == "Completed"
    assert snapshot["tasks"] == ["Completed"] * 8
    assert snapshot["tenant"] == "Active"
    assert snapshot["organizations"] == 1
    assert snapshot["products"] == snapshot["distinct_sources"] == 64
    assert snapshot["prices"] == 64 and snapshot["price_lists"] == 1
    assert snapshot["users"] == 1 and snapshot["storefronts"] == 1
    assert snapshot["platform_settings"] == 4
