"""Checking credentials under throttling, for staff (/login) and storefront customers.

Guesses count against the IP address and the account (and, on a storefront, the store). A
browser that signed in to an account before, or followed that account's emailed unlock
link, counts against its own key instead of the account's: so whoever hammers a known
username makes strangers wait, never the account's owner on their own browser."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Organization,
    OrgStatus,
    OutboxEmail,
    StoreCustomer,
    TokenPurpose,
    User,
)
from webapp.services import accounts, one_time_links, throttle, two_factor
from webapp.services.client_ids import normalise_client_id
from webapp.services.passwords import verify_password

UNLOCK_EMAIL_EVERY_SECONDS = 15 * 60


@dataclass(frozen=True)
class Device:
    """A browser: its random id and the accounts it has signed in to ("user:12",
    "customer:7"), from a signed cookie."""

    id: str
    trusted: frozenset[str] = frozenset()


@dataclass
class Outcome:
    user: User | None = None
    customer: StoreCustomer | None = None
    wait_seconds: int = 0
    emails: list[OutboxEmail] = field(default_factory=list)
    # The right password for an organization its distributor closed: why they cannot sign in.
    closed: str | None = None

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0


def user_subject(user_id: int) -> str:
    return f"user:{user_id}"


def customer_subject(customer_id: int) -> str:
    return f"customer:{customer_id}"


def _staff_user(client_id: str, username: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            Organization.client_id == normalise_client_id(client_id),
            Organization.status == OrgStatus.ACTIVE,
            User.username == username.strip(),
        )
    )


def _closed_org_user(client_id: str, username: str) -> tuple[User, str] | None:
    """A user of an organization that is suspended or marked as deleted, with the reason."""
    from webapp.services.tenant_lifecycle import CLOSED_STATUSES, closed_message

    row = db.session.execute(
        select(User, Organization)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            Organization.client_id == normalise_client_id(client_id),
            Organization.status.in_(CLOSED_STATUSES),
            User.username == username.strip(),
        )
    ).first()
    return (row[0], closed_message(row[1]) or "") if row is not None else None


def _staff_account_key(user: User | None, client_id: str, username: str, device: Device | None):
    if user is not None and device is not None and user_subject(user.id) in device.trusted:
        return throttle.Key(throttle.STAFF_DEVICE, f"{user.id}:{device.id}")
    client = normalise_client_id(client_id)
    return throttle.Key(throttle.STAFF_ACCOUNT, f"{client}:{username.strip().lower()}")


def sign_in_staff(
    client_id: str, username: str, password: str, ip: str, device: Device | None
) -> Outcome:
    """The active user for these credentials (Outcome.user), or why not: a wait, or nothing
    (wrong credentials, whichever was wrong). The same password work either way."""
    user = _staff_user(client_id, username)
    account_key = _staff_account_key(user, client_id, username, device)
    keys = [throttle.Key(throttle.STAFF_IP, ip or "unknown"), account_key]
    wait = throttle.seconds_to_wait(_waiting_keys(keys, account_key))
    if wait:
        return Outcome(wait_seconds=wait)
    closed = _closed_org_user(client_id, username) if user is None else None
    checked = user or (closed[0] if closed else None)
    password_ok = verify_password(checked.password_hash if checked else None, password)
    if closed is not None and password_ok and closed[0].active:
        # Said only after the right password: a guesser learns nothing about the organization.
        throttle.clear([account_key])
        return Outcome(closed=closed[1])
    if user is not None and password_ok and user.active:
        # Only the key this attempt was counted on: the owner signing in on their own
        # browser does not let strangers' guessing start afresh.
        throttle.clear([account_key])
        return Outcome(user=user)
    return Outcome(emails=_failed(keys, account_key, user))


def _waiting_keys(keys: list[throttle.Key], account_key: throttle.Key) -> list[throttle.Key]:
    """The keys whose wait applies: a known browser waits only for its own failures, never
    for its address's (many people can share one address, or a proxy's)."""
    if account_key.rule in (throttle.STAFF_DEVICE, throttle.STORE_DEVICE):
        return [account_key]
    return keys


def _failed(keys, account_key, user: User | None) -> list[OutboxEmail]:
    """Count the failure; once the account starts to wait, its owner gets an unlock link
    (at most every 15 minutes)."""
    counts = throttle.record_failure(keys)
    failures = counts.get(account_key, 0)
    if (
        account_key.rule is throttle.STAFF_ACCOUNT
        and failures >= throttle.STAFF_ACCOUNT.free_failures
        and user is not None
        and user.active
        and user.email
        and throttle.claim_once(f"unlock-email:{user.id}", UNLOCK_EMAIL_EVERY_SECONDS)
    ):
        email = accounts.unlock_email(user)
        return [email] if email is not None else []
    return []


def second_factor(user: User, code: str, ip: str, device: Device | None) -> Outcome:
    """Check the code from the app (or a recovery code) of a user whose password was right;
    wrong codes count against the same keys as wrong passwords."""
    account_key = _staff_account_key(user, user.organization.client_id, user.username, device)
    keys = [throttle.Key(throttle.STAFF_IP, ip or "unknown"), account_key]
    wait = throttle.seconds_to_wait(_waiting_keys(keys, account_key))
    if wait:
        return Outcome(wait_seconds=wait)
    if user.active and two_factor.verify(user, code):
        throttle.clear([account_key])
        return Outcome(user=user)
    return Outcome(emails=_failed(keys, account_key, user))


def unlock(raw: str) -> User:
    """Use an emailed unlock link: the caller trusts the browser for this user from now on,
    so it no longer waits with strangers (who keep waiting)."""
    checked = one_time_links.check(TokenPurpose.UNLOCK, raw)
    if checked.token is None or checked.token.user_id is None:
        raise accounts.AccountError(checked.problem or one_time_links.NOT_VALID)
    user = db.session.get(User, checked.token.user_id)
    if user is None or not user.active or not one_time_links.consume(checked.token):
        raise accounts.AccountError(one_time_links.NOT_VALID)
    return user


# --- storefront customers --------------------------------------------------------------------


def _customer(org_id: int, email: str) -> StoreCustomer | None:
    return db.session.scalar(
        select(StoreCustomer).where(
            StoreCustomer.organization_id == org_id,
            StoreCustomer.email == (email or "").strip().lower(),
        )
    )


def customer_account_key(storefront_id: int, email: str) -> throttle.Key:
    return throttle.Key(throttle.STORE_ACCOUNT, f"{storefront_id}:{(email or '').strip().lower()}")


def sign_in_customer(
    org_id: int, storefront_id: int, email: str, password: str, ip: str, device: Device | None
) -> Outcome:
    """The store's customer for this email and password, or a wait, or nothing. Counted per
    email in this store, per IP and per store; a browser the customer signed in on before is
    counted on its own instead of the email and the store."""
    customer = _customer(org_id, email)
    trusted = (
        customer is not None
        and device is not None
        and customer_subject(customer.id) in device.trusted
    )
    ip_key = throttle.Key(throttle.STORE_IP, ip or "unknown")
    if trusted:
        keys = [ip_key, throttle.Key(throttle.STORE_DEVICE, f"{customer.id}:{device.id}")]
    else:
        keys = [
            ip_key,
            customer_account_key(storefront_id, email),
            throttle.Key(throttle.STORE_WIDE, str(storefront_id)),
        ]
    wait = throttle.seconds_to_wait(_waiting_keys(keys, keys[1]))
    if wait:
        return Outcome(wait_seconds=wait)
    ok = verify_password(customer.password_hash if customer else None, password)
    if customer is not None and ok:
        throttle.clear([keys[1]])
        return Outcome(customer=customer)
    throttle.record_failure(keys)
    return Outcome()
