"""The only way tenant-supplied HTML reaches a page: a small allow-list through nh3."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# No javascript:, data:, vbscript: or anything else that runs or embeds.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Elements removed together with everything inside them (not just their tags): their content
# is code, markup for another parser, or embedded documents, never text meant for a reader.
DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "noscript",
    "template",
    "svg",
    "math",
    "textarea",
    "title",
    "frameset",
    "noembed",
    "xmp",
}


def clean_html(raw: str | None) -> str:
    """Scripts, event handlers, style attributes and unsafe URLs removed; links get
    rel="noopener noreferrer nofollow". Idempotent: cleaning clean HTML changes nothing."""
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
