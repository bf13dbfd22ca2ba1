"""Sending the outbox: one job per email, marked Sent only once the server accepted it."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError

from jobs.connection import RedisNotConfigured, get_queue
from webapp.extensions import db
from webapp.models import OutboxEmail, utcnow

log = logging.getLogger(__name__)


def enqueue_email(outbox_id: int | None) -> None:
    """Best effort: if the queue is down, the reaper sends Pending emails later."""
    if outbox_id is None:
        return
    try:
        get_queue().enqueue(send_outbox_email, outbox_id, job_id=f"email-{outbox_id}", unique=True)
    except DuplicateJobError:
        pass  # already queued
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("email %s stays Pending: %s", outbox_id, exc)


def send_outbox_email(outbox_id: int) -> str:
    if not has_app_context():
        from webapp import create_app

        with create_app().app_context():
            return send_outbox_email(outbox_id)
    email = db.session.get(OutboxEmail, outbox_id)
    if email is None or email.status == "Sent":
        return "nothing to send"
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        # No mail server (local use): the email goes to the worker's log, so that a person
        # trying the product can still follow a reset or invitation link.
        log.info(
            "email %s (no MAIL_SERVER, not sent) to %s: %s\n%s",
            email.id,
            email.to_address,
            email.subject,
            email.body,
        )
        email.status = "Logged"
        email.sent_at = utcnow()
        db.session.commit()
        return "logged"
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM") or "noreply@localhost"
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message.set_content(email.body)
    email.attempts += 1
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=20
        ) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        email.last_error = str(exc)[:400]
        db.session.commit()
        raise
    email.status = "Sent"
    email.sent_at = utcnow()
    db.session.commit()
    return "sent"
