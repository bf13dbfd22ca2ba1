"""Template filters and globals: money, dates in the organization's regional settings."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from flask import Flask, g
from flask_login import current_user

from webapp.services.regional import format_in_org


def _current_org():
    return current_user.organization if current_user.is_authenticated else None


def money(amount: Decimal | None, currency: str) -> str:
    """An amount in its currency, formatted for the signed-in organization's language."""
    if amount is None:
        return "—"
    org = _current_org()
    locale = (org.language if org else "en") or "en"
    return format_currency(amount, currency, locale=locale)


def when(moment, with_time: bool = True) -> str:
    """A stored UTC moment in the signed-in organization's time zone and date format."""
    return format_in_org(moment, _current_org(), with_time=with_time)


def duration(seconds: float | None) -> str:
    """1.2 s, 3 min 04 s, 1 h 02 min."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def render_fragment(template: str, block: str, **context) -> str:
    """One block of a page, polled every second or two: it draws no header or navigation,
    so the layout's context (organization, unread count: two queries) is skipped."""
    from jinja2_fragments.flask import render_block

    g.rendering_fragment = True
    return render_block(template, block, **context)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["duration"] = duration
    from webapp.services.processes.kinds import KIND_LABELS
    from webapp.services.whats_next import whats_next

    app.jinja_env.globals["kind_labels"] = KIND_LABELS
    app.jinja_env.globals["whats_next"] = whats_next

    @app.context_processor
    def inject_org():
        from webapp.services.notifications import unread_count

        if g.get("rendering_fragment"):
            return {}  # a polled fragment draws no navigation: no queries for it
        unread = unread_count(current_user.id) if current_user.is_authenticated else 0
        return {"current_org": _current_org(), "unread_notifications": unread}
