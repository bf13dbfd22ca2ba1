"""The tenant's storefront branding editor, in the tenant's own BSS: /branding."""

from flask import Blueprint

bp = Blueprint("branding", __name__, url_prefix="/branding")

from webapp.branding import routes  # noqa: E402,F401  (routes register on bp)
