"""Sign-in throttling: exponential back-off per account and per IP, never a hard lock; the
account's owner gets an emailed unlock link, and a browser that signed in before is not kept
out by strangers' guesses."""

from __future__ import annotations

import pytest
from redis import Redis

from tests.conftest import Auth, csrf_from
from tests.mailbox import all_emails, emails_to, link_in
from webapp.extensions import db
from webapp.services import throttle


def _client_from(app, address: str):
    """A browser at another IP address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _expire_waits(redis_url):
    """Time passes: every current wait is over (the failure counts stay)."""
    redis = Redis.from_url(redis_url)
    for key in redis.scan_iter(f"{throttle.PREFIX}:*:wait"):
        redis.delete(key)


def _fail(auth, times, **kwargs):
    for _ in range(times):
        assert auth.login(password="wrong-password", **kwargs).status_code == 401


def test_waits_double_after_each_further_failure(app, demo, auth, redis_url):
    """Five failures are free; then 30 s, then 60 s, each said in Retry-After and the page."""
    _fail(auth, 5)
    first = auth.login()
    assert first.status_code == 429
    assert 0 < int(first.headers["Retry-After"]) <= 30
    assert "Try again in" in first.get_data(as_text=True)
    _expire_waits(redis_url)
    _fail(auth, 1)
    second = auth.login()
    assert second.status_code == 429
    assert 30 < int(second.headers["Retry-After"]) <= 60
    _expire_waits(redis_url)
    assert auth.login().status_code == 302  # no hard lock: the right password works again


def test_the_rule_caps_the_wait():
    """The wait doubles from 30 s and never exceeds 15 minutes."""
    rule = throttle.STAFF_ACCOUNT
    waits = [rule.wait_after(n) for n in range(4, 12)]
    assert waits == [0, 30, 60, 120, 240, 480, 900, 900]


def test_strangers_cannot_keep_the_owner_out(app, demo, client):
    """The owner signed in on this browser before; anyone else's failures make only them
    wait, and the owner signs in at once."""
    owner = Auth(client)
    assert owner.login().status_code == 302
    client.post("/logout", data={"csrf_token": owner.token("/accounts/")})
    stranger = Auth(_client_from(app, "203.0.113.9"))
    _fail(stranger, 5)
    assert stranger.login(password="still-guessing").status_code == 429
    assert owner.login().status_code == 302


def test_the_owner_gets_an_unlock_link_by_email(app, demo, auth):
    """After the failures start to wait, the account's address gets one unlock link; it lets
    a fresh browser sign in at once, and works only once."""
    stranger = Auth(_client_from(app, "203.0.113.9"))
    _fail(stranger, 5)
    stranger.login(password="still-guessing")
    [email] = emails_to(app, "admin@demo.example")
    assert "failed attempts" in email.body
    path = link_in(email.body, "/unlock/")
    assert auth.login().status_code == 429  # a new browser waits like everybody else
    page = auth.client.get(path)
    assert page.status_code == 200 and "Unlock sign-in on this browser" in page.get_data(True)
    response = auth.client.post(path, data={"csrf_token": csrf_from(page.get_data(True))})
    assert response.status_code == 303
    assert auth.login().status_code == 302
    assert app.test_client().get(path).status_code == 404
    assert stranger.login(password="still-guessing").status_code == 429


def test_unknown_accounts_wait_the_same_and_send_nothing(app, demo, auth):
    """Guessing at a username that does not exist behaves the same, and emails nobody."""
    _fail(auth, 5, username="nobody")
    assert auth.login(username="nobody").status_code == 429
    assert all_emails(app) == []


def test_many_failures_from_one_ip_wait_whatever_the_account(app, demo, auth):
    """Thirty failures from one address over many usernames make that address wait, not
    others."""
    for n in range(30):
        assert auth.login(username=f"user{n}", password="x").status_code == 401
    assert auth.login().status_code == 429
    elsewhere = Auth(_client_from(app, "198.51.100.7"))
    assert elsewhere.login().status_code == 302


def test_a_known_browser_does_not_wait_for_its_addresss_failures(app, demo, client):
    """Many people (or one proxy) share an address: its failures make strangers wait, not
    the owner on the browser they signed in with before."""
    owner = Auth(client)
    assert owner.login().status_code == 302
    client.post("/logout", data={"csrf_token": owner.token("/accounts/")})
    neighbour = Auth(app.test_client())  # the same address, 127.0.0.1
    for n in range(30):
        assert neighbour.login(username=f"user{n}", password="x").status_code == 401
    assert neighbour.login(username="someone", password="x").status_code == 429
    assert owner.login().status_code == 302


def test_behind_proxies_the_clients_address_counts(app, demo):
    """With TRUSTED_PROXY_HOPS set, each client's X-Forwarded-For address is throttled on its
    own, not the proxy's."""
    from webapp import create_app

    behind = create_app({**app.config, "TRUSTED_PROXY_HOPS": 1})
    attacker = Auth(behind.test_client())
    attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    for n in range(30):
        assert attacker.login(username=f"user{n}", password="x").status_code == 401
    assert attacker.login(username="someone", password="x").status_code == 429
    colleague = Auth(behind.test_client())
    colleague.client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    assert colleague.login().status_code == 302
    with behind.app_context():
        db.engine.dispose()


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, demo):
    """With TRUSTED_PROXY_HOPS=0 (the default) a client cannot dodge the per-address limit by
    writing a new X-Forwarded-For on each guess: the connection's address is counted."""
    attacker = Auth(_client_from(app, "203.0.113.9"))
    for n in range(30):
        attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        assert attacker.login(username=f"user{n}", password="x").status_code == 401
    attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.200"
    assert attacker.login(username="someone", password="x").status_code == 429


