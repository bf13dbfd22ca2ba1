"""Emailed one-time links: a random token whose SHA-256 is stored, that expires and works
once. Issuing a new link of the same kind for the same person cancels the older ones."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import OneTimeToken, StoreCustomer, TokenPurpose, User, utcnow

LIFETIME = {
    TokenPurpose.PASSWORD_RESET: timedelta(hours=1),
    TokenPurpose.INVITATION: timedelta(days=7),
    TokenPurpose.UNLOCK: timedelta(hours=1),
}

EXPIRED = "This link has expired."
NOT_VALID = "This link is not valid: it was already used, or a newer one was sent."


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> tuple[str, str]:
    """A fresh random token and its hash (both branches of a look-up spend this work)."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def issue(
    purpose: TokenPurpose,
    *,
    user: User | None = None,
    customer: StoreCustomer | None = None,
    raw_and_hash: tuple[str, str] | None = None,
) -> str:
    """Add a link for this user or customer to the current transaction; returns the raw token
    (for the email only: it is never stored)."""
    owner = user or customer
    if owner is None or (user is not None and customer is not None):
        raise ValueError("a link belongs to one user or one customer")
    now = utcnow()
    owner_column = OneTimeToken.user_id if user is not None else OneTimeToken.store_customer_id
    db.session.execute(
        update(OneTimeToken)
        .where(
            owner_column == owner.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    raw, digest = raw_and_hash or new_raw_token()
    db.session.add(
        OneTimeToken(
            organization_id=owner.organization_id,
            purpose=purpose,
            token_hash=digest,
            user_id=user.id if user is not None else None,
            store_customer_id=customer.id if customer is not None else None,
            expires_at=now + LIFETIME[purpose],
        )
    )
    return raw


@dataclass(frozen=True)
class Checked:
    token: OneTimeToken | None
    problem: str | None


def check(purpose: TokenPurpose, raw: str, organization_id: int | None = None) -> Checked:
    """The unused, unexpired link for this raw token, or why it cannot be used."""
    if not raw or len(raw) > 200:
        return Checked(None, NOT_VALID)
    stmt = select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_token(raw), OneTimeToken.purpose == purpose
    )
    if organization_id is not None:
        stmt = stmt.where(OneTimeToken.organization_id == organization_id)
    token = db.session.scalar(stmt)
    if token is None or token.used_at is not None:
        return Checked(None, NOT_VALID)
    if token.expires_at <= utcnow():
        return Checked(None, EXPIRED)
    return Checked(token, None)


def consume(token: OneTimeToken) -> bool:
    """Mark the link used, in the current transaction; False if someone used it first."""
    result = db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == token.id, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return result.rowcount == 1
