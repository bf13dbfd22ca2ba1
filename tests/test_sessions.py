"""Sign-in sessions are enforced by the server: renewal, sign-out, idle and absolute timeouts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests.conftest import Auth
from webapp.extensions import db
from webapp.models import UserSession, utcnow
from webapp.services.password_rules import password_problem


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_sign_in_gives_a_new_session_id(app, demo, auth, client):
    """The session cookie and the server-side session id are new at every sign-in."""
    client.get("/login")
    before = _cookie(client)
    auth.login()
    first_sid = _sid(client)
    assert _cookie(client) != before
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login()
    assert _sid(client) != first_sid


def _sid(client) -> str:
    with client.session_transaction() as session:
        return session["sid"]


def test_sign_out_invalidates_the_session_on_the_server(app, demo, auth, client):
    """A copy of the cookie taken before sign-out no longer works after it."""
    auth.login()
    stolen = _cookie(client)
    client.post("/logout", data={"csrf_token": auth.token()})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/accounts/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is not None


def test_idle_timeout(app, demo, auth, client):
    """After 30 idle minutes the next request goes to sign-in with a clear message."""
    auth.login()
    with app.app_context():
        db.session.execute(
            update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
        db.session.commit()
    response = client.get("/accounts/", follow_redirects=True)
    assert "signed out after a period of inactivity" in response.get_data(as_text=True)


def test_absolute_timeout(app, demo, auth, client):
    """A session older than 12 hours ends even if it was used all along."""
    auth.login()
    with app.app_context():
        db.session.execute(update(UserSession).values(created_at=utcnow() - timedelta(hours=13)))
        db.session.commit()
    response = client.get("/accounts/", follow_redirects=True)
    assert "maximum length" in response.get_data(as_text=True)


def test_sessions_of_two_browsers_are_independent(app, demo, auth, client):
    """Signing out in one browser leaves the other signed in."""
    auth.login()
    other = app.test_client()
    Auth(other).login()
    client.post("/logout", data={"csrf_token": auth.token()})
    assert other.get("/accounts/").status_code == 200


def test_password_rules():
    """At least 12 characters, not one of the 10,000 most common, not the username."""
    assert "at least 12" in password_problem("short")
    assert "most common" in password_problem("password1234")
    assert "most common" in password_problem("qwertyuiop123")
    assert "not the username" in password_problem("longusername1", "LongUserName1")
    assert password_problem("correct-horse-battery-staple") is None
