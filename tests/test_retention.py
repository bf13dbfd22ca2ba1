"""Retention purges in the reaper's sweep (read notifications, finished emails, idempotency
records, ended sessions: old ones go in bounded batches, newer ones and those still in use
stay, in every organization), each purge a part that fails alone; and Prometheus counters and
histogram buckets that never go down, even when old process rows are purged."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select, update

from jobs import reaper
from tests.helpers import submit_creation
from webapp.config import Settings
from webapp.extensions import db
from webapp.models import (
    IdempotencyRecord,
    Notification,
    Organization,
    OutboxEmail,
    ProcessTask,
    User,
    UserSession,
    utcnow,
)
from webapp.services import account_cleanup


def _org_with_user(client_id: str) -> tuple[int, int]:
    org = Organization(name=f"Org {client_id}", client_id=client_id)
    db.session.add(org)
    db.session.flush()
    user = User(organization_id=org.id, username="clerk", password_hash="x")
    db.session.add(user)
    db.session.flush()
    return org.id, user.id


def _seed(org_id: int, user_id: int, old, new) -> None:
    """Per kind: an old purgeable row (named "old ..."), a newer one, and an old one that is
    still in use (unread, Pending)."""
    db.session.add_all(
        [
            Notification(organization_id=org_id, user_id=user_id, message="old read", read_at=old),
            Notification(organization_id=org_id, user_id=user_id, message="new read", read_at=new),
            Notification(organization_id=org_id, user_id=user_id, message="unread", created_at=old),
        ]
    )
    for status in ("Sent", "Logged", "Failed", "Pending"):
        name = "old pending" if status == "Pending" else f"old {status}"
        db.session.add(
            OutboxEmail(
                organization_id=org_id,
                to_address="a@example.com",
                subject=name,
                body="",
                status=status,
                created_at=old,
            )
        )
    db.session.add(
        OutboxEmail(
            organization_id=org_id,
            to_address="a@example.com",
            subject="new Sent",
            body="",
            status="Sent",
            created_at=new,
        )
    )
    for key, created in (("old key", old), ("new key", new)):
        db.session.add(
            IdempotencyRecord(
                organization_id=org_id,
                key=key,
                request_hash="h",
                status_code=202,
                body={},
                created_at=created,
            )
        )
    db.session.add_all(
        [
            UserSession(
                token_hash=f"old-{org_id}",
                user_id=user_id,
                created_at=old,
                last_seen_at=old,
                revoked_at=old,
            ),
            UserSession(
                token_hash=f"new-{org_id}",
                user_id=user_id,
                created_at=new,
                last_seen_at=new,
            ),
        ]
    )


def _left(org_id: int) -> dict[str, set[str]]:
    return {
        "notifications": set(
            db.session.scalars(
                select(Notification.message).where(Notification.organization_id == org_id)
            )
        ),
        "emails": set(
            db.session.scalars(
                select(OutboxEmail.subject).where(OutboxEmail.organization_id == org_id)
            )
        ),
        "keys": set(
            db.session.scalars(
                select(IdempotencyRecord.key).where(IdempotencyRecord.organization_id == org_id)
            )
        ),
        "sessions": set(
            db.session.scalars(
                select(UserSession.token_hash)
                .join(User, User.id == UserSession.user_id)
                .where(User.organization_id == org_id)
            )
        ),
    }


def test_the_sweep_purges_old_rows_keeps_newer_and_in_use_ones(app):
    """Organization A has rows past every retention; B's rows are all within it (and its
    unread notification and Pending email old): the sweep deletes exactly A's old finished
    rows, in batches smaller than their number, and leaves B untouched."""
    app.config["PURGE_BATCH_SIZE"] = 2  # three old emails: two transactions
    now = utcnow()
    with app.app_context():
        a_org, a_user = _org_with_user("AAA")
        b_org, b_user = _org_with_user("BBB")
        _seed(a_org, a_user, old=now - timedelta(days=40), new=now - timedelta(hours=2))
        _seed(b_org, b_user, old=now - timedelta(hours=3), new=now - timedelta(hours=2))
        db.session.commit()
        before_b = _left(b_org)

        report = reaper.sweep()

        assert report.errors == []
        assert _left(a_org) == {
            "notifications": {"new read", "unread"},
            "emails": {"new Sent", "old pending"},
            "keys": {"new key"},
            "sessions": {f"new-{a_org}"},
        }
        assert _left(b_org) == before_b
        assert before_b["emails"] == {
            "old Sent",
            "old Logged",
            "old Failed",
            "old pending",
            "new Sent",
        }


def test_retention_ages_are_settings(app, monkeypatch):
    """Shorter ages from the environment purge younger rows."""
    for name, value in (
        ("NOTIFICATION_RETENTION_DAYS", "2"),
        ("OUTBOX_RETENTION_DAYS", "3"),
        ("IDEMPOTENCY_RETENTION_HOURS", "5"),
        ("SESSION_RETENTION_DAYS", "4"),
        ("PURGE_BATCH_SIZE", "50"),
    ):
        monkeypatch.setenv(name, value)
    config = Settings.from_environment().flask_config()
    assert (
        config["NOTIFICATION_RETENTION_DAYS"],
        config["OUTBOX_RETENTION_DAYS"],
        config["IDEMPOTENCY_RETENTION_HOURS"],
        config["SESSION_RETENTION_DAYS"],
        config["PURGE_BATCH_SIZE"],
    ) == (2, 3, 5, 4, 50)
    app.config.update(
        NOTIFICATION_RETENTION_DAYS=2, OUTBOX_RETENTION_DAYS=3, IDEMPOTENCY_RETENTION_HOURS=5
    )
    now = utcnow()
    with app.app_context():
        org, user = _org_with_user("CCC")
        # 6 hours / 4 days old: kept by the defaults (24 h, 30 days), past these settings.
        _seed(org, user, old=now - timedelta(days=4), new=now - timedelta(hours=1))
        db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "old key")
            .values(created_at=now - timedelta(hours=6))
        )
        db.session.commit()
        assert account_cleanup.purge_notifications() == 1
        assert account_cleanup.purge_outbox() == 3
        assert account_cleanup.purge_idempotency() == 1
        left = _left(org)
    assert left["notifications"] == {"new read", "unread"}
    assert left["emails"] == {"new Sent", "old pending"}
    assert left["keys"] == {"new key"}


def test_a_failing_purge_leaves_the_other_purges_running(app, monkeypatch):
    """One purge raising is logged and counted; the purges after it in the sweep still run."""

    def purge_notifications(report):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(
        reaper,
        "PURGES",
        tuple(purge_notifications if p is reaper.purge_notifications else p for p in reaper.PURGES),
    )
    now = utcnow()
    with app.app_context():
        org, user = _org_with_user("DDD")
        _seed(org, user, old=now - timedelta(days=40), new=now - timedelta(hours=1))
        db.session.commit()
        report = reaper.sweep()
        left = _left(org)
    assert report.errors == ["purge_notifications"]
    assert left["notifications"] == {"old read", "new read", "unread"}
    assert left["emails"] == {"new Sent", "old pending"}
    assert left["keys"] == {"new key"} and left["sessions"] == {f"new-{org}"}


def _monotonic_samples(text: str) -> dict[tuple, float]:
    """Every sample of the counters and histograms in a scrape."""
    samples = {}
    for family in text_string_to_metric_families(text):
        if family.type in ("counter", "histogram"):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_counters_and_buckets_never_go_down_when_old_process_rows_are_purged(
    app, demo, auth, client, run_jobs
):
    """Scrape after a creation, purge its task rows (as a retention purge of old processes
    would), scrape again: every counter and histogram bucket of the second scrape is at least
    that of the first; counters are named _total."""
    auth.login(password="wrong-password-here")
    auth.login()
    submit_creation(client, app)
    run_jobs()
    first_text = client.get("/metrics").get_data(as_text=True)
    first = _monotonic_samples(first_text)
    assert ("trbss_task_duration_seconds_count", (("step", "copy_products"),)) in first
    assert first[("trbss_sign_in_failures_total", ())] == 1.0
    assert "trbss_sign_in_failures " not in first_text  # a counter, not a gauge

    with app.app_context():
        db.session.execute(update(ProcessTask).values(finished_at=utcnow() - timedelta(days=2)))
        db.session.execute(delete(ProcessTask))
        db.session.commit()

    second = _monotonic_samples(client.get("/metrics").get_data(as_text=True))
    lower = {
        key: (value, second.get(key))
        for key, value in first.items()
        if second.get(key) is None or second[key] < value
    }
    assert lower == {}, lower
    for family in text_string_to_metric_families(first_text):
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
