"""In Chromium, a script stored in a job (an old job's description and metadata, an account
named with markup) runs nowhere in the RQ dashboard: not on its job page, not in its lists."""

from __future__ import annotations

from tests.test_rq_dashboard_security import hostile_job


def test_a_script_in_a_job_runs_nowhere(app, demo, live_server, browser_page, sign_in):
    job_id = hostile_job(app)
    page = browser_page
    sign_in()
    for path in (
        f"/admin/rq/0/view/job/{job_id}",
        "/admin/rq/0/view/jobs/processes/queued/8/asc/1",
        "/admin/rq/",
    ):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("typeof window.pwned") == "undefined", path
    page.goto(f"{live_server}/admin/rq/0/view/job/{job_id}")
    assert "<script>window.pwned=2</script>" in page.locator("main").inner_text()
