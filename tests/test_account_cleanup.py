"""Used or expired links and ended sessions are purged a day after their end; live ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import Auth, csrf_from
from webapp.extensions import db
from webapp.models import OneTimeToken, UserSession, utcnow
from webapp.services.account_cleanup import purge_expired


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_purge_keeps_live_rows_and_removes_ended_ones(app, demo, client):
    """Right after use nothing goes; two days later the used link and the signed-out session
    go, and a session still in use stays."""
    page = client.get("/forgot-password")
    client.post(
        "/forgot-password",
        data={
            "csrf_token": csrf_from(page.get_data(True)),
            "client_id": "DEMO",
            "identifier": "admin",
        },
    )
    first = Auth(app.test_client())
    first.login()
    first.client.post("/logout", data={"csrf_token": first.token("/accounts/")})
    still_in = Auth(app.test_client())
    still_in.login()
    with app.app_context():
        assert purge_expired() == {"links": 0, "staff_sessions": 0, "customer_sessions": 0}
        db.session.commit()
        later = utcnow() + timedelta(days=2)
        # The session in use was seen "just now" from the point of view of two days later.
        live = db.session.scalar(select(UserSession).where(UserSession.revoked_at.is_(None)))
        live.last_seen_at = later
        live.created_at = later - timedelta(hours=1)
        db.session.commit()
        removed = purge_expired(later)
        db.session.commit()
    assert removed == {"links": 1, "staff_sessions": 1, "customer_sessions": 0}
    assert _count(app, OneTimeToken) == 0 and _count(app, UserSession) == 1
