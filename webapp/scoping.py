"""The signed-in organization, and guards for pages that only the distributor has."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from webapp.models import Organization


def org_id() -> int:
    """The signed-in user's organization id: every query is scoped by it."""
    return current_user.organization_id


def current_organization() -> Organization:
    return current_user.organization


def require_distributor() -> Organization:
    """Distributor-only modules look absent (404) to a tenant's users."""
    org = current_user.organization
    if not org.is_root:
        abort(404)
    return org


def require_admin() -> None:
    if not current_user.is_admin:
        abort(403)
