"""The status fragment, polled every second by every open process page, does only the work
it needs: no navigation context (organization, unread notifications) is queried for it."""

from __future__ import annotations

from tests.test_listing import _add_processes, counted
from webapp.extensions import db
from webapp.models import Process


def test_the_status_fragment_skips_the_layouts_queries(app, demo, auth, client):
    """GET /processes/<id>/status renders its block without counting notifications; the
    full page still shows the navigation."""
    auth.login()
    _add_processes(app, demo, 0, 1)
    with app.app_context():
        process_id = db.session.scalars(Process.in_org(demo)).first().id
    client.get(f"/processes/{process_id}/status")
    with counted(app) as statements:
        fragment = client.get(f"/processes/{process_id}/status")
    assert fragment.status_code == 200
    assert "<nav" not in fragment.get_data(as_text=True)
    assert not [s for s in statements if "notification" in s.lower()]
    page = client.get(f"/processes/{process_id}")
    assert 'aria-label="Main"' in page.get_data(as_text=True)


def test_a_missing_process_status_is_a_normal_404_page(app, demo, auth, client):
    """The fragment's shortcut does not reach its error page: a 404 keeps the layout."""
    auth.login()
    missing = client.get("/processes/999999/status")
    assert missing.status_code == 404
    assert "Not found" in missing.get_data(as_text=True)


def test_healthz_runs_no_query_even_for_a_signed_in_browser(app, demo, auth, client):
    """/healthz answers without loading the user of the session cookie (no SQL at all)."""
    auth.login()
    client.get("/healthz")
    with counted(app) as statements:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert statements == []
