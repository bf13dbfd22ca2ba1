"""The one sanitizer for tenant HTML (hero text, product marketing text): an nh3 allow-list."""

from __future__ import annotations

import pytest

from webapp.services.sanitize import clean_html

# (payload, what must not survive)
XSS_PAYLOADS = [
    ("<script>alert(1)</script>", ["<script", "alert(1)"]),
    ("<img src=x onerror=alert(1)>", ["<img", "onerror", "alert(1)"]),
    ('<a href="javascript:alert(1)">click</a>', ["javascript:", "alert(1)"]),
    ('<a href="JaVaScRiPt:alert(1)">click</a>', ["javascript:", "alert(1)"]),
    ('<a href="java&#x09;script:alert(1)">click</a>', ["script:", "alert(1)"]),
    ("<svg onload=alert(1)><circle r=1 /></svg>", ["<svg", "onload", "alert(1)"]),
    ('<p style="background:url(javascript:alert(1))">text</p>', ["style", "javascript:"]),
    (
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
        ["data:", "base64"],
    ),
    ('<iframe src="https://evil.example/"></iframe>', ["<iframe", "evil.example"]),
    ('<object data="https://evil.example/x.swf"></object>', ["<object", "evil.example"]),
    ('<embed src="https://evil.example/x.swf">', ["<embed", "evil.example"]),
    ("<style>body{display:none}</style>", ["<style", "display:none"]),
    ('<p onclick="alert(1)">click</p>', ["onclick", "alert(1)"]),
    ('<form action="https://evil.example"><input name=x></form>', ["<form", "<input"]),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example">', ["<meta", "refresh"]),
    ("<!--<script>alert(1)</script>-->", ["<!--", "<script"]),
    ('<math><mi xlink:href="javascript:alert(1)">x</mi></math>', ["javascript:", "<math"]),
]


@pytest.mark.parametrize(("payload", "forbidden"), XSS_PAYLOADS)
def test_sanitizer_strips_xss_payloads(payload, forbidden):
    """Each payload loses everything that could run script, load content or restyle a page."""
    cleaned = clean_html(payload).lower()
    for fragment in forbidden:
        assert fragment.lower() not in cleaned, (payload, cleaned)


@pytest.mark.parametrize(("payload", "_forbidden"), XSS_PAYLOADS)
def test_sanitizer_output_is_stable(payload, _forbidden):
    """Cleaning already clean HTML changes nothing (sanitized at save, again at render)."""
    once = clean_html(payload)
    assert clean_html(once) == once


def test_safe_formatting_and_links_survive():
    """Paragraphs, emphasis, lists and http(s)/mailto links are kept, links made rel-safe."""
    html = (
        '<p><strong>Fast</strong> and <em>safe</em> <a href="https://example.com/x">more</a></p>'
        '<ul><li>one</li></ul><a href="mailto:sales@example.com">mail</a>'
    )
    cleaned = clean_html(html)
    assert "<strong>Fast</strong>" in cleaned and "<em>safe</em>" in cleaned
    assert "<ul><li>one</li></ul>" in cleaned
    assert 'href="https://example.com/x"' in cleaned
    assert 'href="mailto:sales@example.com"' in cleaned
    assert cleaned.count('rel="noopener noreferrer nofollow"') == 2


def test_text_is_kept_and_escaped():
    """Plain text stays, and a stray "<" cannot open a tag."""
    assert clean_html("Prices < 10 € & more") == "Prices &lt; 10 € &amp; more"


def test_empty_input_gives_empty_output():
    """None and the empty string both clean to the empty string."""
    assert clean_html(None) == ""
    assert clean_html("") == ""
