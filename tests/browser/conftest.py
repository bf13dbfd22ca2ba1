"""Browser fixtures: the test app on a real HTTP server, a real RQ worker subprocess, and
Debian's Chromium driven by Playwright (sync API)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "demo-password-123"


@pytest.fixture
def live_server(app):
    """The test app served over HTTP on a free port, in a daemon thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def _stop_process_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process, wait `grace` seconds, then SIGKILL it and anything it forked."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGCONT)  # in case a test paused it
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    # The group also holds RQ's forked work horse, which must not outlive the worker.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _spawn_worker(
    database_url: str, redis_url: str, log_path: Path, name: str | None = None
) -> subprocess.Popen:
    """Start `flask --app wsgi worker` in its own process group, its output in `log_path`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "COPY_BATCH_SIZE": "25",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    if name is not None:
        command += ["--name", name]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_until_registered(
    proc: subprocess.Popen, redis_url: str, log_path: Path, name: str | None = None
) -> None:
    """Wait (30 s at most) until the worker registered in Redis: any worker, or `name`."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 30
        while True:
            names = {w.name for w in Worker.all(connection=connection)}
            if name in names or (name is None and names):
                return
            if proc.poll() is not None:
                pytest.fail(f"the worker exited ({proc.returncode}); see {log_path}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not register in 30 s; see {log_path}")
            time.sleep(0.1)
    finally:
        connection.close()


@pytest.fixture
def worker_process(app, migrated, redis_url, request):
    """A real `flask --app wsgi worker` subprocess on the test database and Redis.

    Depends on `app` so the tables are cleared and Redis is flushed before the worker
    registers itself; its output goes to test-artifacts/<test>-worker.log."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{_safe_name(request.node.name)}-worker.log"
    proc = _spawn_worker(migrated, redis_url, log_path)
    try:
        _wait_until_registered(proc, redis_url, log_path)
        yield proc
    finally:
        _stop_process_group(proc)


@pytest.fixture
def start_worker(app, migrated, redis_url, request):
    """start_worker() starts a worker like `worker_process` does, but when the test wants
    (for example after it queued a process); returns it once registered in Redis.

    Every worker started is stopped at teardown; the first logs to
    test-artifacts/<test>-worker.log, the next ones to <test>-worker-2.log and so on."""
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = _safe_name(request.node.name)
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        number = len(started) + 1
        suffix = "" if number == 1 else f"-{number}"
        log_path = ARTIFACTS / f"{prefix}-worker{suffix}.log"
        name = f"browser-test-{os.getpid()}-{number}"
        proc = _spawn_worker(migrated, redis_url, log_path, name=name)
        started.append(proc)
        _wait_until_registered(proc, redis_url, log_path, name=name)
        return proc

    try:
        yield start
    finally:
        for proc in reversed(started):
            _stop_process_group(proc)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium under Playwright; skipped without it, except on CI where it fails."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def viewport():
    """The window size; a test overrides it with @pytest.mark.parametrize("viewport", ...)."""
    return {"width": 1280, "height": 900}


@pytest.fixture
def browser_page(chromium, viewport):
    """A fresh page (own cookies) in Chromium at `viewport`, closed after the test."""
    context = chromium.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def new_page(chromium, viewport):
    """new_page() opens one more page with its own cookies (another person, say) at
    `viewport`; every one is closed after the test."""
    contexts = []

    def open_page():
        context = chromium.new_context(viewport=viewport)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "what") saves test-artifacts/<test>-<what>.png for humans to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = _safe_name(request.node.name)

    def take(page, what: str) -> Path:
        path = ARTIFACTS / f"{prefix}-{_safe_name(what)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in(browser_page, live_server):
    """sign_in(client_id, username, password) through the real login form of `live_server`."""

    def submit(client_id="DEMO", username="admin", password=DEMO_PASSWORD):
        page = browser_page
        page.goto(f"{live_server}/login")
        page.get_by_label("Client ID").fill(client_id)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert "/login" not in page.url, page.locator("main").inner_text()

    return submit


@dataclass(frozen=True)
class MadeTenant:
    """What a test needs of a tenant reseller made by `northwind_tenant`."""

    tenant_id: int
    process_id: int
    client_id: str
    slug: str


@pytest.fixture
def northwind_tenant(app, demo, run_jobs) -> MadeTenant:
    """Northwind Cloud made a Tenant Reseller (Partner EUR, Premium, administrator nwadmin)
    through the real creation form of a signed-in test client and an in-process RQ worker."""
    from sqlalchemy import select

    from tests.conftest import Auth
    from tests.helpers import submit_creation
    from webapp.extensions import db
    from webapp.models import Account, Organization, Process, Storefront, TenantReseller

    client = app.test_client()
    assert Auth(client).login().status_code == 302
    assert submit_creation(client, app).status_code == 303
    run_jobs()
    with app.app_context():
        tenant = db.session.scalar(
            select(TenantReseller)
            .join(Account, Account.id == TenantReseller.account_id)
            .where(Account.name == "Northwind Cloud")
        )
        assert tenant is not None and tenant.status == "Active", tenant and tenant.status
        org = db.session.get(Organization, tenant.tenant_organization_id)
        return MadeTenant(
            tenant_id=tenant.id,
            process_id=db.session.scalar(
                select(Process.id).where(Process.tenant_reseller_id == tenant.id)
            ),
            client_id=org.client_id,
            slug=db.session.scalar(
                select(Storefront.slug).where(Storefront.organization_id == org.id)
            ),
        )


AXE_BLOCKING = {"serious", "critical"}


@pytest.fixture
def axe_audit(screenshot):
    """axe_audit(page, "what") runs axe-core on the page as it is now (saving a screenshot)
    and returns its serious and critical violations, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def run(page, what: str) -> list[str]:
        page.wait_for_load_state("load")
        screenshot(page, f"axe-{what}")
        results = axe.run(page)
        assert results.response.get("testEngine", {}).get("name") == "axe-core"
        return [
            f"{what} ({page.url}): {v['id']} [{v['impact']}] {v['help']} -> "
            + "; ".join(" >> ".join(str(p) for p in n["target"]) for n in v["nodes"])
            for v in results.response["violations"]
            if v["impact"] in AXE_BLOCKING
        ]

    return run
