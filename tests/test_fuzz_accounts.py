"""The account forms fuzzed with hypothesis: never a 500, and nothing changed when refused."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import Auth, csrf_from
from webapp.extensions import db
from webapp.models import OneTimeToken, User

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "9" * 30,
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "admin",
            "staff",
            "owner",
            "y",
            "a@b.c",
            "\x00",
            "ü" * 300,
            "x" * 600,
        ]
    ),
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _users(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            select(
                User.id, User.username, User.email, User.role, User.active, User.password_hash
            ).order_by(User.id)
        ).all()


def _fuzz(app, client, page, post, names):
    @FUZZ
    @given(st.fixed_dictionaries({name: TEXT for name in names}))
    def run(values):
        token = csrf_from(client.get(page, follow_redirects=True).get_data(as_text=True))
        before = _users(app)
        response = client.post(post, data={"csrf_token": token, **values})
        assert response.status_code < 500, values
        if response.status_code >= 400:
            assert _users(app) == before, values

    run()


def test_signed_out_account_forms(app, demo, client):
    """Forgot password, two-factor step, reset and invitation links with random values."""
    _fuzz(app, client, "/forgot-password", "/forgot-password", ["client_id", "identifier"])
    _fuzz(app, client, "/login", "/login/two-factor", ["code"])
    _fuzz(app, client, "/login", "/reset-password/nope", ["password", "password_again"])
    _fuzz(app, client, "/login", "/invitation/nope", ["password", "password_again"])
    with app.app_context():
        assert (
            db.session.scalar(select(OneTimeToken.id).where(OneTimeToken.used_at.is_not(None)))
            is None
        )


def test_signed_in_account_and_user_forms(app, demo, client):
    """Your account's password and two-factor forms, and an administrator's user forms."""
    Auth(client).login()
    _fuzz(
        app,
        client,
        "/account",
        "/account/password",
        ["current_password", "password", "password_again"],
    )
    _fuzz(app, client, "/account", "/account/two-factor", ["code"])
    _fuzz(app, client, "/account", "/account/two-factor/disable", ["disable-password"])
    _fuzz(app, client, "/users", "/users", ["username", "email", "role", "invite", "password"])
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    _fuzz(app, client, f"/users/{admin_id}", f"/users/{admin_id}", ["username", "email", "role"])
    _fuzz(app, client, "/settings/security", "/settings/security", ["require_admin_two_factor"])
