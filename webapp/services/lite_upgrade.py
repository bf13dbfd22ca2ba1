"""Starting the upgrade of a lite reseller that is now a tenant reseller."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from jobs.queueing import enqueue_process
from jobs.upgrade_steps import UPGRADE_STEPS
from webapp.extensions import db
from webapp.models import (
    Account,
    Process,
    ProcessStatus,
    ProcessTask,
    TenantReseller,
    TenantStatus,
    User,
)
from webapp.services import audit


class UpgradeRefused(Exception):
    pass


def can_upgrade(tenant: TenantReseller) -> bool:
    account = db.session.get(Account, tenant.account_id)
    return (
        tenant.status == TenantStatus.ACTIVE
        and (tenant.was_lite_reseller or account.is_lite_reseller)
        and not tenant.back_ordering_active
    )


def unfinished_process(tenant: TenantReseller) -> Process | None:
    return db.session.scalar(
        select(Process).where(
            Process.tenant_reseller_id == tenant.id,
            Process.status.in_([ProcessStatus.QUEUED, ProcessStatus.RUNNING]),
        )
    )


def start(tenant: TenantReseller, actor: User | None) -> Process:
    """Queue the upgrade: copy customers, transfer subscriptions, activate back-ordering."""
    if not can_upgrade(tenant):
        raise UpgradeRefused(
            "Only an Active tenant reseller that was a lite reseller, with back-ordering not "
            "yet active, can be upgraded."
        )
    if (busy := unfinished_process(tenant)) is not None:
        raise UpgradeRefused(f"{busy.name} is still {busy.status.lower()}; wait for it to finish.")
    account = db.session.get(Account, tenant.account_id)
    process = Process(
        organization_id=tenant.organization_id,
        kind="upgrade_lite",
        name=f"Upgrade lite reseller — {account.name}",
        tenant_reseller_id=tenant.id,
        created_by_id=actor.id if actor else None,
        attempt_limit=current_app.config["PROCESS_MAX_ATTEMPTS"],
    )
    process.tasks = [
        ProcessTask(position=i, step=step.key, title=step.title)
        for i, step in enumerate(UPGRADE_STEPS, start=1)
    ]
    db.session.add(process)
    db.session.flush()
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action="tenant_reseller.lite_upgrade",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary="Upgrade from lite reseller requested",
        process_id=process.id,
    )
    db.session.commit()
    enqueue_process(process.id)
    return process
