"""Sell prices from cost: markup, rounding rules, margins, typed amounts, and the price list
writes that use them; Decimal throughout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from sqlalchemy import insert, select, update

from webapp.extensions import db
from webapp.models import PriceList, PriceListItem, Product

CENT = Decimal("0.01")

ROUNDING_RULES = {
    "cent": "To the cent (12.345 → 12.35)",
    "up_whole": "Up to a whole amount (12.01 → 13.00)",
    "ninety_nine": "Ending in .99 (12.30 → 12.99)",
    "up_five": "Up to a multiple of 0.05 (12.31 → 12.35)",
}


def apply_rounding(amount: Decimal, rule: str) -> Decimal:
    """Round a price by the tenant's chosen rule."""
    if rule == "cent":
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if rule == "up_whole":
        return amount.quantize(Decimal(1), rounding=ROUND_CEILING).quantize(CENT)
    if rule == "ninety_nine":
        whole = amount.quantize(Decimal(1), rounding=ROUND_CEILING)
        candidate = whole - Decimal("0.01")
        return candidate if candidate >= amount else (whole + 1 - Decimal("0.01"))
    if rule == "up_five":
        return (amount / Decimal("0.05")).quantize(Decimal(1), rounding=ROUND_CEILING) * Decimal(
            "0.05"
        )
    raise ValueError(f"unknown rounding rule {rule!r}")


def sell_price(
    cost: Decimal, markup_percent: Decimal, rule: str, rate: Decimal = Decimal(1)
) -> Decimal:
    """cost × rate × (1 + markup/100), rounded; `rate` converts cost currency to list currency
    and is only ever what the tenant typed in (no hidden exchange rates)."""
    raw = cost * rate * (1 + markup_percent / 100)
    return apply_rounding(raw, rule)


