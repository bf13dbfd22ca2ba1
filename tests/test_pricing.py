"""Markup, rounding, margin and typed-amount arithmetic: Decimal in, Decimal out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from webapp.services import pricing
from webapp.services.pricing import AmountError

D = Decimal


@pytest.mark.parametrize(
    ("rule", "amount", "expected"),
    [
        ("cent", "12.345", "12.35"),
        ("cent", "12.344", "12.34"),
        ("cent", "12", "12.00"),
        ("up_whole", "12.01", "13.00"),
        ("up_whole", "12.00", "12.00"),
        ("ninety_nine", "12.30", "12.99"),
        ("ninety_nine", "12.99", "12.99"),
        ("ninety_nine", "12.995", "13.99"),
        ("ninety_nine", "13.00", "13.99"),
        ("up_five", "12.31", "12.35"),
        ("up_five", "12.35", "12.35"),
        ("up_five", "12.36", "12.40"),
    ],
)
def test_each_rounding_rule(rule, amount, expected):
    """Every rounding rule offered to tenants gives the documented Decimal result."""
    result = pricing.apply_rounding(D(amount), rule)
    assert isinstance(result, Decimal)
    assert result == D(expected)


def test_every_offered_rule_is_implemented():
    """No rule in ROUNDING_RULES falls through to the unknown-rule error."""
    for rule in pricing.ROUNDING_RULES:
        pricing.apply_rounding(D("1.234"), rule)
    with pytest.raises(ValueError):
        pricing.apply_rounding(D("1"), "banker")


@pytest.mark.parametrize(
    ("cost", "markup", "rule", "rate", "expected"),
    [
        ("10.00", "25", "cent", "1", "12.50"),
        ("10.00", "0", "cent", "1", "10.00"),
        ("9.99", "33.3", "cent", "1", "13.32"),  # 13.31667 → 13.32
        ("10.00", "25", "ninety_nine", "1", "12.99"),
        ("10.00", "25", "up_whole", "1.08", "14.00"),  # 13.50 → 14
        ("10.00", "25", "cent", "1.08", "13.50"),
        ("7.10", "10", "up_five", "1", "7.85"),  # 7.81 → 7.85
    ],
)
def test_sell_price_is_cost_times_rate_times_markup_rounded(cost, markup, rule, rate, expected):
    """sell = cost × typed rate × (1 + markup/100), then rounded, exactly in Decimal."""
    assert pricing.sell_price(D(cost), D(markup), rule, D(rate)) == D(expected)


def test_margin_amount_and_percent_in_the_list_currency():
    """Margin = sell − cost × rate; % of the sell price; no % for a zero sell price."""
    assert pricing.margin(D("10.00"), D("12.50")) == (D("2.50"), D("20.0"))
    assert pricing.margin(D("10.00"), D("13.50"), D("1.08")) == (D("2.70"), D("20.0"))
    assert pricing.margin(D("10.00"), D("10.00")) == (D("0.00"), D("0.0"))
    assert pricing.margin(D("10.00"), D("8.00")) == (D("-2.00"), D("-25.0"))
    assert pricing.margin(D("10.00"), D("0")) == (D("-10.00"), None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("12.50", "12.50"), (" 12,5 ", "12.5"), ("0", "0"), ("+3", "3"), ("1234.5678", "1234.5678")],
)
def test_prices_people_type_are_read_as_decimal(typed, expected):
    """A price may use a decimal point or a decimal comma and is kept exactly."""
    value = pricing.parse_price(typed)
    assert isinstance(value, Decimal) and value == D(expected)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "cannot be negative"),
        ("-0.01", "cannot be negative"),
        ("abc", "as a number"),
        ("12.5.1", "as a number"),
        ("1e3", "as a number"),
        ("NaN", "as a number"),
        ("", "Enter a price"),
        ("1.23456", "at most 4 decimal places"),
        ("1,234.50", "as a number"),
        ("999999999999999", "too large"),
    ],
)
def test_negative_or_non_numeric_prices_are_refused_with_a_message(typed, message):
    """Negative, non-numeric, empty, over-precise or huge prices are refused, saying why."""
    with pytest.raises(AmountError, match=message):
        pricing.parse_price(typed)


def test_exchange_rate_is_required_and_positive():
    """Without a typed rate the message names both currencies; zero or negative is refused."""
    with pytest.raises(AmountError, match="costs are in EUR and this price list is in USD"):
        pricing.parse_rate("", "EUR", "USD")
    with pytest.raises(AmountError, match="more than zero"):
        pricing.parse_rate("0", "EUR", "USD")
    with pytest.raises(AmountError, match="cannot be negative"):
        pricing.parse_rate("-1.1", "EUR", "USD")
    assert pricing.parse_rate("1.0845", "EUR", "USD") == D("1.0845")


def test_markup_must_be_a_number_of_zero_or_more():
    """A markup is a non-negative percentage; nonsense and negatives are refused."""
    assert pricing.parse_markup("12.5") == D("12.5")
    with pytest.raises(AmountError, match="cannot be negative"):
        pricing.parse_markup("-5")
    with pytest.raises(AmountError, match="as a number"):
        pricing.parse_markup("ten")


def test_plain_shows_amounts_for_inputs():
    """Amounts in input fields drop the storage's trailing zeros beyond the cents."""
    assert pricing.plain(D("12.5000")) == "12.50"
    assert pricing.plain(D("12.3456")) == "12.3456"
    assert pricing.plain(None) == ""


def test_margin_percent_is_shown_in_the_organization_language():
    """Percentages follow the tenant's language; an unknown language falls back to English."""
    assert pricing.percent_text(Decimal("53.3"), "de") == "53,3\u00a0%"
    assert pricing.percent_text(Decimal("-1234.5"), "en") == "-1,234.5\u00a0%"
    assert pricing.percent_text(Decimal("7"), "xx-nonsense") == "7.0\u00a0%"
