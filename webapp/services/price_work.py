"""Launching the price work that touches a whole list (a markup, a currency change with its
price list) as queued processes: the web request only checks the terms and queues."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Organization, PriceList, Product, User
from webapp.services import audit, pricing
from webapp.services.processes import lifecycle
from webapp.services.processes.kinds import ProcessKind
from webapp.services.processes.pricing_steps import CURRENCY_STEPS, MARKUP_STEPS


def _lock_key(organization_id: int) -> str:
    # One price job per organization at a time: two markups racing over the same products
    # would leave whichever batch ran last.
    return f"prices:{organization_id}"


def _product_count(organization_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Product).where(Product.organization_id == organization_id)
    )


def _terms(markup: Decimal, rule: str, rate: Decimal | None, cost_currency: str | None) -> dict:
    return {
        "markup_percent": str(markup),
        "rounding": rule,
        "exchange_rate": str(rate) if rate is not None else None,
        "cost_currency": cost_currency,
    }


def start_markup(
    organization_id: int,
    price_list: PriceList,
    actor: User | None,
    markup: Decimal,
    rule: str,
    rate: Decimal | None,
    cost_currency: str | None,
) -> lifecycle.Launched:
    """Queue a markup over cost on every product of the list. ProcessRefused when price work
    of the organization is still running."""
    process = lifecycle.prepare(
        ProcessKind.PRICE_MARKUP,
        organization_id=organization_id,
        name=f"Markup {markup.normalize():f} % — {price_list.name}",
        steps=MARKUP_STEPS,
        actor=actor,
        lock_key=_lock_key(organization_id),
        params={
            "price_list_id": price_list.id,
            "expected_items": _product_count(organization_id),
            **_terms(markup, rule, rate, cost_currency),
        },
    )
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="price_list.markup_requested",
        entity_type="price_list",
        entity_id=price_list.id,
        summary=f"Markup {markup} % over cost requested ({pricing.ROUNDING_RULES[rule]})",
        process_id=process.id,
    )
    return lifecycle.start(process)


def start_currency_change(
    org: Organization,
    actor: User | None,
    currency: str,
    price_list_name: str,
    markup: Decimal,
    rule: str,
    rate: Decimal | None,
    cost_currency: str | None,
) -> lifecycle.Launched:
    """Queue a currency change that first creates and prices a list in the new currency, so
    the storefront never shows an empty shop in between."""
    process = lifecycle.prepare(
        ProcessKind.CURRENCY_CHANGE,
        organization_id=org.id,
        name=f"Currency change {org.currency} → {currency}",
        steps=CURRENCY_STEPS,
        actor=actor,
        lock_key=_lock_key(org.id),
        params={
            "currency": currency,
            "price_list_name": price_list_name,
            "expected_items": _product_count(org.id),
            **_terms(markup, rule, rate, cost_currency),
        },
    )
    audit.record(
        organization_id=org.id,
        actor=actor,
        action="organization.currency_requested",
        entity_type="organization",
        entity_id=org.id,
        summary=f"Currency change {org.currency} → {currency} requested, with price list "
        f"{price_list_name} at cost plus {markup} %",
        process_id=process.id,
    )
    return lifecycle.start(process)
