"""Provisioning sync as an action: "Sync now" queues the platform adapter's sync (the local
sandbox records the remote reseller id it would create); its failures, triggered from the
sandbox settings, fail the process with the reason and Retry completes it; readiness counts
only a sync that happened; a manual record needs a reference and says it is manual."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from tests.helpers import account_id, price_list_id
from webapp.extensions import db
from webapp.models import AccountPlatformSync, Process, ProvisioningPlatform

TIMEOUT = "The platform did not answer within 30 seconds. Retry later."


def acronis_id(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ProvisioningPlatform.id).where(ProvisioningPlatform.code == "acronis")
        )


def acronis_sync(app, account="Tailspin IT") -> AccountPlatformSync | None:
    with app.app_context():
        sync = db.session.scalar(
            select(AccountPlatformSync).where(
                AccountPlatformSync.account_id == account_id(app, account),
                AccountPlatformSync.platform_id == acronis_id(app),
            )
        )
        if sync is not None:
            db.session.expunge(sync)
        return sync


def ready_with_partner_eur(app, client) -> bool:
    url = f"/accounts/{account_id(app, 'Tailspin IT')}/readiness"
    panel = client.get(f"{url}?price_list_id={price_list_id(app, 'Partner EUR')}")
    return "Acronis Cloud Backup: the account is synced as reseller." in panel.get_data(
        as_text=True
    )


def test_a_manual_record_needs_a_reference_and_says_it_is_manual(app, demo, auth, client):
    """Record sync with an empty reference records nothing and says why (with and without
    htmx); with a reference it is recorded, marked manual, with who and when."""
    auth.login()
    view = f"/accounts/{account_id(app, 'Tailspin IT')}"
    data = {
        "csrf_token": auth.token(view),
        "platform_id": acronis_id(app),
        "status": "synced",
        "external_reference": "   ",
    }
    plain = client.post(f"{view}/sync", data=data, follow_redirects=True)
    assert "type the reseller's reference on Acronis Cloud Backup" in unescape(
        plain.get_data(as_text=True)
    )
    htmx = client.post(f"{view}/sync", data=data, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert "to record a manual sync, or use Sync now" in unescape(htmx.get_data(as_text=True))
    assert acronis_sync(app) is None and not ready_with_partner_eur(app, client)

    recorded = client.post(
        f"{view}/sync", data={**data, "external_reference": "ACR-77"}, follow_redirects=True
    )
    page = recorded.get_data(as_text=True)
    assert "Synced as reseller (recorded manually)." in page
    assert "(ACR-77)" in page and "Recorded manually" in page and "by admin" in page
    sync = acronis_sync(app)
    assert (sync.method, sync.external_reference) == ("manual", "ACR-77")
    assert ready_with_partner_eur(app, client)


def test_sync_now_runs_the_sandbox_adapter_on_a_worker(app, demo, auth, client, run_jobs):
    """Sync now queues a process; the worker's sandbox adapter returns the remote id, which
    is recorded with the time and who started it, and readiness turns green."""
    auth.login()
    view = f"/accounts/{account_id(app, 'Tailspin IT')}"
    response = client.post(
        f"{view}/sync/start",
        data={"csrf_token": auth.token(view), "platform_id": acronis_id(app)},
    )
    assert response.status_code == 303 and "/processes/" in response.headers["Location"]
    assert acronis_sync(app) is None
    run_jobs()
    sync = acronis_sync(app)
    expected = f"SBX-ACRONIS-{account_id(app, 'Tailspin IT'):06d}"
    assert (sync.status, sync.method, sync.external_reference) == (
        "Synced as reseller",
        "adapter",
        expected,
    )
    assert sync.synced_at is not None and sync.synced_by_id is not None
    page = client.get(view).get_data(as_text=True)
    assert "Synced by the platform adapter" in page and "by admin" in page
    assert ready_with_partner_eur(app, client)


def test_a_sandbox_failure_fails_the_sync_and_retry_completes_it(app, demo, auth, client, run_jobs):
    """The sandbox told to time out once: the process Fails with the platform's reason and
    nothing is recorded; Retry on the process page then syncs."""
    auth.login()
    view = f"/accounts/{account_id(app, 'Tailspin IT')}"
    token = auth.token(view)
    settings = client.post(
        f"{view}/sandbox",
        data={
            "csrf_token": token,
            "platform_id": acronis_id(app),
            "failure": "timeout",
            "times": 1,
        },
        follow_redirects=True,
    )
    assert "the next 1 sync(s) fail" in settings.get_data(as_text=True)
    started = client.post(
        f"{view}/sync/start", data={"csrf_token": token, "platform_id": acronis_id(app)}
    )
    process_url = started.headers["Location"]
    run_jobs()
    with app.app_context():
        process = db.session.scalar(select(Process).where(Process.kind == "platform_sync"))
        assert process.status == "Failed"
        assert TIMEOUT in process.message or TIMEOUT in " ".join(t.message for t in process.tasks)
        process_id = process.id
    assert acronis_sync(app) is None and not ready_with_partner_eur(app, client)
    assert TIMEOUT in unescape(client.get(process_url).get_data(as_text=True))

    retried = client.post(
        f"/processes/{process_id}/retry", data={"csrf_token": auth.token(process_url)}
    )
    assert retried.status_code == 303
    run_jobs()
    with app.app_context():
        assert db.session.get(Process, process_id).status == "Completed"
    assert acronis_sync(app).method == "adapter"
    assert ready_with_partner_eur(app, client)
