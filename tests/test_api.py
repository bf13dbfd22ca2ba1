"""The JSON API (/api/v1): tokens made by admins, scoped reads, queued creation with
idempotency, problem+json errors, a real worker, and the example client script."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from jobs import reaper
from tests.helpers import GOOD_PASSWORD, account_id, price_list_id
from webapp.api import idempotency, tokens
from webapp.extensions import db
from webapp.models import (
    Account,
    ApiToken,
    AuditLog,
    IdempotencyRecord,
    Organization,
    Process,
    Role,
    TenantReseller,
    User,
    utcnow,
)
from webapp.services.passwords import hash_password

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = "application/problem+json"
CREATE = "/api/v1/tenant-resellers"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def make_token(app, organization_id: int, name: str = "tests") -> str:
    """A token of the organization made by its admin through the service the page uses."""
    with app.app_context():
        admin = db.session.scalar(
            select(User).where(User.organization_id == organization_id, User.role == Role.ADMIN)
        )
        return tokens.create_token(organization_id, admin, name)[1]


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def creation_body(app, account="Northwind Cloud", price_list="Partner EUR", **overrides) -> dict:
    body = {
        "account_id": account_id(app, account),
        "price_list_id": price_list_id(app, price_list),
        "edition": "Premium",
        "language": "de",
        "timezone": "Europe/Berlin",
        "date_format": "dd.MM.yyyy",
        "separate_invoices": True,
        "admin_username": "nwadmin",
        "admin_email": "admin@northwind.example",
        "admin_password": GOOD_PASSWORD,
    }
    body.update(overrides)
    return body


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert set(body) >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["instance"] == response.request.path
    return body


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def token(app, demo) -> str:
    return make_token(app, demo)


@pytest.fixture
def other_org(app, demo) -> dict:
    """A second distributor with a reseller account of its own and an API token."""
    with app.app_context():
        org = Organization(name="Other Distributor", client_id="OTHERDIST1")
        db.session.add(org)
        db.session.flush()
        db.session.add(
            User(
                organization_id=org.id,
                username="admin",
                password_hash="not-a-real-hash",
                role=Role.ADMIN,
            )
        )
        account = Account(
            organization_id=org.id, name="Other Reseller", is_reseller=True, billing_currency="EUR"
        )
        db.session.add(account)
        db.session.commit()
        ids = {"org": org.id, "account": account.id}
    ids["token"] = make_token(app, ids["org"], "other")
    return ids


# --- tokens: the settings page ----------------------------------------------------------------


def test_admin_creates_a_token_shown_once_and_stored_hashed(app, demo, auth, client):
    """The admin's new token appears once on the page; only its SHA-256 and a short prefix
    are stored; the creation is audit-logged; the token works."""
    auth.login()
    page = client.get("/settings/api-tokens")
    assert page.status_code == 200 and "No API tokens yet" in page.get_data(as_text=True)
    assert 'href="/settings/api-tokens"' in page.get_data(as_text=True)  # nav link for admins
    created = client.post(
        "/settings/api-tokens",
        data={"name": "Provisioning", "csrf_token": auth.token("/settings/api-tokens")},
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    raw = html.split("data-new-token")[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert raw.startswith("trbss_") and len(raw) > 40

    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert row.prefix == raw[:12] and row.name == "Provisioning"
        assert raw not in (row.token_hash, row.prefix, row.name)
        entry = db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "api_token"))
        assert (entry.action, entry.entity_id, entry.actor_label) == (
            "api_token.create",
            row.id,
            "admin",
        )
        assert raw not in json.dumps(entry.after)

    again = client.get("/settings/api-tokens").get_data(as_text=True)
    assert raw not in again and f"{raw[:12]}…" in again
    assert client.get("/api/v1/accounts", headers=bearer(raw)).status_code == 200


def test_revoked_token_gets_401_and_the_revocation_is_audited(app, demo, auth, client, token):
    """After Revoke, the same token is refused with 401 and WWW-Authenticate: Bearer."""
    assert client.get("/api/v1/accounts", headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.last_used_at is not None
        token_id = row.id
    auth.login()
    response = client.post(
        f"/settings/api-tokens/{token_id}/revoke",
        data={"csrf_token": auth.token("/settings/api-tokens")},
    )
    assert response.status_code == 303
    page = client.get("/settings/api-tokens").get_data(as_text=True)
    assert "was revoked" in page and "Revoked" in page

    refused = client.get("/api/v1/accounts", headers=bearer(token))
    body = assert_problem(refused, 401)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert body["type"].endswith("invalid-token")
    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity_type == "api_token", AuditLog.entity_id == token_id)
            .order_by(AuditLog.id)
        ).all()
    assert actions == ["api_token.create", "api_token.revoke"]


def test_token_pages_are_for_the_distributors_admins_only(app, demo, auth, client):
    """Signed out → sign-in page; staff → 404 (as every admin page); a tenant's admin → 404;
    the API blueprint is public but the token pages are not."""
    assert client.get("/settings/api-tokens").status_code == 302
    assert client.post("/settings/api-tokens", data={"name": "x"}).status_code in (302, 400)
    with app.app_context():
        db.session.add(
            User(
                organization_id=demo,
                username="clerk",
                password_hash=hash_password(GOOD_PASSWORD),
                role=Role.STAFF,
            )
        )
        tenant = Organization(name="Tenant Org", client_id="TENANTAPI1", parent_id=demo)
        db.session.add(tenant)
        db.session.flush()
        db.session.add(
            User(
                organization_id=tenant.id,
                username="tadmin",
                password_hash=hash_password(GOOD_PASSWORD),
                role=Role.ADMIN,
            )
        )
        db.session.commit()
    auth.login(username="clerk", password=GOOD_PASSWORD)
    assert client.get("/settings/api-tokens").status_code == 404
    assert client.get("/admin/queue-health").status_code == 404  # the same rule
    assert "API tokens" not in client.get("/accounts/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login(client_id="TENANTAPI1", username="tadmin", password=GOOD_PASSWORD)
    assert client.get("/settings/api-tokens").status_code == 404
    assert count(app, ApiToken) == 0


def test_missing_or_wrong_authorization_is_401_problem(client, token):
    """No header, another scheme, or an unknown token: 401 problem+json, WWW-Authenticate."""
    for headers in (
        {},
        {"Authorization": f"Basic {token}"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer trbss_not-a-token"},
        {"Authorization": f"Bearer {token}x"},
    ):
        response = client.get("/api/v1/processes", headers=headers)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="api"')
    assert client.get("/api/v1/processes", headers=bearer(token)).status_code == 200


def test_a_tenant_organizations_token_is_refused(app, demo, client):
    """Only the distributor has tenant resellers: a tenant organization's token gets 403."""
    with app.app_context():
        tenant = Organization(name="Tenant Org", client_id="TENANTAPI2", parent_id=demo)
        db.session.add(tenant)
        db.session.commit()
        raw = tokens.create_token(tenant.id, None, "tenant")[1]
    body = assert_problem(client.get("/api/v1/accounts", headers=bearer(raw)), 403)
    assert body["type"].endswith("distributor-only")


