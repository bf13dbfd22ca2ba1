"""Custom domains cannot take over the platform: platform hosts come from configuration only,
a domain under one or another tenant's is refused, and a new domain routes only after a DNS TXT
record (checked by a queued job against a local DNS server) proves ownership."""

from __future__ import annotations

import pytest

from tests.dns_server import TxtServer
from tests.test_branding import Editor, storefront_of
from tests.test_storefront_public import make_tenant, sign_in_as_tenant
from webapp import create_app
from webapp.extensions import db
from webapp.models import Storefront

PLATFORM = "bss.example.net"


@pytest.fixture
def premium(app, demo, auth, client, run_jobs, tmp_path):
    app.config["UPLOADS_DIR"] = str(tmp_path / "uploads")
    app.config["PLATFORM_HOSTS"] = ("localhost", PLATFORM)
    tenant = make_tenant(app, auth, client, run_jobs)
    sign_in_as_tenant(auth, tenant)
    return tenant


@pytest.fixture
def dns_server(app):
    with TxtServer() as server:
        app.config["DNS_RESOLVER"] = server.address
        yield server


def test_a_platform_host_or_a_name_under_it_is_refused_whatever_the_host_header(
    app, premium, client
):
    """The takeover: saving the BSS's own host name (from PLATFORM_HOSTS, not the request's
    Host, which here is localhost) is refused (400, message next to the field, nothing
    saved), in any case, with a trailing dot, and any name under it."""
    editor = Editor(client)
    for bad in (PLATFORM, "BSS.Example.NET.", "shop.bss.example.net", "localhost"):
        response = editor.save(custom_domain=bad)
        assert response.status_code == 400, bad
        html = response.get_data(as_text=True)
        assert "belongs to the platform" in html or "at least one dot" in html, bad
        assert storefront_of(app, premium).custom_domain is None
    # The platform host is still the BSS.
    assert client.get("/login", headers={"Host": PLATFORM}).status_code in (200, 302)
    assert "Client ID" in client.get("/login", headers={"Host": PLATFORM}).get_data(as_text=True)


def test_a_domain_equal_to_another_tenants_is_refused_case_insensitively(app, premium, client):
    with app.app_context():
        db.session.add(
            Storefront(
                organization_id=premium["org_id"] - 1 or 1,
                slug="someone-else",
                brand_name="Someone",
                custom_domain="taken.example.com",
            )
        )
        db.session.commit()
    response = Editor(client).save(custom_domain="TAKEN.example.com.")
    assert response.status_code == 400
    assert "already used by another storefront" in response.get_data(as_text=True)
    assert storefront_of(app, premium).custom_domain is None


def test_the_platform_hosts_are_never_routed_to_a_store_even_if_stored(app, premium, client):
    """Defence in depth: a row already holding a platform host (before this fix) and verified
    does not make the BSS host answer as the store."""
    from webapp.models import utcnow

    with app.app_context():
        storefront = db.session.get(Storefront, premium["storefront_id"])
        storefront.custom_domain = PLATFORM
        storefront.domain_verified_at = utcnow()
        db.session.commit()
    app.extensions["storefront_hosts"].forget()
    login = client.get("/login", headers={"Host": PLATFORM})
    assert "Client ID" in login.get_data(as_text=True)


def test_a_new_domain_is_pending_until_its_txt_record_is_verified_by_a_queued_job(
    app, premium, client, run_jobs, dns_server
):
    """Save: pending, not routed, the page shows the TXT record; the queued check without the
    record keeps it pending with a message; once published, Check now verifies it and only
    then does the host serve the store; the TLS ask endpoint follows."""
    editor = Editor(client)
    assert editor.save(custom_domain="shop.example.com").status_code == 303
    storefront = storefront_of(app, premium)
    assert storefront.custom_domain == "shop.example.com" and storefront.domain_token
    assert storefront.domain_verified_at is None
    page = client.get("/branding").get_data(as_text=True)
    assert "_trbss-verify.shop.example.com" in page and storefront.domain_token in page
    run_jobs()
    assert "_trbss-verify.shop.example.com" in dns_server.queries
    storefront = storefront_of(app, premium)
    assert storefront.domain_verified_at is None and "No TXT record" in (
        storefront.domain_check_message
    )
    assert client.get("/", headers={"Host": "shop.example.com"}).status_code == 302
    assert client.get("/tls/ask?domain=shop.example.com").status_code == 404

    dns_server.records["_trbss-verify.shop.example.com"] = ["something else"]
    token = editor.page().get_data(as_text=True)
    from tests.conftest import csrf_from

    assert (
        client.post("/branding/domain/check", data={"csrf_token": csrf_from(token)}).status_code
        == 303
    )
    run_jobs()
    assert storefront_of(app, premium).domain_verified_at is None

    dns_server.records["_trbss-verify.shop.example.com"] = ["other", storefront.domain_token]
    client.post("/branding/domain/check", data={"csrf_token": csrf_from(token)})
    run_jobs()
    assert storefront_of(app, premium).domain_verified_at is not None
    app.extensions["storefront_hosts"].forget()
    home = client.get("/", headers={"Host": "shop.example.com"})
    assert home.status_code == 200 and "Northwind Cloud" in home.get_data(as_text=True)
    assert client.get("/tls/ask?domain=shop.example.com").status_code == 200
    assert client.get(f"/tls/ask?domain={PLATFORM}").status_code == 200
    assert client.get("/tls/ask?domain=evil.example.org").status_code == 404

    # Changing the domain makes it pending again, with a new token.
    assert editor.save(custom_domain="www.example.com").status_code == 303
    changed = storefront_of(app, premium)
    assert changed.domain_verified_at is None and changed.domain_token != storefront.domain_token


def test_production_refuses_to_start_without_platform_hosts(monkeypatch, migrated, redis_url):
    """PLATFORM_HOSTS is required outside development and tests."""
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("PLATFORM_HOSTS", raising=False)
    # A production configuration with a secret key: only PLATFORM_HOSTS is missing.
    config = {"SQLALCHEMY_DATABASE_URI": migrated, "REDIS_URL": redis_url, "SECRET_KEY": "k" * 32}
    with pytest.raises(RuntimeError, match="PLATFORM_HOSTS"):
        create_app(config)
    monkeypatch.setenv("PLATFORM_HOSTS", "BSS.example.net., admin.example.net")
    app = create_app(config)
    assert app.config["PLATFORM_HOSTS"] == ("bss.example.net", "admin.example.net")
