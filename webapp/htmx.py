"""htmx requests: one question, asked the same way everywhere."""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    """The request came from htmx (a fragment is wanted, not a whole page)."""
    return request.headers.get("HX-Request") == "true"
