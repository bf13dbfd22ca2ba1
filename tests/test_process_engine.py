"""The process engine: every ending notifies (and its email is sent), the reaper relays what
lost its job and gives up loudly, a failing maintenance part stops nothing, short work goes
first, one process per subject, one JSON shape, and live process lists."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select, update

from jobs import reaper
from jobs.connection import all_queues, get_redis
from jobs.worker import ProcessWorker
from tests.helpers import GOOD_PASSWORD, account_id, price_list_id, submit_creation
from webapp.extensions import db
from webapp.models import (
    Notification,
    OutboxEmail,
    Process,
    TenantReseller,
    User,
    utcnow,
)
from webapp.services import creation, mail, maintenance_errors
from webapp.services.processes import ProcessRefused, chaos, lifecycle
from webapp.services.processes.creation_steps import CREATION_STEPS
from webapp.services.processes.kinds import ProcessKind


def _process() -> Process:
    return db.session.scalar(select(Process).order_by(Process.id.desc()))


def _emails(subject_part: str) -> list[OutboxEmail]:
    return [e for e in db.session.scalars(select(OutboxEmail)) if subject_part in e.subject]


def _stale(pid: int, **values) -> None:
    db.session.execute(
        update(Process)
        .where(Process.id == pid)
        .values(heartbeat_at=utcnow() - timedelta(minutes=5), **values)
    )
    db.session.commit()


def test_stop_sends_the_finished_email(app, demo, auth, client, run_jobs, monkeypatch):
    """A Stop that the runner honours ends the process Cancelled and its email is sent (it
    was written to the outbox and never queued before)."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        pid = _process().id
    real_point = chaos.point

    def stop_after_first_batch(name):
        real_point(name)
        if name == "copy_products:batch-committed:1":
            db.session.execute(update(Process).values(cancel_requested=True))
            db.session.commit()

    monkeypatch.setattr(chaos, "point", stop_after_first_batch)
    run_jobs()
    with app.app_context():
        assert db.session.get(Process, pid).status == "Cancelled"
        [email] = _emails("Cancelled")
        assert email.status == "Logged" and email.attempts == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_mark_as_failed_sends_the_email_and_fails_the_tenant(app, demo, auth, client, run_jobs):
    """An admin's Mark as failed notifies the starter by email, and the tenant is Failed."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        pid = _process().id
        assert lifecycle.claim(pid, "a-dead-worker")
        _stale(pid)
    token = auth.token(f"/processes/{pid}")
    page = client.post(
        f"/processes/{pid}/mark_failed", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "The process was marked as failed." in page
    run_jobs()
    with app.app_context():
        [email] = _emails("Failed")
        assert email.status == "Logged" and "Marked as failed by admin" in email.body
        assert db.session.scalar(select(TenantReseller.status)) == "Failed"


def test_the_reaper_relays_pending_email(app, demo, run_jobs):
    """An email whose job was lost (queue down when it was written) is queued by the reaper
    and sent; a fresh one is left to its own job."""
    with app.app_context():
        old = mail.compose(demo, "someone@example.com", "Old", "body")
        fresh = mail.compose(demo, "someone@example.com", "Fresh", "body")
        db.session.flush()
        old.created_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        old_id, fresh_id = old.id, fresh.id
        report = reaper.sweep()
        assert report.emails == [old_id]
    run_jobs()
    with app.app_context():
        assert db.session.get(OutboxEmail, old_id).status == "Logged"
        assert db.session.get(OutboxEmail, fresh_id).status == "Pending"


def test_give_up_notifies_and_fails_the_tenant(app, demo, auth, client, run_jobs):
    """After its last attempt the reaper fails the process: the tenant reseller is Failed
    (not In Progress for ever) and the starter gets a notification and an email."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        pid = _process().id
        assert lifecycle.claim(pid, "a-dead-worker")
        _stale(pid, attempts=5, attempt_limit=5)
        assert reaper.sweep().failed == [pid]
        process = db.session.get(Process, pid)
        assert process.status == "Failed" and "started 5 times" in process.message
        assert db.session.scalar(select(TenantReseller.status)) == "Failed"
        notes = db.session.scalars(select(Notification.message)).all()
        assert len(notes) == 1 and "failed" in notes[0]
    run_jobs()
    with app.app_context():
        [email] = _emails("Failed")
        assert email.status == "Logged"


def test_a_process_nobody_started_notifies_the_admins_when_it_fails(app, demo, run_jobs):
    """A creation from the CLI or the API (no starter in the app) that fails tells the
    distributor's admins."""
    with app.app_context():
        result = creation.submit(
            demo,
            None,
            creation.CreationRequest(
                account_id=account_id(app, "Northwind Cloud"),
                price_list_id=price_list_id(app, "Partner EUR"),
                language="en",
                timezone="Europe/Athens",
                date_format="dd/MM/yyyy",
                edition="Basic",
                separate_invoices=False,
                admin_username="nwadmin",
                admin_email="admin@northwind.example",
                admin_password=GOOD_PASSWORD,
            ),
        )
        pid = result.process.id
        assert lifecycle.claim(pid, "a-dead-worker")
        _stale(pid, attempts=5, attempt_limit=5)
        reaper.sweep()
        admins = db.session.scalars(select(User.id).where(User.role == "admin")).all()
        notified = db.session.scalars(select(Notification.user_id)).all()
        assert sorted(notified) == sorted(admins) and admins


