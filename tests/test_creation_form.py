"""The Create a Tenant Reseller form: labels, defaults, and each bad field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from tests.helpers import account_id, open_creation_form, post_creation
from webapp.extensions import db
from webapp.models import Account, AuditLog, Process, TenantReseller


def test_form_has_the_seed_fields_and_only_eligible_price_lists(app, demo, auth, client):
    """The seed's labels, the distributor's defaults, and only ready price lists offered."""
    auth.login()
    page = client.get(f"/accounts/{account_id(app, 'Tailspin IT')}/tenant-reseller/new")
    html = page.get_data(as_text=True)
    for label in (
        "Price List",
        "Language",
        "Time Zone",
        "Date Format",
        "Edition",
        "Separate Invoices",
        "Administrator Account",
        "Password again",
    ):
        assert label in html
    assert "Microsoft only EUR" in html
    assert "Partner EUR" not in html  # Tailspin is not synced with Acronis
    assert "Deutsch" in html and "Ελληνικά" in html  # native language names
    assert 'value="Europe/Athens"' in html  # the distributor's time zone is the default
    assert "back-ordering process will copy" in html  # the seed's explanation as help text


BAD_FIELDS = [
    ("language", "xx", "Choose a language from the list."),
    ("timezone", "Mars/Olympus", "Choose a time zone from the list"),
    ("date_format", "yy", "Choose a date format from the list."),
    ("edition", "Gold", "Choose Basic or Premium."),
    ("admin_username", "a", "3 to 80 characters"),
    ("admin_username", "bad name!", "Use only letters, digits"),
    ("admin_email", "not-an-email", "Enter a valid email address"),
    ("admin_password", "short", "at least 12 characters"),
    ("admin_password_again", "something-else-entirely", "The two passwords are not the same."),
    ("price_list", "999999", "Choose one of the eligible price lists."),
]


@pytest.mark.parametrize(
    "field,value,message", BAD_FIELDS, ids=[f"{f}={v}" for f, v, _ in BAD_FIELDS]
)
def test_each_bad_field_gets_its_message_and_nothing_is_saved(
    app, demo, auth, client, field, value, message
):
    """A wrong field is a 400 with the message next to it; no row is written."""
    auth.login()
    token = open_creation_form(client, app)
    overrides = {field: value}
    if field == "admin_password":
        overrides["admin_password_again"] = value
    response = post_creation(client, app, token, **overrides)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TenantReseller)) == 0
        assert db.session.scalar(select(func.count()).select_from(Process)) == 0


def test_readiness_is_rechecked_at_submit(app, demo, auth, client):
    """If the account stopped being ready after the form was opened, Save says what changed."""
    auth.login()
    token = open_creation_form(client, app)
    with app.app_context():
        db.session.execute(
            update(Account)
            .where(Account.name == "Northwind Cloud")
            .values(enabled_for_ordering=False)
        )
        db.session.commit()
    response = post_creation(client, app, token)
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 409)
    assert "not enabled for ordering" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TenantReseller)) == 0


def test_save_is_audit_logged(app, demo, auth, client):
    """The creation request itself is an audit record with who asked for what."""
    auth.login()
    post_creation(client, app, open_creation_form(client, app))
    with app.app_context():
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "tenant_reseller.create"))
        assert row.actor_label == "admin"
        assert row.after["edition"] == "Premium"
        assert "password" not in str(row.after).replace("admin_username", "")
