"""Administrators manage their organization's users: edit, roles, disable and enable (a
disabled user is signed out at once), end sessions; staff can only look."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import Auth, csrf_from
from webapp.extensions import db
from webapp.models import AuditLog, User, UserSession
from webapp.services.passwords import hash_password

CLERK_PASSWORD = "clerk-password-123"


def _make_user(app, org_id, username="clerk", role="staff", password=CLERK_PASSWORD):
    with app.app_context():
        user = User(
            organization_id=org_id,
            username=username,
            email=f"{username}@demo.example",
            password_hash=hash_password(password),
            role=role,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def _post(client, path, data=None, page=None):
    token = csrf_from(client.get(page or "/users").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def test_disabling_a_user_signs_them_out_at_once(app, demo, auth, client):
    """The disabled user's very next request goes to sign-in, and they cannot sign in again
    until enabled."""
    clerk_id = _make_user(app, demo)
    clerk = app.test_client()
    assert Auth(clerk).login(username="clerk", password=CLERK_PASSWORD).status_code == 302
    assert clerk.get("/accounts/").status_code == 200
    auth.login()
    response = _post(client, f"/users/{clerk_id}/disable")
    assert response.status_code == 303
    assert "clerk is disabled and was signed out everywhere" in client.get(
        f"/users/{clerk_id}"
    ).get_data(as_text=True)
    after = clerk.get("/accounts/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    relogin = Auth(app.test_client()).login(username="clerk", password=CLERK_PASSWORD)
    assert relogin.status_code == 401
    with app.app_context():
        assert db.session.scalar(
            select(UserSession.revoked_at).where(UserSession.user_id == clerk_id)
        )
        assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "user.disable"))
    assert _post(client, f"/users/{clerk_id}/enable").status_code == 303
    again = Auth(app.test_client()).login(username="clerk", password=CLERK_PASSWORD)
    assert again.status_code == 302


def test_a_disabled_users_session_ends_even_without_the_revocation(app, demo, client):
    """Disabled in the database by any route: the session check reads the user's status."""
    clerk_id = _make_user(app, demo)
    assert Auth(client).login(username="clerk", password=CLERK_PASSWORD).status_code == 302
    with app.app_context():
        db.session.get(User, clerk_id).active = False
        db.session.commit()
    response = client.get("/accounts/", follow_redirects=True)
    assert "Your account is disabled" in response.get_data(as_text=True)


def test_an_administrator_edits_username_email_and_role(app, demo, auth, client):
    """A staff user made administrator gets the admin pages; the change is audit-logged."""
    clerk_id = _make_user(app, demo)
    auth.login()
    page = client.get(f"/users/{clerk_id}").get_data(as_text=True)
    assert 'value="clerk@demo.example"' in page
    response = _post(
        client,
        f"/users/{clerk_id}",
        {"username": "clerk2", "email": "clerk2@demo.example", "role": "admin"},
        page=f"/users/{clerk_id}",
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, clerk_id)
        assert (user.username, user.email, user.role) == ("clerk2", "clerk2@demo.example", "admin")
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
        assert row.before["role"] == "staff" and row.after["role"] == "admin"
    promoted = app.test_client()
    Auth(promoted).login(username="clerk2", password=CLERK_PASSWORD)
    assert promoted.get("/settings/api-tokens").status_code == 200


def test_bad_edits_are_refused_next_to_the_field(app, demo, auth, client):
    """A taken username, a bad email and an unknown role: 400, messages, nothing changed."""
    clerk_id = _make_user(app, demo)
    auth.login()
    path = f"/users/{clerk_id}"
    taken = _post(client, path, {"username": "ADMIN", "email": "a@b.example", "role": "staff"})
    assert taken.status_code == 400
    assert "There already is a user named ADMIN" in taken.get_data(as_text=True)
    bad = _post(client, path, {"username": "clerk", "email": "not-an-email", "role": "owner"})
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "Enter an email address like" in body and "Not a valid choice" in body
    with app.app_context():
        assert db.session.get(User, clerk_id).username == "clerk"


def test_nobody_disables_or_demotes_themselves(app, demo, auth, client):
    """An administrator cannot disable themselves or change their own role, so an
    organization always keeps an active administrator; another administrator can."""
    auth.login()
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    disabled = _post(client, f"/users/{admin_id}/disable")
    assert disabled.status_code == 400
    assert "You cannot disable yourself" in disabled.get_data(as_text=True)
    demoted = _post(
        client,
        f"/users/{admin_id}",
        {"username": "admin", "email": "admin@demo.example", "role": "staff"},
    )
    assert demoted.status_code == 400
    assert "You cannot change your own role" in demoted.get_data(as_text=True)
    with app.app_context():
        admin = db.session.get(User, admin_id)
        assert admin.active and admin.role == "admin"
    boss_id = _make_user(app, demo, "boss", role="admin")
    assert _post(client, f"/users/{boss_id}/disable").status_code == 303
    boss = Auth(app.test_client())
    assert boss.login(username="boss", password=CLERK_PASSWORD).status_code == 401


def test_an_administrator_ends_a_users_sessions(app, demo, auth, client):
    """Sign out everywhere: each of the user's browsers goes to sign-in; they may sign in."""
    clerk_id = _make_user(app, demo)
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        Auth(browser).login(username="clerk", password=CLERK_PASSWORD)
    auth.login()
    assert "2 signed-in sessions" in client.get(f"/users/{clerk_id}").get_data(as_text=True)
    response = _post(client, f"/users/{clerk_id}/sessions/end")
    assert response.status_code == 303
    assert "2 sessions of clerk ended" in client.get(f"/users/{clerk_id}").get_data(as_text=True)
    assert all(b.get("/accounts/").status_code == 302 for b in browsers)
    assert client.get("/accounts/").status_code == 200  # the administrator's own goes on


def test_staff_see_users_but_cannot_manage_them(app, demo, client):
    """A staff user gets the list without actions, and 403 on every administrator action."""
    clerk_id = _make_user(app, demo)
    other_id = _make_user(app, demo, "other")
    Auth(client).login(username="clerk", password=CLERK_PASSWORD)
    page = client.get("/users").get_data(as_text=True)
    assert "Only an administrator can add or change users." in page
    assert f"/users/{other_id}" not in page
    assert client.get(f"/users/{other_id}").status_code == 403
    for action in ("disable", "sessions/end", "reset-password", "two-factor/reset"):
        assert _post(client, f"/users/{other_id}/{action}").status_code == 403, action
    assert client.get("/settings/security").status_code == 403
    with app.app_context():
        assert db.session.get(User, other_id).active and clerk_id


def test_users_and_security_settings_are_linked_from_the_menu(app, demo, auth, client):
    """The distributor's administrator reaches Users from the menu and the security settings
    from Users; the username in the header opens their account page."""
    auth.login()
    accounts = client.get("/accounts/").get_data(as_text=True)
    assert 'href="/users"' in accounts and 'href="/account"' in accounts
    assert 'href="/settings/security"' in client.get("/users").get_data(as_text=True)
