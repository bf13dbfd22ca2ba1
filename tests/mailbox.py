"""Reading the emails the app wrote (OutboxEmail rows) and the links in them, as a person
would read their inbox."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import OutboxEmail


def emails_to(app, address: str) -> list[OutboxEmail]:
    """Every email written to this address, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
        ).all()
        db.session.expunge_all()
        return rows


def all_emails(app) -> list[OutboxEmail]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        db.session.expunge_all()
        return rows


def link_in(body: str, path_part: str) -> str:
    """The path (for the test client) of the absolute link in `body` containing `path_part`."""
    for url in re.findall(r"https?://\S+", body):
        if path_part in url:
            assert url.startswith("http"), url
            return urlsplit(url).path
    raise AssertionError(f"no link with {path_part!r} in:\n{body}")
