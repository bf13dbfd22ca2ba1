"""Starting the upgrade of a lite reseller that is now a tenant reseller."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import Account, Process, TenantReseller, TenantStatus, User
from webapp.services import audit
from webapp.services.processes import ProcessKind, ProcessRefused, lifecycle
from webapp.services.processes.upgrade_steps import UPGRADE_STEPS

UpgradeRefused = ProcessRefused


def can_upgrade(tenant: TenantReseller) -> bool:
    account = db.session.get(Account, tenant.account_id)
    return (
        tenant.status == TenantStatus.ACTIVE
        and (tenant.was_lite_reseller or account.is_lite_reseller)
        and not tenant.back_ordering_active
    )


def start(tenant: TenantReseller, actor: User | None) -> Process:
    """Queue the upgrade: copy customers, transfer subscriptions, activate back-ordering."""
    if not can_upgrade(tenant):
        raise UpgradeRefused(
            "Only an Active tenant reseller that was a lite reseller, with back-ordering not "
            "yet active, can be upgraded."
        )
    account = db.session.get(Account, tenant.account_id)
    process = lifecycle.prepare(
        ProcessKind.LITE_UPGRADE,
        organization_id=tenant.organization_id,
        name=f"Upgrade lite reseller — {account.name}",
        steps=UPGRADE_STEPS,
        actor=actor,
        tenant=tenant,
    )
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action="tenant_reseller.lite_upgrade",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary="Upgrade from lite reseller requested",
        process_id=process.id,
    )
    lifecycle.start(process)
    return process
