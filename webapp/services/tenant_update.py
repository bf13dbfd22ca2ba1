"""Starting an Update Tenant: the distributor's price list changes reach an Active tenant.

One transaction makes the Process (kind "update_tenant") and its tasks; commit, then
enqueue. A tenant reseller runs one process at a time (the process engine's lock), so two
staff members clicking at once make one process."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.extensions import db
from webapp.models import Account, Process, TenantReseller, TenantStatus, User
from webapp.services import audit
from webapp.services.catalog import RangeChoice
from webapp.services.processes import ProcessKind, ProcessRefused, lifecycle
from webapp.services.processes.update_steps import FULL, PARTIAL, steps_for

MODES = {FULL: "Full", PARTIAL: "Partial"}


@dataclass
class UpdateRequest:
    """What the form (or the CLI) asks for."""

    mode: str
    overwrite_sell_prices: bool = False
    overwrite_names: bool = False
    # A new range of products inherited, checked by catalog.read_range (None: keep it).
    range: RangeChoice | None = None

    @property
    def params(self) -> dict:
        return {
            "mode": self.mode,
            "overwrite_sell_prices": self.overwrite_sell_prices,
            "overwrite_names": self.overwrite_names,
        }


@dataclass
class UpdateResult:
    process: Process | None = None
    enqueued: bool = False
    refused: str = ""  # why nothing was started, for the person who asked
    busy: Process | None = None  # the unfinished process that is in the way


def not_active_reason(tenant: TenantReseller) -> str:
    return (
        f"{tenant.account.name} is {tenant.status}: only an Active tenant reseller can be updated."
    )


def availability(tenant: TenantReseller) -> tuple[str, Process | None]:
    """("", None) when an update can start now; else why not, and the process in the way."""
    if tenant.status != TenantStatus.ACTIVE or tenant.tenant_organization_id is None:
        return not_active_reason(tenant), None
    busy = lifecycle.unfinished_for(tenant)
    if busy is not None:
        return lifecycle.busy_reason(busy), busy
    return "", None


def process_name(mode: str, account: Account) -> str:
    return f"Update Tenant ({MODES[mode]}) — {account.name}"


def start(
    organization_id: int, tenant_id: int, actor: User | None, req: UpdateRequest
) -> UpdateResult:
    """Queue an update of this organization's tenant reseller, or say why not."""
    if req.mode not in MODES:
        return UpdateResult(refused="Choose Full or Partial.")
    tenant = db.session.scalar(
        TenantReseller.in_org(organization_id).where(TenantReseller.id == tenant_id)
    )
    if tenant is None:
        return UpdateResult(refused="The tenant reseller does not exist.")
    if tenant.status != TenantStatus.ACTIVE or tenant.tenant_organization_id is None:
        return UpdateResult(refused=not_active_reason(tenant))
    account = db.session.get(Account, tenant.account_id)
    if req.range is not None:
        if req.range.error:
            return UpdateResult(refused=req.range.error)
        _set_range(tenant, account, actor, req.range)
    try:
        process = lifecycle.prepare(
            ProcessKind.UPDATE,
            organization_id=organization_id,
            name=process_name(req.mode, account),
            steps=steps_for(req.mode, req.overwrite_sell_prices, req.overwrite_names),
            actor=actor,
            tenant=tenant,
            params={**req.params, "price_list_id": tenant.price_list_id},
        )
    except ProcessRefused as refused:
        return UpdateResult(refused=str(refused), busy=refused.busy)
    options = [
        label
        for label, on in (
            ("overwrite sell prices", req.overwrite_sell_prices),
            ("overwrite product names", req.overwrite_names),
        )
        if on
    ]
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="tenant_reseller.update_requested",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary=f"{MODES[req.mode]} update of {account.name} requested"
        + (f" ({', '.join(options)})" if options else ""),
        after=process.params,
        process_id=process.id,
    )
    try:
        launched = lifecycle.start(process)  # commit, then enqueue
    except ProcessRefused as refused:
        return UpdateResult(refused=str(refused), busy=refused.busy)
    return UpdateResult(process=process, enqueued=launched.enqueued)


@dataclass
class PendingChanges:
    """What an Update Tenant would transfer now, counted live from the price list."""

    new: int
    changed: int
    retired: int

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.retired)


def pending_changes(tenant: TenantReseller) -> PendingChanges | None:
    """Counts of new, changed and retired products between the tenant's price list and its
    copies; None when the tenant has no organization yet."""
    from webapp.models import PriceList
    from webapp.services.processes.batches import count
    from webapp.services.processes.update_steps import Scope

    if tenant.tenant_organization_id is None:
        return None
    price_list = db.session.get(PriceList, tenant.price_list_id)
    if price_list is None:
        return None
    scope = Scope(
        tenant_org_id=tenant.tenant_organization_id,
        price_list_id=price_list.id,
        price_list_name=price_list.name,
        currency=price_list.currency,
        full=True,
        overwrite_sell_prices=False,
        overwrite_names=False,
        platform_ids=tuple(tenant.range_platform_ids) if tenant.range_platform_ids else None,
        categories=tuple(tenant.range_categories) if tenant.range_categories else None,
    )
    return PendingChanges(
        new=count(scope.new_items()),
        changed=count(scope.price_changes()),
        retired=count(scope.gone()),
    )


def _set_range(tenant: TenantReseller, account: Account, actor, choice: RangeChoice) -> None:
    """Store a changed range on the tenant (audited); the update about to run respects it."""
    before = {"platforms": tenant.range_platform_ids, "categories": tenant.range_categories}
    after = {"platforms": choice.platform_ids, "categories": choice.category_names}
    if before == after:
        return
    tenant.range_platform_ids = choice.platform_ids
    tenant.range_categories = choice.category_names
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action="tenant_reseller.range",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary=f"Range of products inherited by {account.name} changed "
        f"({choice.count:,} products)",
        before=before,
        after=after,
    )
