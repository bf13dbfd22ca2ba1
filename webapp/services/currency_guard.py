"""An account's billing currency and its tenant reseller's price list go together: the price
list of a tenant is in the currency its distributor bills it. So while an account has a
tenant reseller, its billing currency changes only together with a price list in the new
currency; the tenant's cost prices are then re-priced by a queued, audited Update Tenant
(Partial) from that list."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Account, PriceList, TenantReseller, TenantStatus, User
from webapp.services import audit, tenant_update
from webapp.services.tenant_update import PARTIAL, UpdateRequest, UpdateResult

# A tenant in one of these holds the rule "its price list is in the account's currency".
HOLDING = (TenantStatus.ACTIVE, TenantStatus.SUSPENDED, TenantStatus.IN_PROGRESS)


def tenant_of(account: Account) -> TenantReseller | None:
    """The account's tenant reseller that the currency rule applies to, if any."""
    return db.session.scalar(
        select(TenantReseller).where(
            TenantReseller.account_id == account.id, TenantReseller.status.in_(HOLDING)
        )
    )


def active_price_lists(organization_id: int) -> list[PriceList]:
    """The lists a tenant may be switched to, by currency then name."""
    return db.session.scalars(
        PriceList.in_org(organization_id)
        .where(PriceList.active.is_(True))
        .order_by(PriceList.currency, PriceList.name)
    ).all()


def refusal(account: Account, new_currency: str, price_list_id: int | None) -> str | None:
    """Why this currency change cannot be saved now, or None (no tenant, the same currency,
    or a usable price list in the new currency was chosen)."""
    tenant = tenant_of(account)
    if tenant is None or new_currency == account.billing_currency:
        return None
    name = tenant.account.name
    if tenant.status != TenantStatus.ACTIVE:
        return (
            f"{name} has a tenant reseller that is {tenant.status}: its billing currency can "
            "change only while the tenant is Active, together with a price list in the new "
            "currency."
        )
    chosen = db.session.get(PriceList, price_list_id) if price_list_id else None
    if (
        chosen is None
        or chosen.organization_id != account.organization_id
        or chosen.currency != new_currency
        or not chosen.active
    ):
        return (
            f"{name} is a tenant reseller billed from the price list {tenant.price_list.name} "
            f"({tenant.price_list.currency}). To bill it in {new_currency}, choose a price list "
            f"in {new_currency} too: the tenant's cost prices are then re-priced from it."
        )
    busy, _process = tenant_update.availability(tenant)
    return busy or None


def switch_price_list(account: Account, price_list_id: int, actor: User | None) -> UpdateResult:
    """After the currency was saved: the tenant takes the new price list (audited) and a
    Partial Update Tenant re-prices its cost prices from it."""
    tenant = tenant_of(account)
    price_list = db.session.get(PriceList, price_list_id)
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action="tenant_reseller.price_list",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary=(
            f"Billing currency {account.billing_currency}: price list {tenant.price_list.name} "
            f"→ {price_list.name}; cost prices re-priced by Update Tenant (Partial)"
        ),
        before={"price_list_id": tenant.price_list_id},
        after={"price_list_id": price_list.id},
    )
    tenant.price_list_id = price_list.id
    db.session.flush()
    return tenant_update.start(
        tenant.organization_id, tenant.id, actor, UpdateRequest(mode=PARTIAL)
    )
