"""Forgot password, reset links and invitations for staff and tenant users: emailed,
single-use, expiring links; the same answer whether or not the account exists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from tests.conftest import Auth, csrf_from
from tests.mailbox import all_emails, emails_to, link_in
from webapp.extensions import db
from webapp.models import OneTimeToken, User, UserSession, utcnow
from webapp.services.passwords import hash_password

NEW_PASSWORD = "violet-harbour-lantern"
RESET_ANSWER = "If that account exists and has an email address, we have sent it a link"


def _forgot(client, client_id="DEMO", identifier="admin"):
    token = csrf_from(client.get("/forgot-password").get_data(as_text=True))
    return client.post(
        "/forgot-password",
        data={"csrf_token": token, "client_id": client_id, "identifier": identifier},
        follow_redirects=True,
    )


def _set_password(client, path, password=NEW_PASSWORD, again=None):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return client.post(
        path,
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "password": password,
            "password_again": again or password,
        },
    )


def test_forgot_password_emails_a_link_that_sets_a_new_password(app, demo, client, run_jobs):
    """A reset link is emailed to the user's address; it sets a new password, the old one
    stops working, and the email is logged by the worker (no MAIL_SERVER)."""
    answer = _forgot(client)
    assert RESET_ANSWER in answer.get_data(as_text=True)
    [email] = emails_to(app, "admin@demo.example")
    assert "Client ID: DEMO" in email.body and "Username: admin" in email.body
    path = link_in(email.body, "/reset-password/")
    response = _set_password(client, path)
    assert response.status_code == 303
    assert "Sign in with Client ID DEMO, username admin" in client.get("/login").get_data(
        as_text=True
    )
    auth = Auth(client)
    assert auth.login().status_code == 401  # the old password no longer works
    assert auth.login(password=NEW_PASSWORD).status_code == 302
    run_jobs()
    assert emails_to(app, "admin@demo.example")[0].status == "Logged"


def test_a_reset_link_works_only_once(app, demo, client):
    """After the password was set, the same link says it was already used and changes
    nothing."""
    _forgot(client)
    path = link_in(emails_to(app, "admin@demo.example")[0].body, "/reset-password/")
    assert _set_password(client, path).status_code == 303
    again = client.get(path)
    assert again.status_code == 404
    assert "already used" in again.get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        path,
        data={"csrf_token": token, "password": "other-long-password", "password_again": "x"},
    )
    assert response.status_code == 404
    assert Auth(client).login(password=NEW_PASSWORD).status_code == 302


def test_an_expired_reset_link_is_refused(app, demo, client):
    """A link older than its hour says it expired and what to do; the password is unchanged."""
    _forgot(client)
    path = link_in(emails_to(app, "admin@demo.example")[0].body, "/reset-password/")
    with app.app_context():
        db.session.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 404
    body = page.get_data(as_text=True)
    assert "This link has expired." in body and "Forgot your password?" in body
    assert Auth(client).login().status_code == 302


def test_unknown_accounts_get_the_same_answer_and_no_email(app, demo, client):
    """An unknown Client ID, username or address gets the very same page as a known one, and
    nothing is written."""
    known = _forgot(client).get_data(as_text=True)
    for client_id, identifier in [("NOPE", "admin"), ("DEMO", "nobody"), ("DEMO", "x@y.example")]:
        other = app.test_client()
        page = _forgot(other, client_id, identifier)
        assert page.status_code == 200
        assert RESET_ANSWER in page.get_data(as_text=True)
        assert _strip_tokens(page.get_data(as_text=True)) == _strip_tokens(known)
    assert len(all_emails(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OneTimeToken)) == 1


def _strip_tokens(html: str) -> str:
    import re

    return re.sub(r'(value=|"X-CSRFToken": )"[^"]+"', "", html)


def test_forgot_password_by_email_address(app, demo, client):
    """The email address works instead of the username, in any case."""
    _forgot(client, "demo", "ADMIN@demo.example")
    assert len(emails_to(app, "admin@demo.example")) == 1


def test_a_new_link_cancels_the_earlier_one(app, demo, client, redis_url):
    """Only the newest reset link works."""
    from redis import Redis

    _forgot(client)
    Redis.from_url(redis_url).flushdb()  # the one-a-minute limit on reset emails
    _forgot(client)
    first, second = emails_to(app, "admin@demo.example")
    assert client.get(link_in(first.body, "/reset-password/")).status_code == 404
    assert client.get(link_in(second.body, "/reset-password/")).status_code == 200


def test_reset_emails_are_limited_to_one_a_minute(app, demo, client):
    """Asking again and again sends one email, so nobody can flood an inbox."""
    for _ in range(3):
        _forgot(client)
    assert len(emails_to(app, "admin@demo.example")) == 1


def test_a_reset_refuses_weak_passwords_next_to_the_field(app, demo, client):
    """A common password is refused with a message next to the field and a 400."""
    _forgot(client)
    path = link_in(emails_to(app, "admin@demo.example")[0].body, "/reset-password/")
    response = _set_password(client, path, password="password1234")
    assert response.status_code == 400
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert "most common" in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # the link still works


def test_a_reset_ends_every_session_of_the_user(app, demo, client):
    """Whoever was signed in as the user (say, with a stolen password) is signed out."""
    thief = app.test_client()
    Auth(thief).login()
    assert thief.get("/accounts/").status_code == 200
    _forgot(client)
    _set_password(client, link_in(emails_to(app, "admin@demo.example")[0].body, "/reset-"))
    assert thief.get("/accounts/").status_code == 302


def test_disabled_users_get_no_reset_link(app, demo, client):
    """A disabled user cannot let themselves back in through a reset link."""
    with app.app_context():
        db.session.execute(update(User).values(active=False))
        db.session.commit()
    _forgot(client)
    assert all_emails(app) == []


# --- invitations ------------------------------------------------------------------------------


def _add_invited(client, auth, username="helpdesk", email="helpdesk@demo.example", role="staff"):
    auth.login()
    token = csrf_from(client.get("/users").get_data(as_text=True))
    return client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": username,
            "email": email,
            "role": role,
            "invite": "y",
        },
    )


def test_an_invited_user_sets_their_own_password_and_signs_in(app, demo, auth, client):
    """The administrator invites a user; the user follows the emailed link, chooses a
    password and signs in with it; the link then works no more."""
    response = _add_invited(client, auth)
    assert response.status_code == 303
    page = client.get("/users").get_data(as_text=True)
    assert "helpdesk is invited" in page and "No password yet" in page
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "helpdesk"))
        assert user.password_hash == "" and user.role == "staff"
    [email] = emails_to(app, "helpdesk@demo.example")
    assert "admin invited you" in email.body and "Client ID: DEMO" in email.body
    path = link_in(email.body, "/invitation/")
    newcomer = app.test_client()
    form = newcomer.get(path).get_data(as_text=True)
    assert "Accept your invitation" in form and "helpdesk" in form
    assert _set_password(newcomer, path).status_code == 303
    assert Auth(newcomer).login(username="helpdesk", password=NEW_PASSWORD).status_code == 302
    assert app.test_client().get(path).status_code == 404


def test_an_invited_user_cannot_sign_in_before_choosing_a_password(app, demo, auth, client):
    """No password matches an invited user's empty hash, not even an empty one."""
    _add_invited(client, auth)
    other = Auth(app.test_client())
    assert other.login(username="helpdesk", password="anything-at-all").status_code == 401


