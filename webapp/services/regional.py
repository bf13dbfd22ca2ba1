"""Languages, time zones and date formats offered to tenants, and how dates are shown."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from functools import cache

from babel import Locale
from babel.dates import format_date, format_datetime

# A curated list: languages a European cloud distributor's resellers actually ask for.
LANGUAGE_CODES = [
    "en",
    "en_GB",
    "de",
    "fr",
    "es",
    "it",
    "nl",
    "pt",
    "el",
    "pl",
    "sv",
    "da",
    "fi",
    "nb",
    "cs",
    "ro",
    "hu",
    "bg",
    "hr",
    "sk",
    "sl",
    "tr",
    "ar",
    "he",
    "ja",
    "zh",
]

# Babel (CLDR) patterns; the form shows each with today's date.
DATE_FORMATS = ["dd/MM/yyyy", "MM/dd/yyyy", "yyyy-MM-dd", "dd.MM.yyyy", "d MMM yyyy", "MMM d, yyyy"]


@cache
def languages() -> list[tuple[str, str]]:
    """(code, native name) for each offered language, e.g. ("de", "Deutsch")."""
    result = []
    for code in LANGUAGE_CODES:
        locale = Locale.parse(code)
        native = locale.get_display_name(locale) or code
        result.append((code, native[:1].upper() + native[1:]))
    return result


@cache
def timezones() -> list[str]:
    """Every IANA time zone known to this Python, sorted."""
    return sorted(tz for tz in zoneinfo.available_timezones() if "/" in tz or tz == "UTC")


def date_format_choices(today: date | None = None) -> list[tuple[str, str]]:
    """(pattern, label) pairs where the label shows today's date in that pattern."""
    today = today or date.today()
    return [(p, f"{p} — {format_date(today, p, locale='en')}") for p in DATE_FORMATS]


def is_language(code: str) -> bool:
    return code in LANGUAGE_CODES


def is_timezone(name: str) -> bool:
    return name in set(timezones())


def is_date_format(pattern: str) -> bool:
    return pattern in DATE_FORMATS


def format_in_org(moment: datetime | None, org, with_time: bool = True) -> str:
    """A UTC moment shown in the organization's time zone, date format and language."""
    if moment is None:
        return ""
    tz = zoneinfo.ZoneInfo(org.timezone if org else "UTC")
    pattern = (org.date_format if org else "yyyy-MM-dd") + (" HH:mm" if with_time else "")
    locale = (org.language if org else "en") or "en"
    return format_datetime(moment, pattern, tzinfo=tz, locale=locale)
