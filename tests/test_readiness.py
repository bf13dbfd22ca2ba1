"""The seed's preparation checklist: each rule alone makes the checklist fail with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    PriceList,
    PriceListItem,
    ProvisioningPlatform,
)
from webapp.services import readiness


def _account(name: str) -> Account:
    return db.session.scalar(select(Account).where(Account.name == name))


def _price_list(name: str) -> PriceList:
    return db.session.scalar(select(PriceList).where(PriceList.name == name))


def _not_enabled():
    db.session.execute(
        update(Account).where(Account.name == "Northwind Cloud").values(enabled_for_ordering=False)
    )


def _customer_only():
    db.session.execute(
        update(Account).where(Account.name == "Northwind Cloud").values(is_reseller=False)
    )


def _every_eur_list_inactive():
    db.session.execute(update(PriceList).where(PriceList.currency == "EUR").values(active=False))


def _every_eur_list_empty():
    ids = select(PriceList.id).where(PriceList.currency == "EUR")
    db.session.execute(delete(PriceListItem).where(PriceListItem.price_list_id.in_(ids)))


def _billed_in_gbp():
    db.session.execute(
        update(Account).where(Account.name == "Northwind Cloud").values(billing_currency="GBP")
    )


def _acronis_not_synced():
    account = _account("Northwind Cloud")
    acronis = db.session.scalar(
        select(ProvisioningPlatform.id).where(ProvisioningPlatform.code == "acronis")
    )
    db.session.execute(
        delete(AccountPlatformSync).where(
            AccountPlatformSync.account_id == account.id,
            AccountPlatformSync.platform_id == acronis,
        )
    )
    # Without Partner EUR's platforms ready, only Microsoft only EUR would be; hide it so the
    # sync rule is the one that fails.
    db.session.execute(
        update(PriceList).where(PriceList.name == "Microsoft only EUR").values(active=False)
    )


RULES = [
    # (what is broken, failing item key, words in its reason)
    (_customer_only, "reseller", "only reseller accounts can become tenant resellers"),
    (_not_enabled, "ordering", "The account is not enabled for ordering."),
    (_every_eur_list_inactive, "price_list", "No active price list with products is in EUR"),
    (_every_eur_list_empty, "price_list", "No active price list with products is in EUR"),
    (_billed_in_gbp, "price_list", "No active price list with products is in GBP"),
    (_acronis_not_synced, "sync", "must be synced as reseller in: Acronis Cloud Backup"),
]


def test_northwind_is_ready_with_partner_eur(app, demo):
    """The demo's ready account passes every item, with Partner EUR as the chosen list."""
    with app.app_context():
        check = readiness.evaluate(_account("Northwind Cloud"))
        assert check.ready
        assert check.chosen.price_list.name in ("Microsoft only EUR", "Partner EUR")
        partner = check.check_for(_price_list("Partner EUR").id)
        assert partner.ready
        assert {p.platform.name for p in partner.platforms} == {
            "interworks.cloud OSS",
            "Acronis Cloud Backup",
            "Microsoft 365 & Azure",
            "Panda",
        }


@pytest.mark.parametrize("breaker,key,reason", RULES, ids=[r[0].__name__ for r in RULES])
def test_each_rule_alone_fails_with_its_reason(app, demo, breaker, key, reason):
    """Breaking one precondition fails exactly that item, and says why."""
    with app.app_context():
        breaker()
        db.session.commit()
        check = readiness.evaluate(_account("Northwind Cloud"))
        assert not check.ready
        failing = [item for item in check.failures if item.key == key]
        assert failing, [i.key for i in check.failures]
        assert reason in failing[0].reason


def test_excluded_price_lists_say_why(app, demo):
    """Price lists in another currency are listed as excluded with the currency reason."""
    with app.app_context():
        check = readiness.evaluate(_account("Northwind Cloud"))
        usd = check.check_for(_price_list("Partner USD").id)
        assert not usd.eligible
        assert usd.exclusions == ["it is in USD, the account is billed in EUR"]


