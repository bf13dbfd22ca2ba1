"""Back-ordering: what the distributor bills its tenant reseller for.

Activation is irreversible, so a pre-execution check runs first: every subscription of the
reseller's customers in the distributor's BSS must already exist in the reseller's BSS, and
customers without subscriptions that are missing there are copied down first. Once active,
each paid subscription change in the reseller's BSS is applied in the distributor's BSS
exactly once (see jobs/backordering.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, select

from webapp.extensions import db
from webapp.models import (
    Account,
    Organization,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
    TenantStatus,
    User,
    utcnow,
)
from webapp.services import audit


class BackOrderingRefused(Exception):
    """Why activation cannot happen now, in words for the staff member."""


@dataclass
class Precheck:
    missing_subscriptions: list[Subscription] = field(default_factory=list)
    accounts_to_copy_down: list[Account] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.missing_subscriptions


def sub_customers(tenant: TenantReseller) -> list[Account]:
    """The reseller's customers in the distributor's BSS."""
    return db.session.scalars(
        Account.in_org(tenant.organization_id)
        .where(Account.parent_account_id == tenant.account_id)
        .order_by(Account.name)
    ).all()


def _tenant_has_account(tenant: TenantReseller, source: Account) -> bool:
    return bool(
        db.session.scalar(
            select(Account.id).where(
                Account.organization_id == tenant.tenant_organization_id,
                Account.source_account_id == source.id,
            )
        )
    )


def precheck(tenant: TenantReseller) -> Precheck:
    """What activation would find: subscriptions not copied down, accounts to copy down."""
    result = Precheck()
    for customer in sub_customers(tenant):
        subscriptions = db.session.scalars(
            Subscription.in_org(tenant.organization_id).where(
                Subscription.account_id == customer.id,
                Subscription.status == SubscriptionStatus.ACTIVE,
            )
        ).all()
        for sub in subscriptions:
            copied = db.session.scalar(
                select(
                    exists().where(
                        Subscription.organization_id == tenant.tenant_organization_id,
                        Subscription.source_subscription_id == sub.id,
                    )
                )
            )
            if not copied:
                result.missing_subscriptions.append(sub)
        if not subscriptions and not _tenant_has_account(tenant, customer):
            result.accounts_to_copy_down.append(customer)
    return result


def copy_account_down(tenant: TenantReseller, source: Account) -> Account:
    """The distributor's customer of this reseller, in the reseller's BSS (once)."""
    existing = db.session.scalar(
        Account.in_org(tenant.tenant_organization_id).where(Account.source_account_id == source.id)
    )
    if existing is not None:
        return existing
    name, n = source.name, 2
    while db.session.scalar(
        Account.in_org(tenant.tenant_organization_id).where(Account.name == name)
    ):
        name, n = f"{source.name} ({n})", n + 1
    org = db.session.get(Organization, tenant.tenant_organization_id)
    copy = Account(
        organization_id=org.id,
        name=name,
        email=source.email,
        enabled_for_ordering=True,
        billing_currency=org.currency,
        source_account_id=source.id,
    )
    db.session.add(copy)
    db.session.flush()
    return copy


def activate(tenant: TenantReseller, actor: User | None) -> list[Account]:
    """Activate back-ordering (irreversible); returns the accounts copied down first."""
    if tenant.back_ordering_active:
        raise BackOrderingRefused("Back-ordering is already active for this tenant reseller.")
    if tenant.status != TenantStatus.ACTIVE or tenant.tenant_organization_id is None:
        raise BackOrderingRefused(
            f"The tenant reseller is {tenant.status}; back-ordering can be activated once it "
            "is Active."
        )
    check = precheck(tenant)
    if check.missing_subscriptions:
        names = ", ".join(
            f"{s.account.name}: {s.product.name}" for s in check.missing_subscriptions[:10]
        )
        raise BackOrderingRefused(
            f"{len(check.missing_subscriptions)} subscription(s) of this reseller's customers "
            f"in your BSS are not in the reseller's BSS yet ({names}). Copy them down first "
            "(for a lite reseller: Upgrade from lite reseller), then activate."
        )
    copied = [copy_account_down(tenant, account) for account in check.accounts_to_copy_down]
    tenant.back_ordering_active = True
    tenant.back_ordering_activated_at = utcnow()
    account = db.session.get(Account, tenant.account_id)
    was_lite = account.is_lite_reseller
    account.is_lite_reseller = False
    account.is_reseller = True
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action="tenant_reseller.back_ordering_activated",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary=(
            "Back Ordering activated"
            + (f"; {len(copied)} account(s) copied down first" if copied else "")
            + ("; no longer a lite reseller" if was_lite else "")
        ),
        before={"back_ordering_active": False, "lite_reseller": was_lite},
        after={"back_ordering_active": True, "lite_reseller": False},
    )
    db.session.commit()
    return copied
