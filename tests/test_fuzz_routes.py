"""Every GET route (from app.url_map) with hostile values in its path parameters and query
string, as an anonymous visitor and as the distributor's signed-in admin: never a 500.
Out-of-range and non-ASCII numbers in paths are 404s, in ?page= the first page."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Auth

HOSTILE = [
    "0",
    "-1",
    "1",
    "2147483647",
    "2147483648",
    "9" * 30,
    "9" * 5000,
    "²",
    "٣",
    "1e3",
    "0x10",
    " 1",
    "%00",
    "\u202e",
    "\x1b[31m",
    "..%2f..%2fetc%2fpasswd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "ü" * 300,
    "a" * 3000,
    "%",
    "%%",
    "\ud7ff",
    "northwind-cloud",
]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
QUERY_NAMES = st.sampled_from(
    ["page", "q", "status", "category", "price_list_id", "next", "sort", "domain", "kind", "x"]
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PLACEHOLDER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def _get_rules(app) -> list[str]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        rules.append(rule.rule)
    return sorted(rules)


def _fill(rule: str, values: list[str]) -> str:
    parts = iter(values)

    def replace(match):
        return quote(next(parts, "1").replace("\x00", ""), safe="")

    return PLACEHOLDER.sub(replace, rule)


def _fuzz(app, client):
    rules = _get_rules(app)

    @FUZZ
    @given(
        rule=st.sampled_from(rules),
        path_values=st.lists(VALUES, min_size=3, max_size=3),
        query=st.lists(st.tuples(QUERY_NAMES, VALUES), max_size=3),
    )
    def run(rule, path_values, query):
        path = _fill(rule, path_values)
        url = path + ("?" + urlencode(query) if query else "")
        response = client.get(url)
        assert response.status_code < 500, url

    run()


@pytest.fixture
def signed_in(app, demo, client):
    Auth(client).login()
    return client


def test_every_get_route_anonymous(app, demo, client):
    _fuzz(app, client)


def test_every_get_route_as_the_distributors_admin(app, signed_in):
    _fuzz(app, signed_in)


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/99999999999999999999",
        "/accounts/2147483648",
        "/processes/" + "9" * 5000,
        "/invoices/%C2%B2",
        "/api/v1/accounts/99999999999999999999",
        "/orders/99999999999999999999",
        "/api/v1/orders/99999999999999999999",
        "/api/v1/invoices/2147483648",
    ],
)
def test_out_of_range_ids_are_not_found(app, signed_in, path):
    assert signed_in.get(path).status_code == 404


def test_a_huge_page_number_is_the_first_page(app, signed_in):
    response = signed_in.get("/price-lists/1?page=99999999999999999999")
    assert response.status_code in (200, 404)