def test_tailspin_is_not_ready_with_partner_eur_but_ready_with_microsoft_only(app, demo):
    """Acronis needs a reseller sync; Microsoft 365 & Azure needs none (and says so)."""
    with app.app_context():
        tailspin = _account("Tailspin IT")
        with_partner = readiness.evaluate(tailspin, _price_list("Partner EUR").id)
        assert not with_partner.chosen.ready
        assert [p.platform.name for p in with_partner.chosen.missing_syncs] == [
            "Acronis Cloud Backup"
        ]
        with_microsoft = readiness.evaluate(tailspin, _price_list("Microsoft only EUR").id)
        assert with_microsoft.ready
        (platform,) = with_microsoft.chosen.platforms
        assert platform.reason == "Microsoft 365 & Azure: no synchronization is necessary."
        assert readiness.evaluate(tailspin).ready  # ready overall, with the Microsoft list


def test_demo_accounts_readiness(app, demo):
    """The README's promise about the five demo accounts holds."""
    with app.app_context():
        top_level = select(Account).where(Account.parent_account_id.is_(None))
        ready = {a.name: readiness.evaluate(a).ready for a in db.session.scalars(top_level)}
        assert ready == {
            "Northwind Cloud": True,
            "Fabrikam Ltd": False,
            "Tailspin IT": True,
            "Contoso Lite": True,
            "Litware Inc": False,
        }
        contoso = readiness.evaluate(_account("Contoso Lite"))
        assert contoso.chosen.price_list.name == "Partner USD"


def test_panel_toggles_ordering_in_place_and_logs_it(app, demo, auth, client):
    """Enabling ordering through htmx returns the updated panel and writes an audit row."""
    auth.login()
    with app.app_context():
        fabrikam = _account("Fabrikam Ltd").id
    page = client.get(f"/accounts/{fabrikam}").get_data(as_text=True)
    assert "The account is not enabled for ordering." in page
    token = auth.token(f"/accounts/{fabrikam}")
    response = client.post(
        f"/accounts/{fabrikam}/ordering",
        data={"enabled": "1"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="account-live"')
    assert "The account is enabled for ordering." in fragment
    assert "Enabled for ordering: yes" in fragment  # the Logs section
    with app.app_context():
        assert _account("Fabrikam Ltd").enabled_for_ordering


def test_htmx_post_without_csrf_header_changes_nothing(app, demo, auth, client):
    """An htmx request without the token header is refused and nothing is written."""
    auth.login()
    with app.app_context():
        fabrikam = _account("Fabrikam Ltd").id
    response = client.post(
        f"/accounts/{fabrikam}/ordering", data={"enabled": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert not _account("Fabrikam Ltd").enabled_for_ordering


def test_recording_a_sync_makes_tailspin_ready_with_partner_eur(app, demo, auth, client):
    """Recording the Acronis sync updates the panel for Partner EUR."""
    auth.login()
    with app.app_context():
        tailspin = _account("Tailspin IT").id
        acronis = db.session.scalar(
            select(ProvisioningPlatform.id).where(ProvisioningPlatform.code == "acronis")
        )
        partner = _price_list("Partner EUR").id
    token = auth.token(f"/accounts/{tailspin}")
    client.post(
        f"/accounts/{tailspin}/sync",
        data={
            "csrf_token": token,
            "platform_id": acronis,
            "status": "synced",
            "external_reference": "ACR-1",
        },
    )
    panel = client.get(f"/accounts/{tailspin}/readiness?price_list_id={partner}")
    assert "Acronis Cloud Backup: the account is synced as reseller." in panel.get_data(
        as_text=True
    )


def test_accounts_filter_ready(app, demo, auth, client):
    """The "ready" filter lists only the accounts that pass the checklist."""
    auth.login()
    page = client.get("/accounts/?filter=ready").get_data(as_text=True)
    for name in ("Northwind Cloud", "Tailspin IT", "Contoso Lite"):
        assert name in page
    for name in ("Fabrikam Ltd", "Litware Inc"):
        assert name not in page
    searched = client.get("/accounts/?q=north").get_data(as_text=True)
    assert "Northwind Cloud" in searched and "Tailspin IT" not in searched
