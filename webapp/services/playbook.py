"""The Basic and Premium playbooks: what a new tenant reseller does to be in business.

Each item ticks itself when the data shows it done; an item the data does not show yet can
be ticked by the tenant by hand (PlaybookTick: who and when). Progress for many tenants at
once takes a fixed number of queries, whatever their number (the distributor's list)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import (
    Account,
    Edition,
    Organization,
    PlaybookTick,
    PriceList,
    PriceListItem,
    Storefront,
    Subscription,
    TenantReseller,
    User,
    utcnow,
)


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    hint: str
    premium_only: bool = False


ITEMS = [
    Item("branding", "Brand the storefront", "Logo, colours and welcome text on Branding."),
    Item(
        "prices",
        "Currency and prices, with a non-empty storefront",
        "A price list in your currency with at least one product: the storefront sells it.",
    ),
    Item("first_customer", "First customer", "A customer in your BSS (or signed up)."),
    Item("first_paid", "First paid subscription", "A subscription with a price above zero."),
    Item(
        "back_ordering",
        "Back-ordering activated",
        "Your distributor activates it: your sales then reach its BSS.",
    ),
    Item("custom_domain", "Custom domain", "Your storefront on your own domain.", True),
    Item("footer_links", "Footer links", "Terms, privacy, contact on every page.", True),
    Item("extra_users", "Extra users", "Colleagues with their own sign-in.", True),
]
BY_KEY = {i.key: i for i in ITEMS}


@dataclass
class Facts:
    """What the data says about one tenant organization."""

    branded: bool = False
    priced: bool = False
    customer: bool = False
    paid: bool = False
    back_ordering: bool = False
    custom_domain: bool = False
    footer_links: bool = False
    users: int = 0
    ticks: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def automatic(self, key: str) -> bool:
        return {
            "branding": self.branded,
            "prices": self.priced,
            "first_customer": self.customer,
            "first_paid": self.paid,
            "back_ordering": self.back_ordering,
            "custom_domain": self.custom_domain,
            "footer_links": self.footer_links,
            "extra_users": self.users > 1,
        }[key]


@dataclass(frozen=True)
class Line:
    item: Item
    automatic: bool
    ticked_at: datetime | None = None
    ticked_by: str = ""

    @property
    def done(self) -> bool:
        return self.automatic or self.ticked_at is not None


@dataclass(frozen=True)
class Playbook:
    edition: str
    lines: list[Line]

    @property
    def done(self) -> int:
        return sum(1 for line in self.lines if line.done)

    @property
    def total(self) -> int:
        return len(self.lines)


def items_for(edition: str | None) -> list[Item]:
    premium = edition == Edition.PREMIUM
    return [i for i in ITEMS if premium or not i.premium_only]


def _by_org(rows) -> dict[int, int]:
    return {org_id: count for org_id, count in rows}


def facts_for(tenants: Iterable[TenantReseller]) -> dict[int, Facts]:
    """Facts per tenant organization id, in seven queries whatever the number of tenants."""
    tenants = [t for t in tenants if t.tenant_organization_id is not None]
    ids = [t.tenant_organization_id for t in tenants]
    if not ids:
        return {}
    facts = {t.tenant_organization_id: Facts(back_ordering=t.back_ordering_active) for t in tenants}
    for sf in db.session.scalars(select(Storefront).where(Storefront.organization_id.in_(ids))):
        f = facts[sf.organization_id]
        f.branded = sf.branded_at is not None
        f.custom_domain = bool(sf.custom_domain)
        f.footer_links = bool(sf.footer_links)
    priced = db.session.execute(
        select(PriceListItem.organization_id, func.count())
        .join(PriceList, PriceList.id == PriceListItem.price_list_id)
        .join(Organization, Organization.id == PriceList.organization_id)
        .where(
            PriceListItem.organization_id.in_(ids),
            PriceList.active.is_(True),
            PriceList.currency == Organization.currency,
        )
        .group_by(PriceListItem.organization_id)
    ).all()
    customers = db.session.execute(
        select(Account.organization_id, func.count())
        .where(Account.organization_id.in_(ids))
        .group_by(Account.organization_id)
    ).all()
    paid = db.session.execute(
        select(Subscription.organization_id, func.count())
        .where(Subscription.organization_id.in_(ids), Subscription.unit_price > 0)
        .group_by(Subscription.organization_id)
    ).all()
    users = db.session.execute(
        select(User.organization_id, func.count())
        .where(User.organization_id.in_(ids), User.active.is_(True))
        .group_by(User.organization_id)
    ).all()
    for org_id, count in priced:
        facts[org_id].priced = count > 0
    for org_id, count in customers:
        facts[org_id].customer = count > 0
    for org_id, count in paid:
        facts[org_id].paid = count > 0
    for org_id, count in users:
        facts[org_id].users = count
    ticks = db.session.execute(
        select(PlaybookTick, User.username)
        .outerjoin(User, User.id == PlaybookTick.ticked_by_id)
        .where(PlaybookTick.organization_id.in_(ids))
    ).all()
    for tick, username in ticks:
        facts[tick.organization_id].ticks[tick.item] = (tick.created_at, username or "")
    return facts


def playbook(tenant: TenantReseller, facts: Facts | None = None) -> Playbook | None:
    """The tenant's playbook, or None before it has an organization."""
    if tenant.tenant_organization_id is None:
        return None
    if facts is None:
        facts = facts_for([tenant]).get(tenant.tenant_organization_id, Facts())
    lines = []
    for item in items_for(tenant.edition):
        at, by = facts.ticks.get(item.key, (None, ""))
        lines.append(Line(item, facts.automatic(item.key), at, by))
    return Playbook(tenant.edition, lines)


def progress(tenants: list[TenantReseller]) -> dict[int, Playbook]:
    """Playbook per tenant reseller id, for the list (a fixed number of queries)."""
    facts = facts_for(tenants)
    return {
        t.id: playbook(t, facts[t.tenant_organization_id])
        for t in tenants
        if t.tenant_organization_id in facts
    }


def tenant_of_org(org_id: int) -> TenantReseller | None:
    return db.session.scalar(
        select(TenantReseller).where(TenantReseller.tenant_organization_id == org_id)
    )


def tick(org_id: int, key: str, user: User, done: bool) -> None:
    """The tenant ticks (or unticks) an item by hand; who and when are kept."""
    if key not in BY_KEY:
        raise KeyError(key)
    existing = db.session.scalar(PlaybookTick.in_org(org_id).where(PlaybookTick.item == key))
    if done and existing is None:
        db.session.add(
            PlaybookTick(
                organization_id=org_id, item=key, ticked_by_id=user.id, created_at=utcnow()
            )
        )
    elif not done and existing is not None:
        db.session.delete(existing)
    db.session.commit()
