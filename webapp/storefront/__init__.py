"""The public, white-label storefront of each Active tenant: /store/<slug>/…"""

from flask import Blueprint, abort, g, render_template
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Organization, OrgStatus, Storefront

bp = Blueprint("storefront", __name__, url_prefix="/store/<slug>")
SERVED_STATUSES = (OrgStatus.ACTIVE, OrgStatus.SUSPENDED)


class StorefrontUnavailable(Exception):
    """Unknown slug or a tenant that is neither Active nor Suspended: a neutral page, never
    another brand. (A suspended tenant's store answers 503 in its own brand: public.py.)"""


@bp.url_value_preprocessor
def load_storefront(_endpoint, values):
    slug = values.pop("slug", None) if values else None
    storefront = db.session.scalar(select(Storefront).where(Storefront.slug == slug))
    org = db.session.get(Organization, storefront.organization_id) if storefront else None
    if storefront is None or org is None or org.status not in SERVED_STATUSES:
        raise StorefrontUnavailable()
    g.storefront = storefront
    g.store_org = org


@bp.url_defaults
def add_slug(endpoint, values):
    if "slug" not in values and getattr(g, "storefront", None) is not None:
        values["slug"] = g.storefront.slug


@bp.app_errorhandler(StorefrontUnavailable)
def unavailable(_error):
    return render_template("storefront/unavailable.html"), 404


def storefront_or_404() -> Storefront:
    storefront = getattr(g, "storefront", None)
    if storefront is None:
        abort(404)
    return storefront


from webapp.storefront import passwords, public, shop  # noqa: E402,F401  (routes register on bp)
