"""Storefront customers' own accounts: server-side sessions, forgot/reset and change password.

Like accounts.py, every function works in the current transaction and leaves the commit to
the caller, which then delivers the returned email."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import (
    OutboxEmail,
    StoreCustomer,
    StoreCustomerSession,
    Storefront,
    TokenPurpose,
    utcnow,
)
from webapp.services import mail, one_time_links, throttle
from webapp.services.accounts import AccountError, PasswordProblem
from webapp.services.password_rules import password_problem
from webapp.services.passwords import hash_password, verify_password
from webapp.services.sign_in import customer_account_key

IDLE = timedelta(days=14)  # a customer stays signed in this long without visiting
ABSOLUTE = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sessions ---------------------------------------------------------------------------------


def start_session(customer: StoreCustomer) -> str:
    """A new server-side session; returns the token for the cookie (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        StoreCustomerSession(
            organization_id=customer.organization_id,
            token_hash=_hash(token),
            store_customer_id=customer.id,
            last_seen_at=now,
        )
    )
    return token


def customer_for_session(org_id: int, token: str | None) -> StoreCustomer | None:
    """The customer of this store whose live session this token is, else None."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(
        select(StoreCustomerSession).where(
            StoreCustomerSession.token_hash == _hash(token),
            StoreCustomerSession.organization_id == org_id,
        )
    )
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or now - row.last_seen_at > IDLE
        or now - row.created_at > ABSOLUTE
    ):
        return None
    customer = db.session.get(StoreCustomer, row.store_customer_id)
    if customer is None or customer.organization_id != org_id:
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return customer


def end_session(org_id: int, token: str | None) -> None:
    """Sign-out: the session is revoked on the server."""
    if not token:
        return
    db.session.execute(
        update(StoreCustomerSession)
        .where(
            StoreCustomerSession.token_hash == _hash(token),
            StoreCustomerSession.organization_id == org_id,
            StoreCustomerSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


def end_all_sessions(customer_id: int, keep_token: str | None = None) -> int:
    stmt = update(StoreCustomerSession).where(
        StoreCustomerSession.store_customer_id == customer_id,
        StoreCustomerSession.revoked_at.is_(None),
    )
    if keep_token:
        stmt = stmt.where(StoreCustomerSession.token_hash != _hash(keep_token))
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount


# --- passwords --------------------------------------------------------------------------------


def request_password_reset(storefront: Storefront, email: str) -> OutboxEmail | None:
    """Email a reset link if this store has a customer with this email. The caller answers the
    same either way; the token is made and hashed in both cases."""
    raw_and_hash = one_time_links.new_raw_token()
    address = (email or "").strip().lower()
    customer = (
        db.session.scalar(
            select(StoreCustomer).where(
                StoreCustomer.organization_id == storefront.organization_id,
                StoreCustomer.email == address,
            )
        )
        if address
        else None
    )
    if customer is None or not throttle.claim_once(f"reset-email:customer:{customer.id}", 60):
        return None  # at most one link a minute: nobody can flood a customer's inbox
    raw = one_time_links.issue(
        TokenPurpose.PASSWORD_RESET, customer=customer, raw_and_hash=raw_and_hash
    )
    link = mail.absolute_url("storefront.reset_password", slug=storefront.slug, token=raw)
    body = "\n".join(
        [
            "Hello,",
            "",
            f"Somebody (we hope you) asked to reset your password at {storefront.brand_name}.",
            "Choose a new password here (the link works once, for 1 hour):",
            link,
            "",
            "If you did not ask for this, you can ignore this email: your password stays the same.",
        ]
    )
    return mail.compose(
        storefront.organization_id,
        customer.email,
        f"Reset your {storefront.brand_name} password",
        body,
    )


def reset_password(storefront: Storefront, raw: str, password: str) -> StoreCustomer:
    """Set a new password from the emailed link: it is used up, and every session ends."""
    checked = one_time_links.check(
        TokenPurpose.PASSWORD_RESET, raw, organization_id=storefront.organization_id
    )
    if checked.token is None or checked.token.store_customer_id is None:
        raise AccountError(checked.problem or one_time_links.NOT_VALID)
    customer = db.session.get(StoreCustomer, checked.token.store_customer_id)
    problem = password_problem(password, customer.email)
    if problem:
        raise PasswordProblem(problem)
    if not one_time_links.consume(checked.token):
        raise AccountError(one_time_links.NOT_VALID)
    customer.password_hash = hash_password(password)
    end_all_sessions(customer.id)
    throttle.clear([customer_account_key(storefront.id, customer.email)])
    return customer


def change_password(
    customer: StoreCustomer, current: str, new: str, keep_token: str | None
) -> None:
    """Change the signed-in customer's password; their other browsers are signed out."""
    if not verify_password(customer.password_hash, current or ""):
        raise AccountError("The current password is not correct.")
    problem = password_problem(new, customer.email)
    if problem:
        raise PasswordProblem(problem)
    customer.password_hash = hash_password(new)
    end_all_sessions(customer.id, keep_token=keep_token)
