"""Starting an Update Tenant: the distributor's price list changes reach an Active tenant.

One transaction makes the Process (kind "update_tenant") and its tasks; commit, then
enqueue. The tenant row is locked by a conditional UPDATE first, so two staff members
clicking at once make one process, and the Active check and the "nothing unfinished"
check hold when it commits."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from jobs.queueing import enqueue_process
from jobs.update_steps import FULL, PARTIAL, UPDATE_KIND, steps_for
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

MODES = {FULL: "Full", PARTIAL: "Partial"}


@dataclass
class UpdateRequest:
    """What the form (or the CLI) asks for."""

    mode: str
    overwrite_sell_prices: bool = False
    overwrite_names: bool = False

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


def unfinished_process(tenant: TenantReseller) -> Process | None:
    return db.session.scalar(
        select(Process)
        .where(
            Process.tenant_reseller_id == tenant.id,
            Process.status.in_([ProcessStatus.QUEUED, ProcessStatus.RUNNING]),
        )
        .order_by(Process.id)
        .limit(1)
    )


def not_active_reason(tenant: TenantReseller) -> str:
    return (
        f"{tenant.account.name} is {tenant.status}: only an Active tenant reseller can be updated."
    )


def busy_reason(busy: Process) -> str:
    return (
        f"{busy.name} is still {busy.status.lower()}. A tenant reseller runs one process at a "
        "time: start the update when it has finished."
    )


def availability(tenant: TenantReseller) -> tuple[str, Process | None]:
    """("", None) when an update can start now; else why not, and the process in the way."""
    if tenant.status != TenantStatus.ACTIVE or tenant.tenant_organization_id is None:
        return not_active_reason(tenant), None
    busy = unfinished_process(tenant)
    if busy is not None:
        return busy_reason(busy), busy
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
    # Lock the tenant row while it is Active: a concurrent start waits here until we commit,
    # then sees our process as unfinished.
    locked = db.session.execute(
        update(TenantReseller)
        .where(
            TenantReseller.id == tenant.id,
            TenantReseller.status == TenantStatus.ACTIVE,
            TenantReseller.tenant_organization_id.is_not(None),
        )
        .values(status=TenantStatus.ACTIVE)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not locked:
        db.session.rollback()
        db.session.refresh(tenant)
        return UpdateResult(refused=not_active_reason(tenant))
    if (busy := unfinished_process(tenant)) is not None:
        db.session.rollback()
        return UpdateResult(refused=busy_reason(busy), busy=busy)

    account = db.session.get(Account, tenant.account_id)
    process = Process(
        organization_id=organization_id,
        kind=UPDATE_KIND,
        name=process_name(req.mode, account),
        tenant_reseller_id=tenant.id,
        created_by_id=actor.id if actor else None,
        attempt_limit=current_app.config["PROCESS_MAX_ATTEMPTS"],
        params={**req.params, "price_list_id": tenant.price_list_id},
    )
    process.tasks = [
        ProcessTask(position=i, step=step.key, title=step.title)
        for i, step in enumerate(
            steps_for(req.mode, req.overwrite_sell_prices, req.overwrite_names), start=1
        )
    ]
    db.session.add(process)
    db.session.flush()
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
    db.session.commit()
    # Commit, then enqueue: the worker must find the rows the job points at.
    enqueued = enqueue_process(process.id) is not None
    return UpdateResult(process=process, enqueued=enqueued)
