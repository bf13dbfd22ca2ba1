"""Email through the outbox: written in the same transaction as its cause, sent by a job.

Every email of the product goes through here: `compose()` adds an OutboxEmail row to the
current transaction; the caller commits, then calls `deliver()` with what `compose()` returned.
If the queue is down at that moment nothing is lost: the reaper relays Pending emails.
Links in emails are absolute (`absolute_url`), built from the BASE_URL setting."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urljoin

from flask import current_app, has_request_context, request, url_for

from webapp.extensions import db
from webapp.models import OutboxEmail


def compose(organization_id: int, to: str, subject: str, body: str) -> OutboxEmail | None:
    """Add an email to the current transaction; None when there is nobody to send it to."""
    to = (to or "").strip()
    if not to:
        return None
    email = OutboxEmail(
        organization_id=organization_id,
        to_address=to[:254],
        subject=subject[:200],
        body=body,
    )
    db.session.add(email)
    return email


def deliver(emails: Iterable[OutboxEmail | int | None]) -> None:
    """After commit: put each email on the email queue (best effort; the reaper relays)."""
    from jobs.queueing import enqueue_email

    for email in emails:
        if email is None:
            continue
        enqueue_email(email if isinstance(email, int) else email.id)


def base_url() -> str:
    """BASE_URL, else the address of the current request, else http://127.0.0.1:PORT."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/") + "/"
    if has_request_context():
        return request.host_url
    return f"http://127.0.0.1:{current_app.config.get('PORT', 5000)}/"


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link for an email or any text read outside the browser."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context(base_url="http://localhost/"):
            path = url_for(endpoint, **values)
    return urljoin(base_url(), path.lstrip("/"))


# --- Sending (run by the email job) -----------------------------------------------------------

# One first try and the retries jobs/queueing.py schedules; after that the email is Failed
# (shown to operators) instead of being relayed for ever.
MAX_ATTEMPTS = 6


class SendFailed(Exception):
    """The mail server refused or could not be reached; the job is retried later."""


def send(outbox_id: int) -> str:
    """Send one outbox email; Sent only once the server accepted it. Without MAIL_SERVER
    (local use) the email goes to the log, so that a reset or invitation link can be followed."""
    import logging
    import smtplib
    from email.message import EmailMessage

    from webapp.models import utcnow

    log = logging.getLogger(__name__)
    email = db.session.get(OutboxEmail, outbox_id)
    if email is None or email.status != "Pending":
        return "nothing to send"
    config = current_app.config
    email.attempts += 1
    if not config.get("MAIL_SERVER"):
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
    if email.attachment:
        filename, content = _attachment(email.attachment)
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
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
        if email.attempts >= MAX_ATTEMPTS:
            email.status = "Failed"
        db.session.commit()
        raise SendFailed(f"email {outbox_id}: {exc}") from exc
    email.status = "Sent"
    email.sent_at = utcnow()
    db.session.commit()
    return "sent"


def _attachment(reference: str) -> tuple[str, bytes]:
    """The file an email carries, rendered now: "invoice:<id>" is that invoice's PDF."""
    from webapp.models import Invoice
    from webapp.services.billing import pdf

    kind, _, key = reference.partition(":")
    if kind != "invoice" or not key.isdigit():
        raise ValueError(f"unknown attachment {reference!r}")
    invoice = db.session.get(Invoice, int(key))
    return f"{invoice.number}.pdf", pdf.render(invoice)