# --- reads ------------------------------------------------------------------------------------


def test_accounts_list_each_with_its_readiness(app, client, token):
    """GET /accounts pages through the accounts by name with the live checklist."""
    response = client.get("/api/v1/accounts", headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    by_name = {a["name"]: a for a in data["items"]}
    assert data["total"] == len(data["items"]) >= 5 and data["page"] == 1
    northwind = by_name["Northwind Cloud"]["readiness"]
    assert northwind["ready"] is True and northwind["failures"] == []
    assert "Partner EUR" in {p["name"] for p in northwind["ready_price_lists"]}
    assert northwind["default_price_list_id"] == price_list_id(app, "Partner EUR")
    fabrikam = by_name["Fabrikam Ltd"]["readiness"]
    assert fabrikam["ready"] is False
    assert {"key": "ordering", "label": "Enabled for ordering"}.items() <= (
        fabrikam["failures"][0].items()
    )
    assert "not enabled for ordering" in fabrikam["failures"][0]["reason"]
    ready_lists = {p["name"] for p in fabrikam["ready_price_lists"]}
    assert "Partner EUR" not in ready_lists and "Microsoft only EUR" in ready_lists
    tailspin = by_name["Tailspin IT"]["readiness"]
    missing = {p["name"]: p["missing_syncs"] for p in tailspin["eligible_price_lists"]}
    assert missing["Partner EUR"] == ["Acronis Cloud Backup"]

    second = client.get("/api/v1/accounts?per_page=2&page=2", headers=bearer(token)).get_json()
    assert [a["name"] for a in second["items"]] == [a["name"] for a in data["items"][2:4]]
    assert_problem(client.get("/api/v1/accounts?per_page=500", headers=bearer(token)), 400)


def test_one_account_and_the_readiness_of_a_tenant(app, client, token):
    """GET /accounts/{id} is one account; once it is a tenant it is no longer ready and says
    why."""
    northwind = account_id(app, "Northwind Cloud")
    data = client.get(f"/api/v1/accounts/{northwind}", headers=bearer(token)).get_json()
    assert data["id"] == northwind and data["kind"] == "Reseller"
    assert data["links"]["self"] == f"/api/v1/accounts/{northwind}"
    created = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    tenant_id = created.get_json()["tenant_reseller_id"]
    data = client.get(f"/api/v1/accounts/{northwind}", headers=bearer(token)).get_json()
    assert data["tenant_reseller_id"] == tenant_id
    assert data["readiness"]["ready"] is False
    assert data["readiness"]["failures"][0]["key"] == "tenant_reseller"


def test_another_organizations_ids_are_404(app, client, token, other_org):
    """Accounts, tenant resellers and processes of another organization look absent."""
    created = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    assert created.status_code == 202
    mine = created.get_json()
    theirs = bearer(other_org["token"])
    for path in (
        f"/api/v1/accounts/{account_id(app, 'Northwind Cloud')}",
        f"/api/v1/tenant-resellers/{mine['tenant_reseller_id']}",
        f"/api/v1/processes/{mine['process_id']}",
        f"/api/v1/accounts/{2**40}",
    ):
        assert_problem(client.get(path, headers=theirs), 404)
    assert_problem(
        client.get(f"/api/v1/accounts/{other_org['account']}", headers=bearer(token)), 404
    )
    for path in ("/api/v1/tenant-resellers", "/api/v1/processes"):
        assert client.get(path, headers=theirs).get_json()["items"] == []
    names = [a["name"] for a in client.get("/api/v1/accounts", headers=theirs).get_json()["items"]]
    assert names == ["Other Reseller"]
    # Creating from another organization's account (or with its price list) is 404 too.
    stolen = creation_body(app, account="Tailspin IT")
    assert_problem(client.post(CREATE, json=stolen, headers=theirs), 404)
    foreign_list = creation_body(app, account_id=other_org["account"])
    body = assert_problem(client.post(CREATE, json=foreign_list, headers=theirs), 404)
    assert "price list" in body["detail"]
    assert count(app, TenantReseller) == 1


# --- creation ---------------------------------------------------------------------------------


def test_create_returns_202_with_the_process_and_lists_show_it(app, client, token):
    """POST /tenant-resellers queues one process (202, Location) made by the token's admin;
    the tenant reseller and the process are listed, newest first, with their tasks."""
    response = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"process_id", "tenant_reseller_id", "status", "message", "links"}
    assert body["status"] == "Queued" and body["message"] == ""
    assert body["links"] == {
        "process": f"/api/v1/processes/{body['process_id']}",
        "tenant_reseller": f"/api/v1/tenant-resellers/{body['tenant_reseller_id']}",
    }
    assert response.headers["Location"] == body["links"]["process"]
    assert "Idempotent-Replayed" not in response.headers

    with app.app_context():
        tenant = db.session.get(TenantReseller, body["tenant_reseller_id"])
        assert (tenant.edition, tenant.language, tenant.separate_invoices) == (
            "Premium",
            "de",
            True,
        )
        assert tenant.admin_password_hash.startswith("$argon2id$")
        admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
        assert tenant.created_by_id == admin_id
        entry = db.session.scalar(
            select(AuditLog).where(AuditLog.action == "tenant_reseller.create")
        )
        assert entry.process_id == body["process_id"] and entry.actor_user_id == admin_id

    tenants = client.get("/api/v1/tenant-resellers", headers=bearer(token)).get_json()
    assert tenants["total"] == 1
    listed = tenants["items"][0]
    assert listed["id"] == body["tenant_reseller_id"] and listed["status"] == "In Progress"
    assert listed["account_name"] == "Northwind Cloud" and listed["client_id"] is None
    one = client.get(body["links"]["tenant_reseller"], headers=bearer(token)).get_json()
    assert one == listed

    processes = client.get("/api/v1/processes", headers=bearer(token)).get_json()
    assert [p["id"] for p in processes["items"]] == [body["process_id"]]
    assert processes["items"][0]["progress"] == 0 and "tasks" not in processes["items"][0]
    process = client.get(body["links"]["process"], headers=bearer(token)).get_json()
    assert process["status"] == "Queued" and len(process["tasks"]) == 8
    assert set(process["tasks"][0]) == {
        "position",
        "name",
        "step",
        "status",
        "items_done",
        "items_total",
        "started_at",
        "finished_at",
        "duration_seconds",
        "message",
    }
    only_this = client.get(
        f"/api/v1/processes?tenant_reseller_id={body['tenant_reseller_id']}",
        headers=bearer(token),
    ).get_json()
    assert only_this["total"] == 1