def test_only_the_trusted_hops_entries_of_x_forwarded_for_count(app, demo):
    """Behind one trusted proxy, entries a client wrote before the proxy's own are ignored:
    the address the proxy appended is the one that is limited, and the one the app sees."""
    from flask import request

    from webapp import create_app

    behind = create_app({**app.config, "TRUSTED_PROXY_HOPS": 1})
    seen: list[str | None] = []

    @behind.after_request
    def remember_address(response):
        seen.append(request.remote_addr)
        return response

    attacker = Auth(behind.test_client())
    for n in range(30):
        # A forged first entry changes on every guess; the proxy's entry does not.
        attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{n}, 203.0.113.9"
        assert attacker.login(username=f"user{n}", password="x").status_code == 401
    attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = "10.1.1.1, 203.0.113.9"
    assert attacker.login(username="someone", password="x").status_code == 429
    assert seen and set(seen) == {"203.0.113.9"}
    with behind.app_context():
        db.engine.dispose()


def test_a_password_reset_clears_the_wait(app, demo, auth, client):
    """The owner who resets their password can sign in at once with the new one."""
    _fail(Auth(_client_from(app, "203.0.113.9")), 5)
    assert auth.login().status_code == 429
    page = client.get("/forgot-password")
    client.post(
        "/forgot-password",
        data={
            "csrf_token": csrf_from(page.get_data(True)),
            "client_id": "DEMO",
            "identifier": "admin",
        },
    )
    reset = [e for e in emails_to(app, "admin@demo.example") if "reset" in e.subject.lower()]
    path = link_in(reset[0].body, "/reset-password/")
    form = client.get(path)
    client.post(
        path,
        data={
            "csrf_token": csrf_from(form.get_data(True)),
            "password": "violet-harbour-lantern",
            "password_again": "violet-harbour-lantern",
        },
    )
    assert auth.login(password="violet-harbour-lantern").status_code == 302


# --- storefront -------------------------------------------------------------------------------


@pytest.fixture
def store(app, demo, run_jobs):
    """Northwind Cloud's storefront, with one customer."""
    from tests.helpers import submit_creation

    staff = app.test_client()
    Auth(staff).login()
    submit_creation(staff, app)
    run_jobs()
    shopper = app.test_client()
    page = shopper.get("/store/northwind-cloud/signup")
    response = shopper.post(
        "/store/northwind-cloud/signup",
        data={
            "csrf_token": csrf_from(page.get_data(True)),
            "name": "Alice",
            "email": "alice@example.com",
            "password": "alice-password-123",
            "password_again": "alice-password-123",
        },
    )
    assert response.status_code == 302
    return "/store/northwind-cloud"


def _store_login(client, store, email="alice@example.com", password="alice-password-123"):
    page = client.get(f"{store}/login")
    return client.post(
        f"{store}/login",
        data={"csrf_token": csrf_from(page.get_data(True)), "email": email, "password": password},
    )


def test_storefront_sign_in_waits_per_email(app, store):
    """Five wrong passwords for one email: the right one then waits (429), another email
    does not."""
    shopper = app.test_client()
    for _ in range(5):
        assert _store_login(shopper, store, password="wrong-password").status_code == 401
    waiting = _store_login(shopper, store)
    assert waiting.status_code == 429
    assert "Try again in" in waiting.get_data(as_text=True)
    assert _store_login(shopper, store, "bob@example.com", "x").status_code == 401


def test_storefront_sign_in_waits_per_ip(app, store):
    """Thirty failures from one address over many emails make that address wait."""
    shopper = app.test_client()
    for n in range(30):
        assert _store_login(shopper, store, f"guess{n}@example.com", "x").status_code == 401
    assert _store_login(shopper, store).status_code == 429
    other = _client_from(app, "198.51.100.7")
    assert _store_login(other, store).status_code == 302


def test_storefront_sign_in_waits_per_store(app, store, monkeypatch):
    """Failures spread over many addresses still add up for the whole store (the threshold
    is lowered here from 200 to 3 to keep the test short); a browser that signed in before
    is not held back."""
    monkeypatch.setattr(throttle, "STORE_WIDE", throttle.Rule("store", free_failures=3))
    regular = app.test_client()
    assert _store_login(regular, store).status_code == 302
    regular.post(
        f"{store}/logout", data={"csrf_token": csrf_from(regular.get(f"{store}/").get_data(True))}
    )
    for n in range(3):
        attacker = _client_from(app, f"203.0.113.{n + 1}")
        assert _store_login(attacker, store, f"guess{n}@example.com", "x").status_code == 401
    newcomer = _client_from(app, "198.51.100.7")
    assert _store_login(newcomer, store).status_code == 429
    assert _store_login(regular, store).status_code == 302
