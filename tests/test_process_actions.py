"""Staff actions on a process: each works, is audit-logged, and is refused when moot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from jobs.reaper import sweep
from tests.conftest import Auth
from tests.helpers import submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    Notification,
    Organization,
    OutboxEmail,
    Process,
    Product,
    TenantReseller,
    User,
    utcnow,
)
from webapp.services import readiness
from webapp.services.passwords import hash_password
from webapp.services.processes import StepFailure, chaos, lifecycle, registry
from webapp.services.processes.step import Step


def _process(app) -> Process:
    return db.session.scalar(select(Process).order_by(Process.id.desc()))


def _pid(app) -> int:
    with app.app_context():
        return _process(app).id


def _act(client, auth, pid, action):
    token = auth.token(f"/processes/{pid}")
    return client.post(
        f"/processes/{pid}/{action}", data={"csrf_token": token}, follow_redirects=True
    )


def _fail_storefront(monkeypatch):
    def broken(ctx):
        raise StepFailure("The storefront service said no. Retry later.")

    monkeypatch.setitem(
        registry.STEPS, "create_storefront", Step("create_storefront", "Create storefront", broken)
    )


def test_retry_runs_again_from_the_failed_task(app, demo, auth, client, run_jobs, monkeypatch):
    """Retry re-queues a Failed process; completed tasks stay Completed, it then completes."""
    _fail_storefront(monkeypatch)
    auth.login()
    submit_creation(client, app)
    run_jobs()
    pid = _pid(app)
    with app.app_context():
        process = _process(app)
        assert process.status == "Failed"
        before = {t.step: (t.status, t.finished_at) for t in process.tasks}
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert ">Retry<" in page and ">Clean up<" in page and ">Cancel<" not in page
    monkeypatch.undo()
    response = _act(client, auth, pid, "retry")
    assert "Retry queued" in response.get_data(as_text=True)
    run_jobs()
    with app.app_context():
        process = _process(app)
        assert process.status == "Completed"
        after = {t.step: (t.status, t.finished_at) for t in process.tasks}
        for step in ("check_prerequisites", "create_organization", "copy_products"):
            assert after[step] == before[step]  # not run again
        assert after["create_storefront"][0] == "Completed"
        assert db.session.scalar(select(func.count()).select_from(Organization)) == 2
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "process.retry"))
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert ">Retry<" not in page and ">Clean up<" not in page  # no action on Completed


def test_a_double_retry_queues_once(app, demo, auth, client, run_jobs, monkeypatch):
    """Two Retry clicks: the second is refused because the process is no longer Failed."""
    _fail_storefront(monkeypatch)
    auth.login()
    submit_creation(client, app)
    run_jobs()
    monkeypatch.undo()
    pid = _pid(app)
    token = auth.token(f"/processes/{pid}")
    client.post(f"/processes/{pid}/retry", data={"csrf_token": token})
    second = client.post(
        f"/processes/{pid}/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert "no longer failed" in second.get_data(as_text=True)
    with app.app_context():
        assert _process(app).attempts == 2


def test_cancel_a_queued_process(app, demo, auth, client, run_jobs):
    """Cancel before a worker starts it: Cancelled, tasks Skipped, the job then does nothing."""
    auth.login()
    submit_creation(client, app)
    pid = _pid(app)
    response = _act(client, auth, pid, "cancel")
    assert "cancelled before it started" in response.get_data(as_text=True)
    run_jobs()
    with app.app_context():
        process = _process(app)
        assert process.status == "Cancelled"
        assert {t.status for t in process.tasks} == {"Skipped"}
        assert db.session.scalar(select(TenantReseller.status)) == "Cancelled"
        assert db.session.scalar(select(func.count()).select_from(Organization)) == 1


def test_cancel_after_a_worker_claimed_it_says_so(app, demo, auth, client):
    """If a worker claimed the process between page load and click, Cancel explains."""
    auth.login()
    submit_creation(client, app)
    pid = _pid(app)
    token = auth.token(f"/processes/{pid}")
    with app.app_context():
        assert lifecycle.claim(pid, "a-worker")
    response = client.post(
        f"/processes/{pid}/cancel", data={"csrf_token": token}, follow_redirects=True
    )
    assert "A worker has just started this process" in response.get_data(as_text=True)
    with app.app_context():
        assert _process(app).status == "Running"


def test_stop_mid_copy_then_resume(app, demo, auth, client, run_jobs, monkeypatch):
    """Stop lands at the next batch boundary (Cancelled, consistent); Resume completes it."""
    auth.login()
    submit_creation(client, app)
    pid = _pid(app)
    real_point = chaos.point

    def request_stop_after_batch_1(name):
        real_point(name)
        if name == "copy_products:batch-committed:1":
            # what the Stop button does, while the job is between two batches
            db.session.execute(
                update(Process).where(Process.id == pid).values(cancel_requested=True)
            )
            db.session.commit()

    monkeypatch.setattr(chaos, "point", request_stop_after_batch_1)
    run_jobs()
    monkeypatch.undo()
    with app.app_context():
        process = _process(app)
        assert process.status == "Cancelled"
        copy = next(t for t in process.tasks if t.step == "copy_products")
        assert copy.status == "Skipped"
        copied = db.session.scalar(
            select(func.count()).where(Product.source_product_id.is_not(None))
        )
        assert copied == 50  # the batch in flight when Stop came committed; the third never ran
        assert copy.items_done == 50
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert ">Resume<" in page
    _act(client, auth, pid, "resume")
    run_jobs()
    with app.app_context():
        assert _process(app).status == "Completed"
        assert (
            db.session.scalar(select(func.count()).where(Product.source_product_id.is_not(None)))
            == 64
        )


def test_stop_button_on_a_running_process(app, demo, auth, client, run_jobs):
    """Stop on a Running process asks it to stop; its job then ends it as Cancelled."""
    auth.login()
    submit_creation(client, app)
    pid = _pid(app)
    with app.app_context():
        assert lifecycle.claim(pid, "a-worker")
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert ">Stop<" in page
    response = _act(client, auth, pid, "stop")
    assert "stops at the next safe point" in response.get_data(as_text=True)
    with app.app_context():
        # the claiming job "died"; the queued job takes over and honours the stop
        db.session.execute(
            update(Process)
            .where(Process.id == pid)
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    run_jobs()
    with app.app_context():
        assert _process(app).status == "Cancelled"


def test_clean_up_lets_the_account_start_again(app, demo, auth, client, run_jobs, monkeypatch):
    """Clean up removes the tenant organization, users, products and storefront it made."""
    _fail_storefront(monkeypatch)
    auth.login()
    submit_creation(client, app)
    run_jobs()
    monkeypatch.undo()
    pid = _pid(app)
    response = _act(client, auth, pid, "cleanup")
    assert "Cleaned up" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TenantReseller)) == 0
        assert db.session.scalar(select(func.count()).select_from(Organization)) == 1
        assert (
            db.session.scalar(select(func.count()).where(Product.source_product_id.is_not(None)))
            == 0
        )
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        process = _process(app)
        assert process.status == "Failed" and "Cleaned up" in process.message
        account = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        assert readiness.evaluate(account).ready
    again = submit_creation(client, app)
    assert again.status_code == 303
    run_jobs()
    with app.app_context():
        assert _process(app).status == "Completed"


def _stale_running(app, pid):
    with app.app_context():
        assert lifecycle.claim(pid, "a-worker")
        db.session.execute(
            update(Process)
            .where(Process.id == pid)
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()


def test_mark_as_failed_is_for_admins_and_stuck_processes(app, demo, auth, client):
    """A stuck process shows Mark as failed to admins only; staff get 403."""
    with app.app_context():
        org_id = db.session.scalar(select(Organization.id))
        db.session.add(
            User(
                organization_id=org_id,
                username="clerk",
                role="staff",
                password_hash=hash_password("clerk-password-123"),
            )
        )
        db.session.commit()
    auth.login()
    submit_creation(client, app)
    pid = _pid(app)
    _stale_running(app, pid)
    assert ">Mark as failed<" in client.get(f"/processes/{pid}").get_data(as_text=True)

    clerk = app.test_client()
    Auth(clerk).login(username="clerk", password="clerk-password-123")
    assert ">Mark as failed<" not in clerk.get(f"/processes/{pid}").get_data(as_text=True)
    token = Auth(clerk).token(f"/processes/{pid}")
    assert (
        clerk.post(f"/processes/{pid}/mark_failed", data={"csrf_token": token}).status_code == 403
    )

    response = _act(client, auth, pid, "mark_failed")
    assert "marked as failed" in response.get_data(as_text=True)
    with app.app_context():
        process = _process(app)
        assert process.status == "Failed" and "Marked as failed by admin" in process.message
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "process.mark_failed"))


def test_reaper_gives_up_after_bounded_attempts(app, demo, auth, client):
    """A process whose jobs keep dying is Failed with a clear message after the last attempt."""
    auth.login()
    submit_creation(client, app)
    pid = _pid(app)
    _stale_running(app, pid)
    with app.app_context():
        db.session.execute(update(Process).where(Process.id == pid).values(attempts=5))
        db.session.commit()
        report = sweep()
        assert report.failed == [pid]
        process = _process(app)
        assert process.status == "Failed"
        assert "started 5 times" in process.message


def test_reaper_requeues_a_running_process_with_a_stale_heartbeat(
    app, demo, auth, client, run_jobs
):
    """The job of a process that went silent is replaced by a new attempt, which completes."""
    auth.login()
    submit_creation(client, app)
    pid = _pid(app)
    _stale_running(app, pid)
    with app.app_context():
        assert sweep().requeued == [pid]
    run_jobs()
    with app.app_context():
        assert _process(app).status == "Completed"


@pytest.mark.parametrize("mail", [False, True])
def test_the_starter_is_notified_in_app_and_by_email_when_configured(
    app, demo, auth, client, run_jobs, mail
):
    """Completion adds an unread notification (header badge) and an email with an absolute
    link: sent through MAIL_SERVER when set, written to the worker's log when not."""
    app.config["MAIL_SERVER"] = "127.0.0.1" if mail else None
    app.config["MAIL_PORT"] = 1  # nothing listens: the row stays Pending, nothing leaves
    app.config["BASE_URL"] = "https://bss.example.test"
    auth.login()
    submit_creation(client, app)
    run_jobs()
    page = client.get("/tenant-resellers").get_data(as_text=True)
    assert 'class="badge-count">1' in page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "Create Tenant Reseller — Northwind Cloud: completed." in listing
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
        emails = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == "admin@demo.example")
        ).all()
        assert len(emails) == 1 and emails[0].to_address == "admin@demo.example"
        assert "Completed" in emails[0].subject
        assert f"https://bss.example.test/processes/{_process(app).id}" in emails[0].body
        # nothing listens on the mail server's port: the email waits for its retry
        assert emails[0].status == ("Pending" if mail else "Logged")
    client.post("/notifications/read", data={"csrf_token": auth.token("/notifications/")})
    assert 'class="badge-count"' not in client.get("/tenant-resellers").get_data(as_text=True)