def test_a_failing_reaper_part_stops_nothing(app, demo, monkeypatch):
    """An error in one part of the sweep is logged and counted; the other parts still run
    and /metrics shows the count."""

    def requeue_processes(report):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(reaper, "requeue_processes", requeue_processes)
    with app.app_context():
        email = mail.compose(demo, "someone@example.com", "Old", "body")
        db.session.flush()
        email.created_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        email_id = email.id
        report = reaper.sweep()
        assert report.errors == ["requeue_processes"]
        assert report.emails == [email_id]  # relay_email ran after the failure
        assert maintenance_errors.totals() == {"reaper.requeue_processes": 1}
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'trbss_maintenance_errors_total{kind="reaper.requeue_processes"} 1.0' in metrics


def test_a_maintenance_error_does_not_end_the_worker(app, demo, monkeypatch):
    """RQ's maintenance and our reaper failing inside the worker's tick raise nothing."""

    def broken():
        raise RuntimeError("sqlite3.OperationalError: database is locked")

    monkeypatch.setattr(reaper, "sweep", broken)
    with app.app_context():
        worker = ProcessWorker(all_queues(), connection=get_redis())
        worker.run_maintenance_tasks()  # must not raise
        assert maintenance_errors.totals() == {"reaper": 1}


def test_events_and_email_go_before_processes(app, demo, auth, client):
    """A worker takes the email queued after a creation before the creation itself."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        email = mail.compose(demo, "someone@example.com", "Hello", "body")
        db.session.commit()
        email_id = email.id
        mail.deliver([email_id])
        SimpleWorker(all_queues(), connection=get_redis()).work(burst=True, max_jobs=1)
        assert db.session.get(OutboxEmail, email_id).status == "Logged"
        assert _process().status == "Queued"


def test_one_unfinished_process_per_tenant(app, demo, auth, client, run_jobs):
    """A second process for a tenant reseller with one unfinished is refused, naming it."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        tenant = db.session.scalar(select(TenantReseller))
        first = _process()
        with pytest.raises(ProcessRefused, match="runs one process at a time") as refused:
            lifecycle.prepare(
                ProcessKind.CREATION,
                organization_id=demo,
                name="again",
                steps=CREATION_STEPS,
                tenant=tenant,
            )
        assert refused.value.busy.id == first.id
    run_jobs()
    with app.app_context():  # finished: the lock is free again
        tenant = db.session.scalar(select(TenantReseller))
        process = lifecycle.prepare(
            ProcessKind.UPDATE, organization_id=demo, name="x", steps=[], tenant=tenant
        )
        assert process.id is not None
        db.session.rollback()


def test_the_cli_and_the_api_show_a_process_the_same_way(app, demo, auth, client, run_jobs):
    """`processes show --json` prints exactly the API's JSON, task durations included."""
    auth.login()
    submit_creation(client, app)
    run_jobs()
    with app.app_context():
        pid = _process().id
        from webapp.api.tokens import create_token

        admin = db.session.scalar(select(User).where(User.username == "admin"))
        _row, secret = create_token(demo, admin, "test")
        db.session.commit()
    api = client.get(
        f"/api/v1/processes/{pid}", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    shown = app.test_cli_runner().invoke(args=["processes", "show", str(pid), "--json"])
    assert json.loads(shown.output) == api
    assert all(t["duration_seconds"] is not None for t in api["tasks"])


def test_the_processes_tab_polls_while_a_process_runs(app, demo, auth, client, run_jobs):
    """The Processes tab refreshes itself while a process is unfinished (showing it Queued,
    then Completed), and carries no trigger once all are finished."""
    auth.login()
    submit_creation(client, app)
    for url in ("/tenant-resellers/processes", "/processes/"):
        page = client.get(url).get_data(as_text=True)
        assert 'hx-trigger="every 2s"' in page and "Queued" in page
    fragment = client.get("/tenant-resellers/processes", headers={"HX-Request": "true"})
    assert '<div id="process-table"' in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    run_jobs()
    for url in ("/tenant-resellers/processes", "/processes/"):
        page = client.get(url).get_data(as_text=True)
        assert "hx-trigger" not in page and "Completed" in page


def test_the_processes_tab_filters_by_status_and_kind(app, demo, auth, client, run_jobs):
    """Status and kind filters narrow the list; unknown values show everything."""
    auth.login()
    submit_creation(client, app)
    run_jobs()
    listed = client.get("/tenant-resellers/processes?status=Completed").get_data(as_text=True)
    assert "Create Tenant Reseller — Northwind Cloud" in listed
    none = client.get("/tenant-resellers/processes?status=Failed").get_data(as_text=True)
    assert "No process matches the filter." in none
    other = client.get("/tenant-resellers/processes?kind=update_tenant").get_data(as_text=True)
    assert "No process matches the filter." in other
    anything = client.get("/tenant-resellers/processes?status=Bogus&kind=%3Cx%3E")
    assert anything.status_code == 200
    assert "Northwind Cloud" in anything.get_data(as_text=True)
