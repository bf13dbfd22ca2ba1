"""RQ entry point: check a custom domain's ownership TXT record."""

from __future__ import annotations

from webapp.extensions import db
from webapp.services import domains


def check_custom_domain(storefront_id: int) -> bool:
    try:
        return domains.check_ownership(storefront_id)
    finally:
        db.session.remove()