@pytest.mark.parametrize("edition", ["basic", "PREMIUM", "Basic", " premium "])
def test_edition_is_accepted_in_any_case(app, client, token, edition):
    """edition "basic" is taken as the CLI takes --edition basic, and stored as Basic."""
    response = client.post(CREATE, json=creation_body(app, edition=edition), headers=bearer(token))
    assert response.status_code == 202, response.get_data(as_text=True)
    with app.app_context():
        tenant = db.session.get(TenantReseller, response.get_json()["tenant_reseller_id"])
        assert tenant.edition == edition.strip().capitalize()


def test_processes_are_listed_newest_first(app, client, token):
    """Two creations: the later one's process comes first."""
    first = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    second = client.post(
        CREATE,
        json=creation_body(
            app, account="Contoso Lite", price_list="Partner USD", admin_username="ctadmin"
        ),
        headers=bearer(token),
    )
    assert first.status_code == second.status_code == 202
    items = client.get("/api/v1/processes", headers=bearer(token)).get_json()["items"]
    assert [p["id"] for p in items] == [
        second.get_json()["process_id"],
        first.get_json()["process_id"],
    ]


def test_validation_errors_are_422_per_field(app, client, token):
    """Every wrong, missing or unknown field is named in `errors`; nothing is created."""
    wrong = creation_body(
        app,
        account_id="one",
        price_list_id=0,
        edition="Gold",
        language="xx",
        timezone="Mars/Base",
        date_format="yyyy",
        separate_invoices="yes",
        admin_username="a b",
        admin_email="not-an-email",
        admin_password="short",
        colour="blue",
    )
    response = client.post(CREATE, json=wrong, headers=bearer(token))
    body = assert_problem(response, 422)
    assert body["type"].endswith("validation-error")
    assert set(body["errors"]) == {
        "account_id",
        "price_list_id",
        "edition",
        "language",
        "timezone",
        "date_format",
        "separate_invoices",
        "admin_username",
        "admin_email",
        "admin_password",
        "colour",
    }
    assert body["errors"]["timezone"].startswith("Choose a time zone")
    assert "12 characters" in body["errors"]["admin_password"]
    assert body["errors"]["colour"] == "Unknown field."

    empty = assert_problem(client.post(CREATE, json={}, headers=bearer(token)), 422)
    required = set(creation_body(app)) - {"separate_invoices"}
    assert set(empty["errors"]) == required
    assert all(m == "This field is required." for m in empty["errors"].values())
    common = creation_body(app, admin_password="password1234")
    body = assert_problem(client.post(CREATE, json=common, headers=bearer(token)), 422)
    assert set(body["errors"]) == {"admin_password"}
    assert_problem(client.post(CREATE, json=[1], headers=bearer(token)), 422)
    assert count(app, TenantReseller) == count(app, Process) == 0


