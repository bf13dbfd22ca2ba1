"""Requests per second in-process (Werkzeug test client, one thread): a bare Flask route,
this app's /healthz and the status fragment of a finished process (issue 13, item 6).

    .venv/bin/python scripts/hot_requests.py [DATABASE_URL]

In-process figures measure the per-request machinery only (no network, no gunicorn); run it
on an idle machine, the ratios are what matters."""

import logging
import re
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from jobs.connection import limiter_storage_uri
from jobs.embedded_redis import EmbeddedRedis
from webapp import create_app
from webapp.extensions import db


def rate(client, url, seconds=3.0):
    client.get(url)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        r = client.get(url)
        n += 1
    assert r.status_code == 200, (url, r.status_code)
    return n / (time.perf_counter() - start)


d = Path(tempfile.mkdtemp())
redis = EmbeddedRedis(d / "r").start()
try:
    cfg = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{d}/t.db",
        "REDIS_URL": redis.url,
        "SECRET_KEY": "x",
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": limiter_storage_uri(redis.url),
        "JSON_LOGS": True,
    }
    app = create_app(cfg)
    logging.getLogger().handlers[:] = [logging.NullHandler()]
    with app.app_context():
        upgrade()
        from webapp.demo import seed_demo

        org = seed_demo(password="demo-password-123")  # noqa: S106 - a throwaway database
        from webapp.models import Process, ProcessTask

        p = Process(organization_id=org.id, name="Finished", status="Completed")
        p.tasks = [
            ProcessTask(
                position=i,
                step=f"s{i}",
                title=f"Step {i}",
                status="Completed",
                items_done=64,
                items_total=64,
            )
            for i in range(6)
        ]
        db.session.add(p)
        db.session.commit()
        pid = p.id
    bare = Flask("bare")
    bare.get("/")(lambda: "ok")
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    tok = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert (
        c.post(
            "/login",
            data={
                "csrf_token": tok,
                "client_id": "DEMO",
                "username": "admin",
                "password": "demo-password-123",
            },
        ).status_code
        == 302
    )
    results = {
        "bare Flask route": rate(bare.test_client(), "/"),
        "/healthz": rate(app.test_client(), "/healthz"),
        "status fragment (signed in)": rate(c, f"/processes/{pid}/status"),
    }
    for k, v in results.items():
        print(f"{k:32s} {v:8.0f} req/s")
    print(f"healthz / bare    {results['/healthz'] / results['bare Flask route']:.2f}")
    print(f"fragment / healthz {results['status fragment (signed in)'] / results['/healthz']:.2f}")
finally:
    redis.stop()
