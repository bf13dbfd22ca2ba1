"""Sell prices from cost: markup, rounding rules, margins; Decimal throughout."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

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
