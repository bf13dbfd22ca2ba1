"""The OpenAPI document against the app itself: schemathesis generates requests for every
operation of /api/v1/openapi.json and checks each answer against the document."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from redis import Redis
from rq import SimpleWorker
from schemathesis import checks as builtin_checks
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy import select

from jobs.connection import all_queues, get_redis
from tests.conftest import _clear_tables, _test_config
from tests.helpers import GOOD_PASSWORD, account_id, place_demo_orders, price_list_id
from webapp import create_app
from webapp.api import openapi, problems, tokens
from webapp.demo import seed_demo
from webapp.extensions import db
from webapp.models import Invoice, InvoiceLine, User

# The document the app serves (test_the_served_document_is_the_tested_one checks that). It is
# loaded at import time because schemathesis' lazy fixture loader does not work with pytest 9;
# the requests go to the test app in-process (`app=`), never over the network.
schema = schemathesis.openapi.from_dict(json.loads(problems.dumps(openapi.document())))

# The demo distributor gets a token with this value (only its hash is stored), so that
# schemathesis, which prepares requests while collecting, can send it; or deliberately leave
# it out or spoil it when it checks that the API refuses unauthenticated requests.
TOKEN = "trbss_schemathesis-" + "x" * 24


@schema.auth(refresh_interval=None)
class ApiTokenAuth:
    def get(self, case, context):
        return TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# No 500s; every status, content type, header and body is the one the document promises;
# invalid requests are refused; valid ones are not (see _rejected_valid_creation); requests
# without a valid token are refused; undocumented methods get 405.
CHECKS = [
    builtin_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.positive_data_acceptance,
    openapi_checks.ignored_auth,
    openapi_checks.unsupported_method,
]
# Rules a JSON Schema cannot state: the email checker refuses special-use domains (.test),
# passwords must not be common ones nor the username.
RULES_BEYOND_THE_SCHEMA = {"admin_email", "admin_password"}


def creation_body(app) -> dict:
    return {
        "account_id": account_id(app, "Northwind Cloud"),
        "price_list_id": price_list_id(app, "Partner EUR"),
        "edition": "Basic",
        "language": "en",
        "timezone": "Europe/Athens",
        "date_format": "dd/MM/yyyy",
        "admin_username": "nwadmin",
        "admin_email": "admin@northwind.example",
        "admin_password": GOOD_PASSWORD,
    }


@pytest.fixture(scope="module")
def api_app(migrated, redis_url):
    """One app for the module (a fresh one per operation would cost seconds each): the demo
    distributor with the token TOKEN and one tenant reseller whose creation completed."""
    app = create_app(_test_config(migrated, redis_url))
    Redis.from_url(redis_url).flushdb()
    with app.app_context():
        _clear_tables()
        org_id = seed_demo(password="demo-password-123").id
        admin = db.session.scalar(
            select(User).where(User.organization_id == org_id, User.username == "admin")
        )
        row, _ = tokens.create_token(org_id, admin, "schemathesis")
        row.token_hash = tokens.hash_token(TOKEN)
        row.prefix = TOKEN[: tokens.DISPLAY_PREFIX_LENGTH]
        db.session.commit()
    response = app.test_client().post(
        "/api/v1/tenant-resellers",
        json=creation_body(app),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    with app.app_context():
        SimpleWorker(all_queues(), connection=get_redis()).work(burst=True)
    app.config["API_TEST_IDS"] = billing_rows(app, org_id)
    yield app
    with app.app_context():
        db.engine.dispose()


def billing_rows(app, org_id: int) -> dict[str, int]:
    """Orders (New, Change, Cancellation) placed through the commerce service and an issued
    invoice with a line, so that every read operation has a real row to answer with."""
    ids = place_demo_orders(app, org_id)
    with app.app_context():
        invoice = Invoice(
            organization_id=org_id,
            account_id=ids["account"],
            number="INV-2026-000001",
            status="Issued",
            period="2026-10",
            grouping="consolidated",
            currency="EUR",
            net_total=Decimal("10.00"),
            tax_rate=Decimal("24"),
            tax_total=Decimal("2.40"),
            total=Decimal("12.40"),
        )
        invoice.lines.append(
            InvoiceLine(
                description="Cloud Server L",
                quantity=1,
                unit_price=Decimal("10.00"),
                quantity_days=31,
                days_in_period=31,
                amount=Decimal("10.00"),
            )
        )
        db.session.add(invoice)
        db.session.commit()
        return {
            "order_id": ids["change"],
            "subscription_id": ids["subscription"],
            "invoice_id": invoice.id,
        }


def test_the_served_document_is_the_tested_one(api_app):
    """GET /api/v1/openapi.json needs no token and serves the OpenAPI 3.1 document tested here."""
    response = api_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == schema.raw_schema
    assert response.get_json()["openapi"] == "3.1.0"


def _rejected_valid_creation(case, response) -> bool:
    """A schema-valid creation refused only for a rule beyond the schema (or a reconciliation
    period that is a month not ended yet, or before 2000)."""
    if (
        response.status_code == 400
        and case.path == "/api/v1/reconciliation"
        and set(response.json().get("errors", {})) == {"period"}
    ):
        return True
    if response.status_code != 422 or case.method != "POST":
        return False
    errors = response.json().get("errors", {})
    return bool(errors) and set(errors) <= RULES_BEYOND_THE_SCHEMA


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_document(case, api_app):
    """Generated requests, valid and invalid, never get a 500 and every answer matches the
    OpenAPI document."""
    case.operation.schema.app = api_app  # for the probes some checks send
    response = case.call(app=api_app)
    checks = CHECKS
    if _rejected_valid_creation(case, response):
        checks = [c for c in CHECKS if c is not openapi_checks.positive_data_acceptance]
    case.validate_response(response, checks=checks, transport_kwargs={"app": api_app})


def test_real_resources_conform_to_the_document(api_app):
    """Every GET with the ids of real rows (a completed process with its tasks) answers 200
    with a body that matches the document served by the app."""
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    process = client.get("/api/v1/processes", headers=auth).get_json()["items"][0]
    assert process["status"] == "Completed"
    ids = {
        "account_id": account_id(api_app, "Northwind Cloud"),
        "tenant_id": process["tenant_reseller_id"],
        "process_id": process["id"],
        **api_app.config["API_TEST_IDS"],
    }
    checked = []
    for result in loaded.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        params = {p.name: ids[p.name] for p in operation.path_parameters if p.name in ids}
        case = operation.Case(path_parameters=params, headers=dict(auth))
        response = case.call()
        assert response.status_code == 200, (operation.label, response.text)
        case.validate_response(
            response,
            checks=[
                openapi_checks.status_code_conformance,
                openapi_checks.content_type_conformance,
                openapi_checks.response_schema_conformance,
            ],
        )
        checked.append(operation.label)
    assert len(checked) == 13, checked