def margin(
    cost: Decimal, sell: Decimal, rate: Decimal = Decimal(1)
) -> tuple[Decimal, Decimal | None]:
    """(margin amount, margin % of sell price) in the list's currency."""
    amount = (sell - cost * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if sell == 0:
        return amount, None
    return amount, (amount / sell * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def plain(amount: Decimal | None) -> str:
    """An amount for an input field: 12.50, or 12.3456 when it has more places; no symbol."""
    if amount is None:
        return ""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return str(cents) if cents == amount else str(amount.normalize())


def percent_text(value: Decimal, language: str | None) -> str:
    """A percentage with one decimal in the language's number format, e.g. 53,3 % in de."""
    try:
        locale = Locale.parse(language or "en")
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    return f"{format_decimal(value, format='#,##0.0', locale=locale)}\u00a0%"


# --- Reading amounts that people typed -------------------------------------------------------

MAX_AMOUNT = Decimal("99999999999999")  # NUMERIC(18,4) holds 14 digits before the point
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class AmountError(ValueError):
    """Why a typed amount was refused, in words for the person who typed it."""


def _parse(text: str | None, what: str, example: str, max_places: int) -> Decimal:
    raw = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise AmountError(f"Enter {what}, for example {example}.")
    if "," in raw and "." not in raw and raw.count(",") == 1:
        raw = raw.replace(",", ".")  # a decimal comma, as typed in much of Europe
    negative = raw.startswith("-")
    if not _NUMBER.match(raw.removeprefix("-").removeprefix("+")):
        raise AmountError(f"Enter {what} as a number, for example {example}.")
    if negative:
        raise AmountError(f"{what[0].upper()}{what[1:]} cannot be negative.")
    value = Decimal(raw.removeprefix("+"))
    if -value.as_tuple().exponent > max_places:
        raise AmountError(f"Use at most {max_places} decimal places.")
    if value > MAX_AMOUNT:
        raise AmountError(f"{what[0].upper()}{what[1:]} is too large.")
    return value


def parse_price(text: str | None) -> Decimal:
    """A sell price: a number, zero or more, at most four decimal places."""
    return _parse(text, "a price", "12.50", 4)


def to_currency_precision(amount: Decimal, currency: str) -> Decimal:
    """An amount rounded half-up to the currency's minor unit (2 places for EUR, 0 for JPY,
    3 for KWD): a sell price of 7.499 GBP is 7.50."""
    from babel.numbers import get_currency_precision

    places = get_currency_precision(currency)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_markup(text: str | None) -> Decimal:
    """A markup in percent over cost: zero or more (a price below cost is set by hand)."""
    value = _parse(text, "a markup", "25", 4)
    if value > 10000:
        raise AmountError("A markup above 10,000 % is surely a typing mistake.")
    return value


def parse_rate(text: str | None, cost_currency: str, list_currency: str) -> Decimal:
    """An exchange rate typed by the tenant: how much list currency one unit of cost buys."""
    example = f"1 {cost_currency} = … {list_currency}, as your bank quotes it today"
    raw = (text or "").strip()
    if not raw:
        raise AmountError(
            f"Your costs are in {cost_currency} and this price list is in {list_currency}: "
            f"type the exchange rate you want to use ({example}). The BSS never guesses a rate."
        )
    value = _parse(raw, "an exchange rate", "1.08", 8)
    if value == 0:
        raise AmountError("An exchange rate must be more than zero.")
    return value


# --- Price lists in the database --------------------------------------------------------------


def cost_currencies(organization_id: int) -> set[str]:
    """The currencies the organization's products are costed in (one, for a tenant)."""
    return set(
        db.session.scalars(
            select(Product.cost_currency)
            .where(Product.organization_id == organization_id, Product.cost_currency.is_not(None))
            .distinct()
        )
    )


def foreign_cost_currency(organization_id: int, list_currency: str) -> str | None:
    """The cost currency when it differs from the list's (an exchange rate is needed), or None.
    Raises AmountError when costs come in several other currencies (one rate cannot do)."""
    others = sorted(cost_currencies(organization_id) - {list_currency})
    if len(others) > 1:
        raise AmountError(
            f"Your cost prices are in {', '.join(others)}; one exchange rate cannot convert "
            "them all. Set these prices one by one."
        )
    return others[0] if others else None


@dataclass
class MarkupBatch:
    last_id: int | None  # the cursor to resume after; None when no product follows
    found: int = 0
    updated: int = 0
    created: int = 0
    skipped: int = 0


def markup_batch(
    organization_id: int,
    price_list: PriceList,
    markup_percent: Decimal,
    rule: str,
    rate: Decimal | None,
    after_id: int,
    batch_size: int,
) -> MarkupBatch:
    """One batch of a markup: the next `batch_size` products after `after_id` get
    cost × rate × (1 + markup), rounded; the caller commits.

    A batch of (id, cost) rows is read, prices are computed in Decimal (the rounding rules are
    the tenant's, the same as one product's) and written with one executemany UPDATE and one
    INSERT for the missing items; no ORM object per row. Doing a batch twice gives the same
    prices, so a batch that a crash interrupted is simply done again."""
    if rule not in ROUNDING_RULES:
        raise ValueError(f"unknown rounding rule {rule!r}")
    rows = db.session.execute(
        select(Product.id, Product.cost_price, Product.cost_currency)
        .where(Product.organization_id == organization_id, Product.id > after_id)
        .order_by(Product.id)
        .limit(batch_size)
    ).all()
    if not rows:
        return MarkupBatch(last_id=None)
    batch = MarkupBatch(last_id=rows[-1].id, found=len(rows))
    existing = dict(
        db.session.execute(
            select(PriceListItem.product_id, PriceListItem.id).where(
                PriceListItem.price_list_id == price_list.id,
                PriceListItem.organization_id == organization_id,
                PriceListItem.product_id.in_([r.id for r in rows]),
            )
        ).all()
    )
    updates, inserts = [], []
    for product_id, cost, currency in rows:
        if cost is None:
            batch.skipped += 1
            continue
        if currency and currency != price_list.currency:
            if rate is None:
                raise AmountError("An exchange rate is needed for this price list.")
            product_rate = rate
        else:
            product_rate = Decimal(1)
        price = sell_price(cost, markup_percent, rule, product_rate)
        if product_id in existing:
            updates.append({"id": existing[product_id], "retail_price": price})
        else:
            inserts.append(
                {
                    "organization_id": organization_id,
                    "price_list_id": price_list.id,
                    "product_id": product_id,
                    "retail_price": price,
                }
            )
    if updates:
        db.session.execute(update(PriceListItem), updates)
    if inserts:
        db.session.execute(insert(PriceListItem), inserts)
    batch.updated, batch.created = len(updates), len(inserts)
    return batch


def set_price(
    organization_id: int, price_list: PriceList, product: Product, amount: Decimal
) -> tuple[Decimal | None, PriceListItem]:
    """One product's sell price in one list, creating the item if needed; returns the old
    price (None when it had none) and the item. The caller commits."""
    item = db.session.scalar(
        select(PriceListItem).where(
            PriceListItem.price_list_id == price_list.id,
            PriceListItem.product_id == product.id,
            PriceListItem.organization_id == organization_id,
        )
    )
    old = item.retail_price if item is not None else None
    if item is None:
        item = PriceListItem(
            organization_id=organization_id,
            price_list_id=price_list.id,
            product_id=product.id,
            retail_price=amount,
        )
        db.session.add(item)
    else:
        item.retail_price = amount
    db.session.flush()
    return old, item


def prices_are_set(organization_id: int) -> bool:
    """The tenant has made prices its own: a price list in a currency other than its cost
    currency, or one price that is not the cost price."""
    costed_in = select(Product.cost_currency).where(
        Product.organization_id == organization_id, Product.cost_currency.is_not(None)
    )
    other_currency = db.session.scalar(
        select(PriceList.id)
        .where(PriceList.organization_id == organization_id, PriceList.currency.not_in(costed_in))
        .limit(1)
    )
    if other_currency is not None:
        return True
    changed = db.session.scalar(
        select(PriceListItem.id)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(
            PriceListItem.organization_id == organization_id,
            Product.organization_id == organization_id,
            (Product.cost_price.is_(None)) | (PriceListItem.retail_price != Product.cost_price),
        )
        .limit(1)
    )
    return changed is not None
