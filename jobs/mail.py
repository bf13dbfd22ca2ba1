"""RQ entry point of the email queue: one job per outbox email."""

from __future__ import annotations

from webapp.extensions import db
from webapp.services import mail


def send_outbox_email(outbox_id: int) -> str:
    try:
        return mail.send(outbox_id)
    finally:
        db.session.remove()
