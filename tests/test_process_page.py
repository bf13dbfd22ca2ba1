"""The process page: live polling fragment, failure display, and the Tenant Resellers tabs."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from tests.conftest import Auth
from tests.helpers import open_creation_form, post_creation, submit_creation
from webapp.extensions import db
from webapp.models import AuditLog, PriceList, Process, TenantReseller
from webapp.services.processes import registry
from webapp.services.processes.step import Step


def _process_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Process.id))


def test_fragment_polls_while_unfinished_and_stops_when_finished(app, demo, auth, client, run_jobs):
    """The status fragment carries an hx-trigger while queued and none once Completed."""
    auth.login()
    submit_creation(client, app)
    pid = _process_id(app)
    queued = client.get(f"/processes/{pid}/status").get_data(as_text=True)
    assert 'id="process-status"' in queued
    assert 'hx-trigger="every 1s"' in queued
    assert "<html" not in queued  # a fragment, not a page
    run_jobs()
    done = client.get(f"/processes/{pid}/status").get_data(as_text=True)
    assert "hx-trigger" not in done and "hx-get" not in done
    assert "The reseller is ready!" in done
    assert "What&#39;s next" in done or "What's next" in done
    assert "Premium playbook" in done
    assert "Activate back-ordering" in done
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert "The reseller is ready!" in page and "hx-trigger" not in page  # same without JS


def test_screen_reader_announcement_only_on_step_change(app, demo, auth, client):
    """The fragment re-announces (out of band) only when the step differs from what was seen."""
    auth.login()
    submit_creation(client, app)
    pid = _process_id(app)
    first = client.get(f"/processes/{pid}/status").get_data(as_text=True)
    assert 'hx-swap-oob="true"' in first
    again = client.get(f"/processes/{pid}/status?seen=Queued").get_data(as_text=True)
    assert "hx-swap-oob" not in again
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert page.count('id="process-announcer"') == 1
    assert 'aria-live="polite"' in page


def test_a_failing_step_fails_the_process_with_a_readable_message(
    app, demo, auth, client, run_jobs
):
    """A price list deactivated after Save fails Check prerequisites; the rest are Skipped."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        db.session.execute(
            update(PriceList).where(PriceList.name == "Partner EUR").values(active=False)
        )
        db.session.commit()
    run_jobs()
    pid = _process_id(app)
    with app.app_context():
        process = db.session.get(Process, pid)
        assert process.status == "Failed"
        statuses = [t.status for t in process.tasks]
        assert statuses == ["Failed"] + ["Skipped"] * 7
        assert "it is not active" in process.tasks[0].message
        assert db.session.scalar(select(TenantReseller.status)) == "Failed"
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert "The process failed." in page and "it is not active" in page
    assert "Traceback" not in page


def test_an_unexpected_error_shows_the_job_id_not_a_traceback(
    app, demo, auth, client, run_jobs, monkeypatch
):
    """A crash in a step fails that task with a message pointing to the worker log."""

    def broken(ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(
        registry.STEPS,
        "create_storefront",
        Step("create_storefront", "Create storefront", broken),
    )
    auth.login()
    submit_creation(client, app)
    run_jobs()
    pid = _process_id(app)
    with app.app_context():
        process = db.session.get(Process, pid)
        by_step = {t.step: t for t in process.tasks}
        assert by_step["copy_products"].status == "Completed"
        assert by_step["create_storefront"].status == "Failed"
        assert by_step["activate"].status == "Skipped"
        assert f"job process-{pid}-1" in by_step["create_storefront"].message
        assert "disk on fire" not in by_step["create_storefront"].message
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert "RuntimeError" in page and "Traceback" not in page


def test_two_staff_members_submitting_at_once_make_one_tenant(app, demo):
    """Two sessions posting the same account's form at the same moment create one tenant."""
    clients = [app.test_client(), app.test_client()]
    tokens = []
    for c in clients:
        Auth(c).login()
        tokens.append(open_creation_form(c, app))
    barrier = threading.Barrier(2)
    results = []

    def submit(c, token):
        barrier.wait()
        results.append(post_creation(c, app, token).status_code)

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [303, 303]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TenantReseller)) == 1
        assert db.session.scalar(select(func.count()).select_from(Process)) == 1


def test_tabs_show_processes_and_logs(app, demo, auth, client, run_jobs):
    """Processes tab has the seed's columns; Logs has one record per finished task."""
    auth.login()
    submit_creation(client, app)
    run_jobs()
    tab = client.get("/tenant-resellers/processes").get_data(as_text=True)
    for column in ("Process Name", "Status", "Progress", "Creation date"):
        assert column in tab
    assert "Create Tenant Reseller — Northwind Cloud" in tab
    with app.app_context():
        tenant_id = db.session.scalar(select(TenantReseller.id))
        task_logs = db.session.scalar(
            select(func.count()).where(AuditLog.action == "process.task_completed")
        )
    assert task_logs == 8
    logs = client.get(f"/tenant-resellers/{tenant_id}/logs").get_data(as_text=True)
    assert "Copy products and prices: 64 products copied" in logs
    listing = client.get("/tenant-resellers").get_data(as_text=True)
    assert "Northwind Cloud" in listing and "Premium" in listing


def test_separate_invoices_can_be_changed_and_is_logged(app, demo, auth, client, run_jobs):
    """Separate Invoices is editable at any time, audit-logged, with the seed's note."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        tenant_id = db.session.scalar(select(TenantReseller.id))
    token = auth.token(f"/tenant-resellers/{tenant_id}")
    response = client.post(
        f"/tenant-resellers/{tenant_id}/separate-invoices",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "applies to sub-customers copied from now on" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(TenantReseller.separate_invoices)) is False
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "tenant_reseller.update"))
        assert row.before == {"separate_invoices": True} and row.after == {
            "separate_invoices": False
        }
