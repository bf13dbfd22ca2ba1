"""Every page a role may use is reachable from the pages that role sees: a crawl from the
home page through the links of the BSS, per role, against every GET route without path
parameters."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update
from werkzeug.exceptions import HTTPException

from tests.conftest import Auth
from tests.helpers import GOOD_PASSWORD, submit_creation
from webapp.extensions import db
from webapp.models import Organization, User
from webapp.services.passwords import hash_password

# Not pages of the BSS, or not reached from its menu on purpose; each with the reason.
NOT_NAVIGATION = {
    "static": "files",
    "home.favicon": "the browser's tab icon",
    "ops.healthz": "probes for the operator's monitoring",
    "ops.readyz": "probes for the operator's monitoring",
    "ops.metrics": "scraped by Prometheus",
    "branding.editor_css": "a stylesheet of the branding page",
    "branding.preview_css": "a stylesheet of the branding preview",
    "auth.login": "the signed-in user is past it",
    "auth.two_factor": "a step of signing in",
    "auth.forgot_password": "linked from the sign-in page, for the signed-out",
    "pricelists.range_fragment": "an htmx fragment: the live product count of a range",
}
NOT_NAVIGATION_BLUEPRINTS = (
    "api.",  # the JSON API: its address is on the API tokens page, not a link
    "rq_dashboard.",  # the dashboard's own JSON and assets; its home is checked below
    "storefront.",  # the public shop (every route has the store's slug)
    "media.",
)
CRAWL_PER_ENDPOINT = 2  # pages of one kind visited (two accounts, two products, ...)


def _target_routes(app) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET route without path parameters that is a page."""
    targets = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments:
            continue
        if rule.endpoint in NOT_NAVIGATION or rule.endpoint.startswith(NOT_NAVIGATION_BLUEPRINTS):
            continue
        targets.append((rule.endpoint, rule.rule))
    if "rq_dashboard.queues_overview" in app.view_functions:
        targets.append(("rq_dashboard.queues_overview", "/admin/rq/"))
    return targets


def _endpoint(app, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _crawl(app, client) -> set[str]:
    """Every same-site path linked from the pages reachable from the home page."""
    linked: set[str] = set()
    visited: set[str] = set()
    per_endpoint: Counter[str] = Counter()
    queue = ["/"]
    while queue:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        response = client.get(path, follow_redirects=True)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        for href in re.findall(r'href="([^"#]*)', response.get_data(as_text=True)):
            parts = urlsplit(href.replace("&amp;", "&"))
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            target = parts.path
            linked.add(target)
            endpoint = _endpoint(app, target)
            if endpoint is None or endpoint.startswith(("static", "storefront.", "media.")):
                continue
            if target in visited or per_endpoint[endpoint] >= CRAWL_PER_ENDPOINT:
                continue
            if endpoint.startswith("rq_dashboard."):
                continue
            per_endpoint[endpoint] += 1
            queue.append(target)
    return linked


def _usable(client, path: str) -> bool:
    """The role may use the page: it answers 200 (not 403, 404 or a redirect elsewhere)."""
    return client.get(path).status_code == 200


def _assert_everything_linked(app, client, role: str) -> list[str]:
    linked = _crawl(app, client)
    usable = [(e, p) for e, p in _target_routes(app) if _usable(client, p)]
    missing = [f"{e} {p}" for e, p in usable if p not in linked]
    assert not missing, f"{role}: pages that nothing links to: {missing}"
    return [p for _e, p in usable]


@pytest.fixture
def tenant_client_id(app, demo, run_jobs):
    """Northwind Cloud made a Premium tenant (administrator nwadmin) and a staff user in it."""
    staff = app.test_client()
    Auth(staff).login()
    assert submit_creation(staff, app).status_code == 303
    run_jobs()
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == "Northwind Cloud"))
        db.session.add(
            User(
                organization_id=org.id,
                username="nwstaff",
                email="staff@northwind.example",
                password_hash=hash_password(GOOD_PASSWORD),
                role="staff",
            )
        )
        db.session.add(
            User(
                organization_id=demo,
                username="clerk",
                email="clerk@demo.example",
                password_hash=hash_password(GOOD_PASSWORD),
                role="staff",
            )
        )
        db.session.commit()
        return org.client_id


@pytest.mark.parametrize(
    "role,client_id,username,password",
    [
        ("distributor admin", "DEMO", "admin", "demo-password-123"),
        ("distributor staff", "DEMO", "clerk", GOOD_PASSWORD),
        ("tenant admin", None, "nwadmin", GOOD_PASSWORD),
        ("tenant staff", None, "nwstaff", GOOD_PASSWORD),
    ],
)
def test_every_page_a_role_may_use_is_linked(
    app, tenant_client_id, client, role, client_id, username, password
):
    """Crawling from the home page reaches a link to every page the role may open."""
    response = Auth(client).login(
        client_id=client_id or tenant_client_id, username=username, password=password
    )
    assert response.status_code == 302
    pages = _assert_everything_linked(app, client, role)
    expected = {
        "distributor admin": {
            "/users",
            "/subscriptions",
            "/products",
            "/settings/security",
            "/account",
            "/admin/queue-health",
            "/settings/api-tokens",
        },
        "distributor staff": {"/users", "/subscriptions", "/products", "/account"},
        "tenant admin": {"/users", "/subscriptions", "/products", "/account", "/branding"},
        "tenant staff": {"/users", "/products", "/account"},
    }[role]
    assert expected <= set(pages), (role, sorted(pages))


def test_a_basic_tenants_administrator_reaches_every_page_too(app, tenant_client_id, client):
    """The Basic edition has fewer pages; every one it has is linked."""
    with app.app_context():
        db.session.execute(
            update(Organization)
            .where(Organization.client_id == tenant_client_id)
            .values(edition="Basic")
        )
        db.session.commit()
    Auth(client).login(client_id=tenant_client_id, username="nwadmin", password=GOOD_PASSWORD)
    _assert_everything_linked(app, client, "basic tenant admin")


def test_the_crawl_reports_a_page_nothing_links_to(app, demo):
    """A page that exists but that no link reaches is reported: the crawl is not blind."""
    app.add_url_rule("/orphan", "orphan", lambda: "<!doctype html><p>An orphan page</p>")
    client = app.test_client()
    Auth(client).login()
    with pytest.raises(AssertionError, match="orphan /orphan"):
        _assert_everything_linked(app, client, "distributor admin")
