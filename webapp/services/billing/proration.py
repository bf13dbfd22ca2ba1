"""Proration by day, the rule printed on every invoice.

A subscription is billed for a month at its monthly unit price times the quantity of each day,
divided by the days of the month. A day is billed at the quantity in effect at the end of
that day (midnight in the distributor's time zone): a subscription started on the 15th is
billed from the 15th, one cancelled on the 15th up to the 14th, one ordered and cancelled on
the same day not at all; a change on the 15th applies from the 15th.

Pure functions of a timeline of changes: no database here, so the rule is tested on its own
for every kind of month."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision

RULE = (
    "Prorated by day: each day of the month is billed at the quantity in effect at the end "
    "of that day, as monthly price × quantity × days ÷ days in the month."
)


@dataclass(frozen=True)
class Change:
    """From `at` on, the subscription has `quantity` at `unit_price` (0 once cancelled)."""

    at: datetime
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Charge:
    """What one unit price costs over the month: Σ quantity × days, and the amount."""

    unit_price: Decimal
    quantity_days: int
    days_in_month: int
    last_quantity: int  # on the last billed day
    amount: Decimal


def precision(currency: str) -> Decimal:
    """The smallest amount of the currency: 1 for JPY, 0.01 for EUR, 0.001 for KWD."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(precision(currency), rounding=ROUND_HALF_UP)


def month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return [first + timedelta(days=n) for n in range((following - first).days)]


def day_quantities(
    changes: list[Change], year: int, month: int, zone: ZoneInfo
) -> list[tuple[int, Decimal]]:
    """(quantity, unit price) in effect at the end of each day of the month."""
    ordered = sorted(changes, key=lambda c: c.at)
    moments = [c.at for c in ordered]
    result = []
    for day in month_days(year, month):
        end = datetime.combine(day + timedelta(days=1), time.min, zone)
        index = bisect_left(moments, end) - 1  # the last change before the day ended
        if index < 0:
            result.append((0, Decimal(0)))
        else:
            change = ordered[index]
            result.append((change.quantity, change.unit_price))
    return result


def charges(changes: list[Change], year: int, month: int, zone: ZoneInfo, currency: str):
    """The month's charges of one subscription, one per unit price it had (usually one)."""
    days = day_quantities(changes, year, month, zone)
    by_price: dict[Decimal, int] = defaultdict(int)
    last: dict[Decimal, int] = {}
    for quantity, unit_price in days:
        if quantity > 0:
            by_price[unit_price] += quantity
            last[unit_price] = quantity
    count = len(days)
    return [
        Charge(
            unit_price=unit_price,
            quantity_days=quantity_days,
            days_in_month=count,
            last_quantity=last[unit_price],
            amount=round_money(unit_price * quantity_days / count, currency),
        )
        for unit_price, quantity_days in by_price.items()
    ]


def tax(net: Decimal, rate_percent: Decimal, currency: str) -> Decimal:
    """Tax on an invoice's net total, in the currency's precision."""
    return round_money(net * rate_percent / 100, currency)
