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
