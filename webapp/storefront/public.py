"""Storefront pages anyone may see: home, catalogue, product, and the brand's stylesheet."""

from __future__ import annotations

from flask import Response, g, render_template, url_for

from webapp.models import Edition
from webapp.services.branding import brand_for
from webapp.storefront import bp


@bp.before_request
def set_brand():
    g.brand = brand_for(
        g.storefront,
        media_url=lambda name: url_for("media.file", filename=name),
        premium=g.store_org.edition == Edition.PREMIUM,
    )


@bp.get("/")
def home():
    """The storefront's home page with the tenant's brand."""
    return render_template("storefront/home.html")


@bp.get("/brand.css")
def brand_css():
    """The brand's colours as a stylesheet: CSP allows no inline styles."""
    brand = g.brand
    css = (
        f":root {{ --brand-primary: {brand.primary}; --brand-on-primary: {brand.on_primary}; "
        f"--brand-accent: {brand.accent}; --brand-on-accent: {brand.on_accent}; }}\n"
    )
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    return response
