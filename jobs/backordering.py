"""RQ entry point of the events queue: propagate one subscription's back-ordering events."""

from __future__ import annotations

from webapp.extensions import db
from webapp.services import backordering


def propagate_subscription(subscription_id: int) -> str:
    try:
        return backordering.propagate(subscription_id)
    finally:
        db.session.remove()
