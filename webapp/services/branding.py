"""The tenant's brand as one typed object with defaults: the only way brand values reach a
template (colours validated, HTML sanitized, images by generated name)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from markupsafe import Markup

from webapp.models import Storefront
from webapp.services.sanitize import clean_html

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_PRIMARY = "#1f4e79"
DEFAULT_ACCENT = "#f0a500"
WHITE = "#ffffff"
INK = "#1b1f24"  # the storefront's body text colour (store.css --ink)
AA_TEXT = 4.5  # WCAG 2 AA, normal text
AA_NON_TEXT = 3.0  # WCAG 2 AA, focus rings and other non-text marks

MAX_FOOTER_LINKS = 5
MAX_LINK_LABEL = 60
MAX_LINK_URL = 500
LINK_SCHEMES = ("http", "https", "mailto")


def is_colour(value: str | None) -> bool:
    return bool(COLOUR.match(value or ""))


def normalise_colour(value: str | None) -> str | None:
    """ "#1F4E79 " → "#1f4e79"; None when it is not a #rrggbb colour."""
    value = (value or "").strip().lower()
    return value if is_colour(value) else None


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two #rrggbb colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on the background."""
    return (
        "#000000"
        if contrast_ratio(background, "#000000") >= contrast_ratio(background, "#ffffff")
        else "#ffffff"
    )


def contrast_warnings(primary: str, accent: str) -> list[str]:
    """Plain-language warnings where the colours fall below WCAG AA on the storefront.

    Text on a brand colour is black or white, whichever reads better, so it rarely fails;
    what does fail is the primary colour used as link text on the white page, and the accent
    used as the keyboard focus ring. The storefront then uses a safe colour in their place
    (see Brand.link and Brand.focus); the tenant is told so, and may still save."""
    warnings = []
    for name, colour in (("primary", primary), ("accent", accent)):
        best = contrast_ratio(colour, text_colour_on(colour))
        if best < AA_TEXT:
            warnings.append(
                f"Text on the {name} colour has a contrast of {best:.1f}:1, below the 4.5:1 "
                "that WCAG AA asks for; some visitors will find it hard to read."
            )
    on_white = contrast_ratio(primary, WHITE)
    if on_white < AA_TEXT:
        warnings.append(
            f"Links in the primary colour on the white page have a contrast of {on_white:.1f}:1, "
            "below the 4.5:1 that WCAG AA asks for; the storefront will show links in dark "
            "grey instead. Choose a darker primary colour to keep links in your colour."
        )
    accent_on_white = contrast_ratio(accent, WHITE)
    if accent_on_white < AA_NON_TEXT and on_white < AA_NON_TEXT:
        warnings.append(
            f"The accent colour has a contrast of {accent_on_white:.1f}:1 on white, below the "
            "3:1 that WCAG AA asks for the keyboard focus ring; the storefront will use dark "
            "grey for it instead."
        )
    return warnings


def safe_link_url(url: str | None) -> bool:
    """An absolute http(s) URL with a host, or a mailto: address; nothing that runs code."""
    url = (url or "").strip()
    if not url or len(url) > MAX_LINK_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in LINK_SCHEMES:
        return False
    if parts.scheme == "mailto":
        return "@" in parts.path
    return bool(parts.hostname)


@dataclass(frozen=True)
class Brand:
    name: str = "Storefront"
    primary: str = DEFAULT_PRIMARY
    accent: str = DEFAULT_ACCENT
    logo_url: str | None = None
    favicon_url: str | None = None
    hero_title: str = ""
    hero_html: Markup = field(default_factory=lambda: Markup(""))
    footer_links: tuple[tuple[str, str], ...] = ()

    @property
    def on_primary(self) -> str:
        return text_colour_on(self.primary)

    @property
    def on_accent(self) -> str:
        return text_colour_on(self.accent)

    @property
    def link(self) -> str:
        """Link text colour on white: the primary colour when it reads well enough."""
        return self.primary if contrast_ratio(self.primary, WHITE) >= AA_TEXT else INK

    @property
    def focus(self) -> str:
        """The focus ring on white: accent, else primary, else ink — whichever is visible."""
        for colour in (self.accent, self.primary):
            if contrast_ratio(colour, WHITE) >= AA_NON_TEXT:
                return colour
        return INK

    @property
    def warnings(self) -> list[str]:
        return contrast_warnings(self.primary, self.accent)


def footer_links_of(raw: Iterable | None) -> tuple[tuple[str, str], ...]:
    """Stored footer links as (label, url) pairs: safe URLs only, at most five."""
    links = []
    for link in raw or []:
        if not isinstance(link, dict):
            continue
        label = str(link.get("label", "")).strip()[:MAX_LINK_LABEL]
        url = str(link.get("url", "")).strip()
        if label and safe_link_url(url):
            links.append((label, url))
    return tuple(links[:MAX_FOOTER_LINKS])


def brand_for(storefront: Storefront, media_url: Callable[[str], str], premium: bool) -> Brand:
    """The Brand of a storefront (saved, or a transient one for a preview); `media_url(filename)`
    builds image URLs. Footer links are a Premium feature."""
    return Brand(
        name=storefront.brand_name or "Storefront",
        primary=normalise_colour(storefront.primary_color) or DEFAULT_PRIMARY,
        accent=normalise_colour(storefront.accent_color) or DEFAULT_ACCENT,
        logo_url=media_url(storefront.logo_path) if storefront.logo_path else None,
        favicon_url=media_url(storefront.favicon_path) if storefront.favicon_path else None,
        hero_title=storefront.hero_title or "",
        # Sanitized when saved and again here (defence in depth); Markup only after nh3, so
        # templates never need |safe on tenant input.
        hero_html=Markup(clean_html(storefront.hero_text)),  # noqa: S704
        footer_links=footer_links_of(storefront.footer_links) if premium else (),
    )


DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidDomain(ValueError):
    """Why a custom domain was refused, in words for the tenant."""


def parse_custom_domain(raw: str | None, reserved: Iterable[str] = ()) -> str | None:
    """A storefront's custom domain as stored: a lower-case host name (IDN as punycode),
        no scheme, port, path or trailing dot; None when empty. `reserved` are host names the
        platform itself answers on (configuration): neither they nor names under them are
    accepted. Raises InvalidDomain."""
    value = (raw or "").strip().lower().rstrip(".")
    if not value:
        return None
    if "://" in value or "/" in value or ":" in value or "@" in value:
        raise InvalidDomain(
            "Enter only the host name, for example shop.example.com (no https://, port or path)."
        )
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidDomain("This is not a valid host name.") from exc
    labels = value.split(".")
    if (
        len(value) > 253
        or len(labels) < 2
        or not all(DOMAIN_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidDomain(
            "Enter a host name such as shop.example.com: letters, digits and hyphens, "
            "with at least one dot."
        )
    reserved = {r.lower().rstrip(".") for r in reserved} | {"localhost"}
    if any(value == r or value.endswith("." + r) for r in reserved):
        raise InvalidDomain("This host name belongs to the platform; use your own domain.")
    return value
