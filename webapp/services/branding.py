"""The tenant's brand as one typed object with defaults: the only way brand values reach a
template (colours validated, HTML sanitized, images by generated name)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup

from webapp.models import Storefront
from webapp.services.sanitize import clean_html

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_PRIMARY = "#1f4e79"
DEFAULT_ACCENT = "#f0a500"


def is_colour(value: str) -> bool:
    return bool(COLOUR.match(value or ""))


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
    """Plain-language warnings when text on the brand colours is below WCAG AA (4.5:1)."""
    warnings = []
    for name, colour in (("primary", primary), ("accent", accent)):
        best = contrast_ratio(colour, text_colour_on(colour))
        if best < 4.5:
            warnings.append(
                f"Text on the {name} colour has a contrast of {best:.1f}:1, below the 4.5:1 "
                "that WCAG AA asks for; some visitors will find it hard to read."
            )
    return warnings


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


def brand_for(storefront: Storefront, media_url, premium: bool) -> Brand:
    """The Brand of a storefront; `media_url(filename)` builds image URLs."""
    links = ()
    if premium:
        links = tuple(
            (str(link.get("label", ""))[:60], str(link.get("url", "")))
            for link in (storefront.footer_links or [])
            if str(link.get("url", "")).startswith(("https://", "http://", "mailto:"))
        )
    return Brand(
        name=storefront.brand_name,
        primary=storefront.primary_color
        if is_colour(storefront.primary_color)
        else DEFAULT_PRIMARY,
        accent=storefront.accent_color if is_colour(storefront.accent_color) else DEFAULT_ACCENT,
        logo_url=media_url(storefront.logo_path) if storefront.logo_path else None,
        favicon_url=media_url(storefront.favicon_path) if storefront.favicon_path else None,
        hero_title=storefront.hero_title,
        # Sanitized when saved and again here (defence in depth); Markup only after nh3, so
        # templates never need |safe on tenant input.
        hero_html=Markup(clean_html(storefront.hero_text)),  # noqa: S704
        footer_links=links,
    )