def test_not_ready_account_is_409_with_the_reasons(app, client, token):
    """Fabrikam is not enabled for ordering, Tailspin is not synced on Acronis: 409, with the
    checklist's reasons; nothing is created."""
    fabrikam = client.post(
        CREATE,
        json=creation_body(app, account="Fabrikam Ltd"),
        headers=bearer(token),
    )
    body = assert_problem(fabrikam, 409)
    assert body["type"].endswith("account-not-ready")
    assert any("not enabled for ordering" in r for r in body["reasons"])
    tailspin = client.post(
        CREATE,
        json=creation_body(app, account="Tailspin IT"),
        headers=bearer(token),
    )
    assert any("Acronis" in r for r in assert_problem(tailspin, 409)["reasons"])
    usd = client.post(
        CREATE,
        json=creation_body(app, price_list="Partner USD"),
        headers=bearer(token),
    )
    assert any("USD" in r for r in assert_problem(usd, 409)["reasons"])
    assert count(app, TenantReseller) == 0


def test_an_account_that_already_is_a_tenant_is_409_with_its_id(app, client, token):
    """A second creation for the same account (no Idempotency-Key) is 409 naming the tenant."""
    first = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    second = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    body = assert_problem(second, 409)
    assert body["type"].endswith("already-a-tenant-reseller")
    assert body["tenant_reseller_id"] == first.get_json()["tenant_reseller_id"]
    assert count(app, TenantReseller) == count(app, Process) == 1


