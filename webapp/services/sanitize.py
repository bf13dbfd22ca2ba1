"""The only way tenant-supplied HTML reaches a page: a small allow-list through nh3."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "a", "h3", "h4",
                "blockquote"}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# No javascript:, data:, vbscript: or anything else that runs or embeds.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(raw: str | None) -> str:
    """Scripts, event handlers, style attributes and unsafe URLs removed; links get
    rel="noopener noreferrer nofollow"."""
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
