"""The RQ dashboard cannot run a script stored in a job: descriptions carry ids only, its job
page is the app's own (escaped, under the strict CSP), its state-changing actions are POST
only, and unknown or malformed job ids are 404s."""

from __future__ import annotations

import re

import pytest
from rq import Queue

from jobs.connection import get_redis
from tests.helpers import submit_creation
from webapp.extensions import db
from webapp.models import Account
from webapp.security import CONTENT_SECURITY_POLICY

HOSTILE = "<img src=x onerror=window.pwned=1><script>window.pwned=2</script>"


def hostile_job(app) -> str:
    """A job as an older release queued it: user text in its description and metadata."""
    with app.app_context():
        job = Queue("processes", connection=get_redis()).enqueue(
            "jobs.pipeline.run_process",
            0,
            description=f"create tenant for {HOSTILE}",
            meta={"account": HOSTILE},
        )
        return job.id


def test_job_descriptions_carry_ids_only(app, demo, auth, client):
    """An account named with markup does not put its name into any job's description."""
    with app.app_context():
        account = db.session.query(Account).filter_by(name="Northwind Cloud").one()
        account.name = "Northwind " + HOSTILE
        db.session.commit()
    auth.login()
    submit_creation(client, app, account=f"Northwind {HOSTILE}")
    with app.app_context():
        jobs = Queue("processes", connection=get_redis()).jobs
    assert jobs
    for job in jobs:
        assert re.fullmatch(r"[\w ()-]+", job.description), job.description


def test_the_job_page_escapes_everything_under_the_strict_policy(app, demo, auth, client):
    job_id = hostile_job(app)
    auth.login()
    page = client.get(f"/admin/rq/0/view/job/{job_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=window.pwned=1&gt;" in html
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/rq/0/view/job/no-such-job",
        "/admin/rq/0/view/job/a:b:c",
        "/admin/rq/0/view/job/%25",
        "/admin/rq/0/data/job/no-such-job.json",
        "/admin/rq/0/data/job/x:y.json",
    ],
)
def test_unknown_and_malformed_job_ids_are_not_found(app, demo, auth, client, path):
    auth.login()
    assert client.get(path).status_code == 404


def test_state_changing_actions_refuse_get(app, demo, auth, client):
    """'Requeue all' answered GET upstream: a link could trigger it."""
    auth.login()
    assert client.get("/admin/rq/requeue/processes").status_code == 405
    ok = client.post("/admin/rq/requeue/processes", headers={"Origin": "http://localhost"})
    assert ok.status_code == 200