def test_an_expired_invitation_can_be_sent_again(app, demo, auth, client):
    """An invitation past its 7 days says so; the administrator sends a new one."""
    _add_invited(client, auth)
    old = link_in(emails_to(app, "helpdesk@demo.example")[0].body, "/invitation/")
    with app.app_context():
        db.session.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(days=1)))
        user_id = db.session.scalar(select(User.id).where(User.username == "helpdesk"))
        db.session.commit()
    assert "expired" in app.test_client().get(old).get_data(as_text=True)
    token = csrf_from(client.get(f"/users/{user_id}").get_data(as_text=True))
    response = client.post(f"/users/{user_id}/invitation", data={"csrf_token": token})
    assert response.status_code == 303
    new = link_in(emails_to(app, "helpdesk@demo.example")[-1].body, "/invitation/")
    assert app.test_client().get(new).status_code == 200


def test_adding_a_user_with_a_password_still_works(app, demo, auth, client):
    """Without the invitation box, the administrator gives a password (common ones refused)."""
    auth.login()
    token = csrf_from(client.get("/users").get_data(as_text=True))
    data = {"csrf_token": token, "username": "clerk", "email": "clerk@demo.example"}
    missing = client.post("/users", data=data)
    assert missing.status_code == 400
    assert "Enter a password, or tick" in missing.get_data(as_text=True)
    common = client.post("/users", data={**data, "password": "password1234"})
    assert common.status_code == 400 and "most common" in common.get_data(as_text=True)
    added = client.post("/users", data={**data, "password": NEW_PASSWORD})
    assert added.status_code == 303
    assert emails_to(app, "clerk@demo.example") == []


# --- an administrator resets a password -------------------------------------------------------


def _make_user(app, demo, username="clerk", password="clerk-password-123", role="staff"):
    with app.app_context():
        user = User(
            organization_id=demo,
            username=username,
            email=f"{username}@demo.example",
            password_hash=hash_password(password),
            role=role,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def test_an_administrator_resets_a_users_password(app, demo, auth, client):
    """The old password stops working, the user is signed out, and a link is emailed."""
    user_id = _make_user(app, demo)
    clerk = app.test_client()
    Auth(clerk).login(username="clerk", password="clerk-password-123")
    auth.login()
    token = csrf_from(client.get(f"/users/{user_id}").get_data(as_text=True))
    response = client.post(f"/users/{user_id}/reset-password", data={"csrf_token": token})
    assert response.status_code == 303
    assert clerk.get("/accounts/").status_code == 302
    again = Auth(app.test_client())
    assert again.login(username="clerk", password="clerk-password-123").status_code == 401
    [email] = emails_to(app, "clerk@demo.example")
    assert "admin, an administrator of Demo" in email.body
    page = client.get(f"/users/{user_id}").get_data(as_text=True)
    assert "No password yet" in page and "Email a new link to choose a password" in page
    client.post(f"/users/{user_id}/invitation", data={"csrf_token": csrf_from(page)})
    old_link, email = emails_to(app, "clerk@demo.example")
    assert "reset your password" in email.body  # not an invitation: clerk signed in before
    assert app.test_client().get(link_in(old_link.body, "/reset-password/")).status_code == 404
    path = link_in(email.body, "/reset-password/")
    assert _set_password(app.test_client(), path).status_code == 303
    assert again.login(username="clerk", password=NEW_PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id)
        )