# --- idempotency ------------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_response(app, client, token):
    """The same Idempotency-Key and body (keys in another order) replays status and body with
    Idempotent-Replayed: true and creates nothing; only a hash of the body is stored."""
    body = creation_body(app)
    headers = bearer(token, **{"Idempotency-Key": "order-42"})
    first = client.post(CREATE, json=body, headers=headers)
    assert first.status_code == 202
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = client.post(
        CREATE,
        data=reordered,
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 202
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert count(app, TenantReseller) == count(app, Process) == 1
    with app.app_context():
        record = db.session.scalar(select(IdempotencyRecord))
        assert (record.key, record.status_code) == ("order-42", 202)
        assert record.body == first.get_json()
        assert len(record.request_hash) == 64
        assert GOOD_PASSWORD not in json.dumps(record.body) + record.request_hash


def test_same_key_with_another_body_is_409(app, client, token):
    """Reusing a key for a different request is refused and creates nothing more."""
    headers = bearer(token, **{"Idempotency-Key": "order-43"})
    assert client.post(CREATE, json=creation_body(app), headers=headers).status_code == 202
    other = creation_body(app, account="Contoso Lite", price_list="Partner USD")
    body = assert_problem(client.post(CREATE, json=other, headers=headers), 409)
    assert body["type"].endswith("idempotency-key-reused")
    assert count(app, TenantReseller) == 1


def test_a_key_expires_after_a_day_and_the_reaper_purges_old_records(app, client, token):
    """After 24 hours a key answers afresh (no 409 for another body), and the reaper's sweep
    deletes the expired records it has not seen again, keeping the fresh ones."""
    headers = bearer(token, **{"Idempotency-Key": "old-key"})
    assert client.post(CREATE, json=creation_body(app), headers=headers).status_code == 202
    fresh = bearer(token, **{"Idempotency-Key": "fresh-key"})
    not_ready = creation_body(app, account="Fabrikam Ltd")
    assert client.post(CREATE, json=not_ready, headers=fresh).status_code == 409
    with app.app_context():
        db.session.execute(
            IdempotencyRecord.__table__.update().values(created_at=utcnow() - timedelta(hours=25))
        )
        db.session.commit()

    other = creation_body(app, account="Contoso Lite", price_list="Partner USD")
    reused = client.post(CREATE, json=other, headers=headers)
    assert reused.status_code == 202 and "Idempotent-Replayed" not in reused.headers
    assert count(app, TenantReseller) == 2
    with app.app_context():
        keys = set(db.session.scalars(select(IdempotencyRecord.key)))
        assert keys == {"old-key", "fresh-key"}  # old-key now holds the new answer
        reaper.sweep()
        assert set(db.session.scalars(select(IdempotencyRecord.key))) == {"old-key"}


def test_a_refused_request_does_not_use_up_its_key(app, client, token):
    """A 422 is not stored: the corrected request with the same key creates the tenant; an
    executed answer (here a 409) is stored and replayed."""
    headers = bearer(token, **{"Idempotency-Key": "retry-me"})
    bad = client.post(CREATE, json=creation_body(app, edition="Gold"), headers=headers)
    assert_problem(bad, 422)
    assert client.post(CREATE, json=creation_body(app), headers=headers).status_code == 202

    not_ready = creation_body(app, account="Fabrikam Ltd")
    other_key = bearer(token, **{"Idempotency-Key": "fabrikam"})
    first = client.post(CREATE, json=not_ready, headers=other_key)
    replay = client.post(CREATE, json=not_ready, headers=other_key)
    assert_problem(first, 409)
    assert replay.get_data() == first.get_data() and replay.mimetype == PROBLEM
    assert replay.headers["Idempotent-Replayed"] == "true"
    for key in ("", " ", "x" * 201, "naïve"):
        response = client.post(
            CREATE,
            json=creation_body(app),
            headers=bearer(token, **{"Idempotency-Key": key}),
        )
        assert_problem(response, 400)


def test_concurrent_requests_with_one_key_create_one_tenant(app, client, token):
    """Ten requests racing with the same key make one tenant reseller and all get its 202
    (the key is claimed before the work: no 409); later retries replay it."""
    body = creation_body(app)
    headers = bearer(token, **{"Idempotency-Key": "race"})
    barrier = threading.Barrier(10)
    results: list[tuple[int, dict]] = []

    def send():
        own = app.test_client()
        barrier.wait()
        response = own.post(CREATE, json=body, headers=headers)
        results.append((response.status_code, response.get_json(force=True)))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 10
    assert [status for status, _ in results] == [202] * 10, results
    assert all(answer == results[0][1] for _, answer in results)
    assert count(app, TenantReseller) == count(app, Process) == 1
    created = next(answer for status, answer in results if status == 202)
    retry = client.post(CREATE, json=body, headers=headers)
    assert retry.status_code == 202 and retry.get_json() == created
    assert count(app, IdempotencyRecord) == 1


def test_the_record_insert_is_race_safe(app, demo):
    """The unique (organization, key) lets one insert win: the loser gets the winner's answer,
    except that a creation's 202 replaces a duplicate's "already a tenant" 409."""
    with app.test_request_context("/api/v1/tenant-resellers"):
        rhash = idempotency.request_hash({"a": 1})
        first = idempotency.save(demo, "k", rhash, 409, {"status": 409})
        assert (first.status_code, first.body) == (409, {"status": 409})
        winner = idempotency.save(demo, "k", rhash, 202, {"process_id": 7})
        assert (winner.status_code, winner.body) == (202, {"process_id": 7})
        loser = idempotency.save(demo, "k", rhash, 409, {"status": 409})
        assert (loser.status_code, loser.body) == (202, {"process_id": 7})
        other = idempotency.save(demo, "k", idempotency.request_hash({"a": 2}), 202, {})
        assert not other.matches(idempotency.request_hash({"a": 2}))
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


# --- errors -----------------------------------------------------------------------------------


def test_errors_are_problem_json_and_pages_keep_html(client, token):
    """404, 405, malformed JSON (400), a non-JSON body (415) and a bad query (400) are RFC 9457
    problems under /api/v1; the HTML pages keep their HTML error pages."""
    auth = bearer(token)
    body = assert_problem(client.get("/api/v1/nope", headers=auth), 404)
    assert body["type"] == "about:blank" and body["title"] == "Not Found"
    assert_problem(client.get("/api/v1/nope"), 404)  # routing answers before authentication
    assert_problem(client.get("/api/v1/processes/999999", headers=auth), 404)

    method = client.delete("/api/v1/accounts", headers=auth)
    assert_problem(method, 405)
    assert set(method.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert_problem(client.put("/api/v1/processes/1", headers=auth), 405)

    malformed = client.post(CREATE, data="{not json", content_type="application/json", headers=auth)
    assert "not valid JSON" in assert_problem(malformed, 400)["detail"]
    for data, content_type in (("account_id=1", "application/x-www-form-urlencoded"), ("", None)):
        response = client.post(CREATE, data=data, content_type=content_type, headers=auth)
        assert_problem(response, 415)
    nan = client.post(
        CREATE,
        data='{"account_id": NaN}',
        content_type="application/json",
        headers=auth,
    )
    assert_problem(nan, 400)
    huge = client.post(CREATE, json={"x": "a" * 70_000}, headers=auth)
    assert_problem(huge, 413)
    assert assert_problem(client.get("/api/v1/processes?page=0", headers=auth), 400)["errors"] == {
        "page": "Must be a whole number from 1 to 1000000."
    }

    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.get("/api/v2/accounts").mimetype == "text/html"


def test_the_openapi_document_is_public(client):
    """GET /api/v1/openapi.json needs no token and describes every operation and the bearer
    scheme."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert operations == {
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/accounts"),
        ("GET", "/api/v1/accounts/{account_id}"),
        ("GET", "/api/v1/tenant-resellers"),
        ("POST", "/api/v1/tenant-resellers"),
        ("GET", "/api/v1/tenant-resellers/{tenant_id}"),
        ("GET", "/api/v1/processes"),
        ("GET", "/api/v1/processes/{process_id}"),
        ("GET", "/api/v1/orders"),
        ("GET", "/api/v1/orders/{order_id}"),
        ("GET", "/api/v1/subscriptions"),
        ("GET", "/api/v1/subscriptions/{subscription_id}"),
        ("GET", "/api/v1/invoices"),
        ("GET", "/api/v1/invoices/{invoice_id}"),
        ("GET", "/api/v1/reconciliation"),
    }


def test_the_api_ignores_session_cookies_and_csrf(app, auth, client, demo):
    """A signed-in browser session is no API credential, and token requests need no CSRF."""
    auth.login()
    assert_problem(client.get("/api/v1/accounts"), 401)
    token = make_token(app, demo)
    response = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    assert response.status_code == 202


# --- a real worker ----------------------------------------------------------------------------


def test_polling_the_process_until_a_real_worker_completed_it(app, client, token, run_jobs):
    """The process is Queued until an RQ worker runs it; polling GET /processes/{id} then
    shows it Completed with every task, its items and times, and the tenant's Client ID."""
    created = client.post(CREATE, json=creation_body(app), headers=bearer(token))
    url = created.get_json()["links"]["process"]
    before = client.get(url, headers=bearer(token)).get_json()
    assert (before["status"], before["progress"], before["finished"]) == ("Queued", 0, False)

    run_jobs()

    deadline = time.monotonic() + 30
    while True:
        process = client.get(url, headers=bearer(token)).get_json()
        if process["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert process["status"] == "Completed", process["message"]
    assert process["progress"] == 100 and process["finished_at"]
    assert [t["status"] for t in process["tasks"]] == ["Completed"] * 8
    assert all(t["started_at"] and t["finished_at"] for t in process["tasks"])
    copy = next(t for t in process["tasks"] if t["step"] == "copy_products")
    assert copy["items_done"] == copy["items_total"] == 64
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", process["client_id"])  # as the UI shows it
    tenant = client.get(process["links"]["tenant_reseller"], headers=bearer(token)).get_json()
    assert tenant["status"] == "Active" and tenant["client_id"] == process["client_id"]


# --- the example script -----------------------------------------------------------------------


@pytest.fixture
def live_server(app):
    """The test app over HTTP on a free port, in a daemon thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture
def worker(app, migrated, redis_url, tmp_path):
    """A real `flask --app wsgi worker` subprocess on the test database and Redis (in its own
    process group, so that its work horse is stopped with it)."""
    env = {
        **os.environ,
        "DATABASE_URL": migrated,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "COPY_BATCH_SIZE": "25",
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_example_script_creates_a_tenant_against_a_live_server(live_server, worker, token):
    """examples/api_create_tenant.py finds a ready account, creates the tenant reseller with
    an Idempotency-Key and polls until Completed, exiting 0."""
    env = {**os.environ, "BASE_URL": live_server, "API_TOKEN": token, "POLL_SECONDS": "0.3"}
    env.pop("ADMIN_PASSWORD", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "api_create_tenant.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Idempotency-Key" in done.stdout
    assert "%]" in done.stdout and "Completed" in done.stdout
    assert "Client ID" in done.stdout


def test_a_nul_character_in_json_is_a_400_problem(app, client, token):
    """PostgreSQL cannot store NUL: the API refuses it up front and creates nothing."""
    body = creation_body(app, admin_username="admin\x00")
    response = client.post(CREATE, json=body, headers=bearer(token))
    assert_problem(response, 400)
    assert count(app, Process) == 0
