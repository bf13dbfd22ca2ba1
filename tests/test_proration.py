"""The proration rule printed on invoices, day by day, for months of 28, 30 and 31 days, and
amounts and tax in each currency's own precision."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from webapp.services.billing.proration import Change, charges, precision, round_money, tax

ATHENS = ZoneInfo("Europe/Athens")
PRICE = Decimal("31.0000")


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    """Noon on that day in Athens (the demo distributor's zone)."""
    return datetime.combine(datetime(year, month, day).date(), time(hour), ATHENS)


def quantity_days(changes, year, month, currency="EUR") -> int:
    return sum(c.quantity_days for c in charges(changes, year, month, ATHENS, currency))


MONTHS = [(2026, 2, 28), (2026, 4, 30), (2026, 10, 31)]


@pytest.mark.parametrize(("year", "month", "days"), MONTHS)
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("started before the month", lambda d: 2 * d),
        ("started on the 1st", lambda d: 2 * d),
        ("started on the 15th", lambda d: 2 * (d - 14)),
        ("started on the last day", lambda d: 2),
        ("cancelled on the 1st", lambda d: 0),
        ("cancelled on the 15th", lambda d: 2 * 14),
        ("cancelled on the last day", lambda d: 2 * (d - 1)),
        ("changed from 2 to 5 on the 15th", lambda d: 2 * 14 + 5 * (d - 14)),
        ("changed on the 1st", lambda d: 5 * d),
        ("changed on the last day", lambda d: 2 * (d - 1) + 5),
        ("ordered and cancelled the same day", lambda d: 0),
        ("started after the month", lambda d: 0),
    ],
)
def test_each_day_is_billed_at_the_quantity_at_its_end(case, expected, year, month, days):
    """Start, change and cancel on the 1st, the 15th and the last day, in every kind of month."""
    before = Change(at(year, month, 1) - (at(2026, 3, 1) - at(2026, 1, 1)), 2, PRICE)
    last = days
    timeline = {
        "started before the month": [before],
        "started on the 1st": [Change(at(year, month, 1), 2, PRICE)],
        "started on the 15th": [Change(at(year, month, 15), 2, PRICE)],
        "started on the last day": [Change(at(year, month, last), 2, PRICE)],
        "cancelled on the 1st": [before, Change(at(year, month, 1), 0, PRICE)],
        "cancelled on the 15th": [before, Change(at(year, month, 15), 0, PRICE)],
        "cancelled on the last day": [before, Change(at(year, month, last), 0, PRICE)],
        "changed from 2 to 5 on the 15th": [before, Change(at(year, month, 15), 5, PRICE)],
        "changed on the 1st": [before, Change(at(year, month, 1), 5, PRICE)],
        "changed on the last day": [before, Change(at(year, month, last), 5, PRICE)],
        "ordered and cancelled the same day": [
            Change(at(year, month, 10, 9), 2, PRICE),
            Change(at(year, month, 10, 17), 0, PRICE),
        ],
        "started after the month": [Change(at(year + 1, 1, 1), 2, PRICE)],
    }[case]
    assert quantity_days(timeline, year, month) == expected(days)


def test_a_day_ends_at_midnight_in_the_distributors_zone():
    """Started at 23:30 on the 31st in Athens (21:30 UTC): billed one day of October; started
    at 00:30 on 1 November in Athens (still 31 October in UTC): nothing in October."""
    late = datetime(2026, 10, 31, 23, 30, tzinfo=ATHENS)
    next_day = datetime(2026, 11, 1, 0, 30, tzinfo=ATHENS)
    assert quantity_days([Change(late, 1, PRICE)], 2026, 10) == 1
    assert quantity_days([Change(next_day, 1, PRICE)], 2026, 10) == 0


def test_the_amount_is_price_times_quantity_days_over_the_month():
    """3 × 14 days of 28 at 10.00 a month is 15.00; a price change splits the charge."""
    feb = [Change(at(2026, 2, 15), 3, Decimal("10"))]
    [charge] = charges(feb, 2026, 2, ATHENS, "EUR")
    assert (charge.quantity_days, charge.days_in_month, charge.amount) == (42, 28, Decimal("15.00"))
    split = charges(
        [Change(at(2026, 1, 1), 1, Decimal("10")), Change(at(2026, 2, 15), 1, Decimal("20"))],
        2026,
        2,
        ATHENS,
        "EUR",
    )
    assert sorted((c.unit_price, c.amount) for c in split) == [
        (Decimal("10"), Decimal("5.00")),
        (Decimal("20"), Decimal("10.00")),
    ]


@pytest.mark.parametrize(
    ("currency", "raw", "rounded", "smallest"),
    [
        ("EUR", "10.005", "10.01", "0.01"),
        ("JPY", "1234.5", "1235", "1"),
        ("KWD", "1.2345", "1.235", "0.001"),
        ("USD", "0.004", "0.00", "0.01"),
    ],
)
def test_money_has_its_currencys_own_precision(currency, raw, rounded, smallest):
    """Amounts are rounded half up to the currency's smallest unit (JPY 0, KWD 3 decimals)."""
    assert precision(currency) == Decimal(smallest)
    assert round_money(Decimal(raw), currency) == Decimal(rounded)


@pytest.mark.parametrize(
    ("currency", "net", "rate", "expected"),
    [
        ("EUR", "49.15", "24", "11.80"),  # 11.796
        ("JPY", "1001", "10", "100"),  # 100.1
        ("KWD", "10.005", "5", "0.500"),  # 0.50025
        ("EUR", "10.00", "0", "0.00"),
    ],
)
def test_tax_is_rounded_in_the_currency(currency, net, rate, expected):
    """Tax on the net total at the distributor's rate, in the currency's precision."""
    assert tax(Decimal(net), Decimal(rate), currency) == Decimal(expected)
