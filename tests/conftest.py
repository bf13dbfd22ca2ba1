"""Fixtures: a fresh database (SQLite file, or a new PostgreSQL database when
TEST_DATABASE_URL is set) and a dedicated Redis (embedded, or TEST_REDIS_URL flushed)."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jobs.connection import limiter_storage_uri
from jobs.embedded_redis import EmbeddedRedis
from webapp import create_app
from webapp.config import normalise_database_url
from webapp.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Commands the tests start (flask worker, the live server) inherit these: local host names.
os.environ.setdefault("APP_ENV", "testing")

# argon2's smallest costs for every hash the tests make, here and in the worker and server
# subprocesses they start (which inherit the environment): a default-cost hash takes most of
# a second on a busy 2-core machine, and most tests seed the demo and sign in.
os.environ.setdefault("PASSWORD_HASH_PROFILE", "cheap")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database nobody else uses, created for this run and dropped after it."""
    base = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not base:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"
        return
    base = normalise_database_url(base)
    name = f"trbss_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis: TEST_REDIS_URL (flushed) or an embedded redis-server stopped at the end."""
    url = os.environ.get("TEST_REDIS_URL", "").strip()
    if url:
        # Two xdist workers must not flush each other's queues: gwN uses database base + N.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        if worker.startswith("gw"):
            base, _, db_index = url.rpartition("/")
            if not db_index.isdigit():  # no database in the URL: database 0
                base, db_index = url.rstrip("/"), "0"
            url = f"{base}/{(int(db_index) + int(worker[2:])) % 16}"
        yield None, url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server, server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server):
    return redis_server[1]


@pytest.fixture(scope="session")
def migrated(database_url, redis_url):
    """The schema built by the migrations, once per run."""
    from flask_migrate import upgrade

    app = create_app(_test_config(database_url, redis_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _test_config(database_url: str, redis_url: str) -> dict:
    return {
        "TESTING": True,
        "PLATFORM_HOSTS": ("localhost",),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_STORAGE_URI": limiter_storage_uri(redis_url),
        "HEARTBEAT_STALE_SECONDS": 30,
        "COPY_BATCH_SIZE": 25,
        "JSON_LOGS": False,
    }


def _clear_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(migrated, redis_url):
    """An app on empty tables and a flushed Redis.

    No app context stays pushed during the test: requests would share it (and its `g`,
    where Flask-Login and Flask-WTF keep per-request state). Tests open `app.app_context()`
    where they touch the database themselves."""
    config = _test_config(migrated, redis_url)
    application = create_app(config)
    Redis.from_url(redis_url).flushdb()
    with application.app_context():
        _clear_tables()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app):
    """The demo distributor and its data; returns the organization's id."""
    from webapp.demo import seed_demo

    with app.app_context():
        return seed_demo(password="demo-password-123").id


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


class Auth:
    """Signs the test client in and out through the real form."""

    def __init__(self, client):
        self.client = client

    def login(self, client_id="DEMO", username="admin", password="demo-password-123"):
        page = self.client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(
            "/login",
            data={
                "csrf_token": token,
                "client_id": client_id,
                "username": username,
                "password": password,
            },
        )

    def token(self, path="/"):
        return csrf_from(self.client.get(path, follow_redirects=True).get_data(as_text=True))


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def run_jobs(app):
    """Run every queued job on a real RQ worker in this process until the queue is empty."""
    from rq import SimpleWorker

    from jobs.connection import all_queues, get_redis

    def run():
        with app.app_context():
            worker = SimpleWorker(all_queues(), connection=get_redis())
            worker.work(burst=True)

    return run


@pytest.fixture
def smtp_sink(app):
    """A real SMTP server the app sends to (MAIL_SERVER/MAIL_PORT point at it)."""
    from tests.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_USE_TLS=False)
        yield sink


@pytest.fixture
def worker_process(app, migrated, redis_url):
    """A real `flask worker` subprocess on the test database and Redis, stopped at the end."""
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": migrated,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "COPY_BATCH_SIZE": "25",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
