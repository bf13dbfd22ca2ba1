"""The seed's preparation checklist, computed live from the rows (never stored as truth)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    PriceList,
    PriceListItem,
    Product,
    ProvisioningPlatform,
    SyncStatus,
    TenantReseller,
)


@dataclass
class PlatformCheck:
    """One provisioning platform that has products in the chosen price list."""

    platform: ProvisioningPlatform
    product_count: int
    synced: bool

    @property
    def passed(self) -> bool:
        return self.synced or not self.platform.requires_reseller_sync

    @property
    def reason(self) -> str:
        name = self.platform.name
        if not self.platform.requires_reseller_sync:
            return f"{name}: no synchronization is necessary."
        if self.synced:
            return f"{name}: the account is synced as reseller."
        return f"{name}: the account must be synced as reseller before activation."


@dataclass
class PriceListCheck:
    """Whether one price list can be used for this account, and why not."""

    price_list: PriceList
    product_count: int
    exclusions: list[str]
    platforms: list[PlatformCheck] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.exclusions

    @property
    def ready(self) -> bool:
        return self.eligible and all(p.passed for p in self.platforms)

    @property
    def missing_syncs(self) -> list[PlatformCheck]:
        return [p for p in self.platforms if not p.passed]


@dataclass
class CheckItem:
    """One line of the checklist: pass/fail, why, and where to fix it."""

    key: str
    label: str
    passed: bool
    reason: str
    fix_label: str = ""
    fix_anchor: str = ""  # "account", "price_lists" or "sync": the template turns it into a link


@dataclass
class Readiness:
    account: Account
    tenant_reseller: TenantReseller | None
    price_lists: list[PriceListCheck]
    chosen: PriceListCheck | None
    items: list[CheckItem]

    @property
    def ready(self) -> bool:
        return self.tenant_reseller is None and all(item.passed for item in self.items)

    @property
    def failures(self) -> list[CheckItem]:
        return [item for item in self.items if not item.passed]

    @property
    def eligible_price_lists(self) -> list[PriceListCheck]:
        return [c for c in self.price_lists if c.eligible]

    @property
    def ready_price_lists(self) -> list[PriceListCheck]:
        return [c for c in self.price_lists if c.ready]

    def check_for(self, price_list_id: int) -> PriceListCheck | None:
        return next((c for c in self.price_lists if c.price_list.id == price_list_id), None)

    def problems_for(self, price_list_id: int) -> list[str]:
        """Why this account cannot become a tenant reseller with this price list, in words
        for people (empty when it can): the form, the API, the CLI and the pipeline's first
        step all ask this one question."""
        problems = [item.reason for item in self.failures]
        chosen = self.check_for(price_list_id)
        if chosen is None:
            problems.append("The chosen price list does not exist.")
        elif not chosen.ready:
            problems.extend(f"{chosen.price_list.name}: {e}." for e in chosen.exclusions)
            problems.extend(p.reason for p in chosen.missing_syncs)
        return list(dict.fromkeys(problems))


def _synced_platform_ids(account: Account) -> set[int]:
    return set(
        db.session.scalars(
            select(AccountPlatformSync.platform_id).where(
                AccountPlatformSync.account_id == account.id,
                AccountPlatformSync.organization_id == account.organization_id,
                AccountPlatformSync.status == SyncStatus.SYNCED_AS_RESELLER,
                # A sync that happened: with the remote reference and when.
                AccountPlatformSync.external_reference != "",
                AccountPlatformSync.synced_at.is_not(None),
            )
        )
    )


def _platform_counts(organization_id: int) -> dict[int, dict[int, int]]:
    """{price_list_id: {platform_id: product count}} in one grouped query."""
    rows = db.session.execute(
        select(PriceListItem.price_list_id, Product.platform_id, func.count())
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.organization_id == organization_id)
        .group_by(PriceListItem.price_list_id, Product.platform_id)
    )
    counts: dict[int, dict[int, int]] = {}
    for price_list_id, platform_id, count in rows:
        counts.setdefault(price_list_id, {})[platform_id] = count
    return counts


@dataclass
class _Shared:
    """What the checklist reads that is the same for every account of an organization."""

    platforms: dict[int, ProvisioningPlatform]
    counts: dict[int, dict[int, int]]
    price_lists: list[PriceList]

    @classmethod
    def load(cls, organization_id: int) -> _Shared:
        return cls(
            {p.id: p for p in db.session.scalars(select(ProvisioningPlatform))},
            _platform_counts(organization_id),
            list(db.session.scalars(PriceList.in_org(organization_id).order_by(PriceList.name))),
        )


def evaluate(account: Account, price_list_id: int | None = None) -> Readiness:
    """Run the preparation checklist for one account, optionally for one chosen price list."""
    org_id = account.organization_id
    tenant = db.session.scalar(
        select(TenantReseller).where(
            TenantReseller.account_id == account.id, TenantReseller.organization_id == org_id
        )
    )
    return _evaluate(
        account, price_list_id, tenant, _synced_platform_ids(account), _Shared.load(org_id)
    )


def evaluate_many(accounts: list[Account]) -> dict[int, Readiness]:
    """The checklist of a whole page of accounts (one organization's) in a fixed number of
    queries, whatever the number of accounts: {account id: Readiness}."""
    if not accounts:
        return {}
    org_id = accounts[0].organization_id
    ids = [a.id for a in accounts]
    tenants = {
        t.account_id: t
        for t in db.session.scalars(
            select(TenantReseller).where(
                TenantReseller.organization_id == org_id, TenantReseller.account_id.in_(ids)
            )
        )
    }
    synced: dict[int, set[int]] = {}
    for account_id, platform_id in db.session.execute(
        select(AccountPlatformSync.account_id, AccountPlatformSync.platform_id).where(
            AccountPlatformSync.organization_id == org_id,
            AccountPlatformSync.account_id.in_(ids),
            AccountPlatformSync.status == SyncStatus.SYNCED_AS_RESELLER,
        )
    ):
        synced.setdefault(account_id, set()).add(platform_id)
    shared = _Shared.load(org_id)
    return {
        a.id: _evaluate(a, None, tenants.get(a.id), synced.get(a.id, set()), shared)
        for a in accounts
    }


def _evaluate(
    account: Account,
    price_list_id: int | None,
    tenant: TenantReseller | None,
    synced: set[int],
    shared: _Shared,
) -> Readiness:
    platforms, counts = shared.platforms, shared.counts
    checks: list[PriceListCheck] = []
    for pl in shared.price_lists:
        per_platform = counts.get(pl.id, {})
        total = sum(per_platform.values())
        exclusions = []
        if not pl.active:
            exclusions.append("it is not active")
        if total == 0:
            exclusions.append("it has no products")
        if pl.currency != account.billing_currency:
            exclusions.append(
                f"it is in {pl.currency}, the account is billed in {account.billing_currency}"
            )
        platform_checks = [
            PlatformCheck(platforms[pid], n, pid in synced)
            for pid, n in sorted(per_platform.items(), key=lambda kv: platforms[kv[0]].name)
        ]
        checks.append(PriceListCheck(pl, total, exclusions, platform_checks))

    chosen = None
    if price_list_id is not None:
        chosen = next((c for c in checks if c.price_list.id == price_list_id), None)
    if chosen is None:
        # Default to the ready list with the most products: the reseller can resell the most.
        ready = sorted((c for c in checks if c.ready), key=lambda c: -c.product_count)
        eligible = sorted((c for c in checks if c.eligible), key=lambda c: -c.product_count)
        chosen = (ready or eligible or [None])[0]

    items = [_reseller_item(account), _ordering_item(account), _price_list_item(account, checks)]
    items.append(_sync_item(chosen))
    return Readiness(account, tenant, checks, chosen, items)


def _reseller_item(account: Account) -> CheckItem:
    if account.can_become_tenant:
        return CheckItem("reseller", "The account is a reseller", True, f"{account.kind_label}.")
    return CheckItem(
        "reseller",
        "The account is a reseller",
        False,
        "This account is a customer; only reseller accounts can become tenant resellers.",
    )


def _ordering_item(account: Account) -> CheckItem:
    if account.enabled_for_ordering:
        return CheckItem(
            "ordering", "Enabled for ordering", True, "The account is enabled for ordering."
        )
    return CheckItem(
        "ordering",
        "Enabled for ordering",
        False,
        "The account is not enabled for ordering.",
        "Enable ordering on this account",
        "account",
    )


def _price_list_item(account: Account, checks: list[PriceListCheck]) -> CheckItem:
    eligible = [c for c in checks if c.eligible]
    label = f"An active price list with products in {account.billing_currency}"
    if eligible:
        names = ", ".join(c.price_list.name for c in eligible)
        return CheckItem("price_list", label, True, f"Eligible: {names}.")
    return CheckItem(
        "price_list",
        label,
        False,
        f"No active price list with products is in {account.billing_currency}, "
        "the currency the account is billed in.",
        f"Create a new price list in {account.billing_currency}",
        "price_lists",
    )


def _sync_item(chosen: PriceListCheck | None) -> CheckItem:
    label = "Synced with the provisioning platforms"
    if chosen is None:
        return CheckItem(
            label=label,
            key="sync",
            passed=False,
            reason="There is no eligible price list to check platforms for.",
        )
    missing = chosen.missing_syncs
    if not missing:
        return CheckItem(
            "sync", label, True, f"Every platform in {chosen.price_list.name} is ready."
        )
    names = ", ".join(p.platform.name for p in missing)
    return CheckItem(
        "sync",
        label,
        False,
        f"With {chosen.price_list.name}, the account must be synced as reseller in: {names}.",
        "Record the platform sync",
        "sync",
    )
