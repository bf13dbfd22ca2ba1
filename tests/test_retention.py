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
    assert first[("trbss_processes_finished_total", (("status", "Completed"),))] == 1.0
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


def _insert_minimal(conn, table: str, given: dict) -> None:
    """One row with the given values and a placeholder in every other required column."""
    values = {}
    for _, name, kind, notnull, default, _ in conn.execute(f"PRAGMA table_info({table})"):
        if name in given:
            values[name] = given[name]
        elif notnull and default is None:
            kind = kind.upper()
            if "INT" in kind or "BOOL" in kind or "NUMERIC" in kind:
                values[name] = 0
            elif "JSON" in kind:
                values[name] = "{}"
            elif "DATE" in kind:
                values[name] = "2026-12-01 10:00:00.000000"
            else:
                values[name] = "x"
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))


def test_the_migration_counts_the_tasks_already_completed(tmp_path, redis_url):
    """Upgrading a database with completed tasks starts the histogram from them: each in its
        bucket, the sums per step (the tasks still running are not counted); and the processes
    already finished, by status."""
    import sqlite3

    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.services import metric_totals

    path = tmp_path / "before.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        upgrade(revision="9e4f0070a1b2")
        db.engine.dispose()
    rows = [
        (
            1,
            "copy_products",
            "Completed",
            "2026-12-01 10:00:00.000000",
            "2026-12-01 10:00:00.400000",
        ),
        (
            2,
            "copy_products",
            "Completed",
            "2026-12-01 10:00:00.000000",
            "2026-12-01 10:01:40.000000",
        ),
        (3, "price_list", "Completed", "2026-12-01 10:00:00.000000", "2026-12-01 10:00:03.000000"),
        (4, "price_list", "Running", "2026-12-01 10:00:00.000000", None),
    ]
    with sqlite3.connect(path) as conn:
        # A row each, every required column filled.
        _insert_minimal(conn, "organization", {"id": 1, "client_id": "OLD"})
        _insert_minimal(conn, "process", {"id": 1, "organization_id": 1, "status": "Completed"})
        conn.executemany(
            "INSERT INTO process_task (process_id, position, step, title, status, items_done,"
            " items_total, started_at, finished_at, message, created_at, state)"
            " VALUES (?, ?, ?, 't', ?, 1, 1, ?, ?, '', ?, '{}')",
            [(1, pos, step, status, start, end, start) for pos, step, status, start, end in rows],
        )
    with app.app_context():
        upgrade()
        histogram = metric_totals.task_histogram()
        finished = metric_totals.totals(metric_totals.PROCESSES_FINISHED)
        db.engine.dispose()
    copy_buckets, copy_sum = histogram["copy_products"]
    assert dict(copy_buckets)["0.1"] == 0 and dict(copy_buckets)["0.5"] == 1
    assert dict(copy_buckets)["60"] == 1 and dict(copy_buckets)["300"] == 2
    assert copy_buckets[-1] == ("+Inf", 2) and abs(copy_sum - 100.4) < 1e-6
    price_buckets, price_sum = histogram["price_list"]
    assert price_buckets[-1] == ("+Inf", 1) and dict(price_buckets)["2"] == 0
    assert dict(price_buckets)["5"] == 1 and price_sum == 3.0
    assert finished == {"Completed": 1.0}


def test_a_big_purge_deletes_in_bounded_committed_batches(app):
    """Five old emails with a batch of two: three DELETEs of at most two rows, each
    committed before the next, so no transaction holds the write lock for the whole purge."""
    from sqlalchemy import event

    app.config["PURGE_BATCH_SIZE"] = 2
    with app.app_context():
        org, _ = _org_with_user("EEE")
        old = utcnow() - timedelta(days=40)
        for number in range(5):
            db.session.add(
                OutboxEmail(
                    organization_id=org,
                    to_address="a@example.com",
                    subject=f"old {number}",
                    body="",
                    status="Sent",
                    created_at=old,
                )
            )
        db.session.commit()
        trail: list[str] = []

        def on_statement(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("DELETE FROM OUTBOX_EMAIL"):
                trail.append("delete")

        def on_commit(conn):
            trail.append("commit")

        engine = db.engine
        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine, "commit", on_commit)
        try:
            assert account_cleanup.purge_outbox() == 5
        finally:
            event.remove(engine, "before_cursor_execute", on_statement)
            event.remove(engine, "commit", on_commit)
        assert trail == ["delete", "commit"] * 3
        assert _left(org)["emails"] == set()
