"""Sign-in costs one password-hash verification and a fixed number of indexed queries,
whoever signs in and however many users and organizations there are."""

from __future__ import annotations

import pytest

from tests.conftest import Auth
from tests.test_listing import _add_users, counted
from webapp.services import passwords


@pytest.fixture
def verifications(monkeypatch):
    """Count argon2 verifications (the real ones run: this only counts the calls)."""
    calls: list[str] = []
    real = passwords._hasher()  # the cached hasher of the configured profile

    class Counting:
        def verify(self, hashed, password):
            calls.append(hashed)
            return real.verify(hashed, password)

        def __getattr__(self, name):
            return getattr(real, name)

    counting = Counting()
    monkeypatch.setattr(passwords, "_hasher", lambda: counting)
    return calls


@pytest.mark.parametrize(
    ("username", "password", "status"),
    [
        ("admin", "demo-password-123", 302),  # right
        ("admin", "wrong-password", 401),  # wrong password
        ("nobody", "wrong-password", 401),  # unknown user: the same work
    ],
)
def test_one_hash_verification_per_sign_in(
    app, demo, client, verifications, username, password, status
):
    """Each POST /login verifies exactly one argon2 hash (a dummy one for an unknown user)."""
    response = Auth(client).login(username=username, password=password)
    assert response.status_code == status
    assert len(verifications) == 1


def test_sign_in_queries_do_not_grow_with_users(app, demo, client):
    """Signing in runs the same queries with 5 other users as with 200: nothing scans."""

    def queries() -> int:
        auth = Auth(app.test_client())
        auth.client.get("/login")
        with counted(app) as statements:
            assert auth.login().status_code == 302
        return len(statements)

    _add_users(app, demo, 0, 5)
    small = queries()
    _add_users(app, demo, 5, 195)
    assert queries() == small
