"""Staff actions on a process: Retry, Resume, Cancel, Stop, Clean up, Mark as failed.

Each is one conditional UPDATE on the process row (so two clicks, two staff members or a
worker racing with the click cannot both win), audit-logged in the same transaction, and
refused with a message a person can act on when the process is no longer in that state."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from jobs.queueing import enqueue_process
from webapp.extensions import db
from webapp.models import (
    AuditLog,
    Notification,
    Organization,
    OrgStatus,
    OutboxEmail,
    PlatformSetting,
    PriceList,
    PriceListItem,
    Process,
    ProcessStatus,
    ProcessTask,
    Product,
    Storefront,
    TaskStatus,
    TenantReseller,
    TenantStatus,
    User,
    utcnow,
)
from webapp.services import audit
from webapp.services.notifications import notify_finished


class ActionRefused(Exception):
    """The action does not apply to the process as it is now; the message says why."""


def _stuck(process: Process) -> bool:
    """Running without a heartbeat for a while, or Queued for a while: an admin may fail it."""
    limit = utcnow() - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
    if process.status == ProcessStatus.RUNNING:
        return process.heartbeat_at is None or process.heartbeat_at < limit
    return process.status == ProcessStatus.QUEUED and process.created_at < limit


def available_actions(process: Process, user: User) -> list[str]:
    """The buttons to show: only actions that can succeed now."""
    actions = []
    cleaned = process.tenant_reseller_id is None
    creation = process.kind == "create_tenant_reseller"
    if process.status == ProcessStatus.FAILED and not cleaned:
        actions += ["retry", "cleanup"] if creation else ["retry"]
    elif process.status == ProcessStatus.CANCELLED and not cleaned:
        actions += ["resume", "cleanup"] if creation else ["resume"]
    elif process.status == ProcessStatus.QUEUED:
        actions.append("cancel")
    elif process.status == ProcessStatus.RUNNING and not process.cancel_requested:
        actions.append("stop")
    active = process.status in (ProcessStatus.QUEUED, ProcessStatus.RUNNING)
    if user.is_admin and active and _stuck(process):
        actions.append("mark_failed")
    return actions


def _log(process: Process, actor: User, action: str, summary: str) -> None:
    audit.record(
        organization_id=process.organization_id,
        actor=actor,
        action=f"process.{action}",
        entity_type="tenant_reseller",
        entity_id=process.tenant_reseller_id,
        summary=summary,
        process_id=process.id,
    )


def _set_tenant(process: Process, tenant_status: str, org_status: str) -> None:
    if process.kind != "create_tenant_reseller":
        return  # only a creation's outcome is the tenant's status
    tenant = (
        db.session.get(TenantReseller, process.tenant_reseller_id)
        if process.tenant_reseller_id
        else None
    )
    if tenant is None:
        return
    tenant.status = tenant_status
    if tenant.tenant_organization_id:
        db.session.get(Organization, tenant.tenant_organization_id).status = org_status


def restart(process: Process, actor: User, from_status: str) -> str | None:
    """Retry (from Failed) or Resume (from Cancelled): completed tasks stay Completed; the
    failed or stopped task and those after it run again. Returns the new job id."""
    if process.tenant_reseller_id is None:
        raise ActionRefused("This process was cleaned up; start a new creation instead.")
    changed = db.session.execute(
        update(Process)
        .where(Process.id == process.id, Process.status == from_status)
        .values(
            status=ProcessStatus.QUEUED,
            finished_at=None,
            message="",
            runner_token=None,
            cancel_requested=False,
            attempt_limit=Process.attempts + current_app.config["PROCESS_MAX_ATTEMPTS"],
        )
    ).rowcount
    if not changed:
        db.session.rollback()
        raise ActionRefused(f"The process is no longer {from_status.lower()}; reload the page.")
    db.session.execute(
        update(ProcessTask)
        .where(
            ProcessTask.process_id == process.id,
            ProcessTask.status.in_([TaskStatus.FAILED, TaskStatus.SKIPPED, TaskStatus.RUNNING]),
        )
        .values(status=TaskStatus.PENDING, finished_at=None, message="")
    )
    _set_tenant(process, TenantStatus.IN_PROGRESS, OrgStatus.IN_PROGRESS)
    verb = "retry" if from_status == ProcessStatus.FAILED else "resume"
    _log(process, actor, verb, f"{verb.capitalize()} requested by {actor.username}")
    db.session.commit()
    return enqueue_process(process.id)


def retry(process: Process, actor: User) -> str | None:
    return restart(process, actor, ProcessStatus.FAILED)


def resume(process: Process, actor: User) -> str | None:
    return restart(process, actor, ProcessStatus.CANCELLED)


def cancel(process: Process, actor: User) -> None:
    """Cancel a Queued process; if a worker has just claimed it, say so instead."""
    changed = db.session.execute(
        update(Process)
        .where(Process.id == process.id, Process.status == ProcessStatus.QUEUED)
        .values(
            status=ProcessStatus.CANCELLED,
            finished_at=utcnow(),
            message=f"Cancelled by {actor.username} before it started.",
        )
    ).rowcount
    if not changed:
        db.session.rollback()
        db.session.refresh(process)
        if process.status == ProcessStatus.RUNNING:
            raise ActionRefused(
                "A worker has just started this process, so it can no longer be cancelled. "
                "Use Stop to end it at the next safe point."
            )
        raise ActionRefused(f"The process is {process.status}; it can no longer be cancelled.")
    db.session.execute(
        update(ProcessTask)
        .where(ProcessTask.process_id == process.id, ProcessTask.status == TaskStatus.PENDING)
        .values(status=TaskStatus.SKIPPED, message="Skipped because the process was cancelled.")
    )
    _set_tenant(process, TenantStatus.CANCELLED, OrgStatus.FAILED)
    _log(process, actor, "cancel", f"Cancelled by {actor.username}")
    db.session.commit()


def stop(process: Process, actor: User) -> None:
    """Ask a Running process to stop at its next safe point (between batches or tasks)."""
    changed = db.session.execute(
        update(Process)
        .where(
            Process.id == process.id,
            Process.status == ProcessStatus.RUNNING,
            Process.cancel_requested.is_(False),
        )
        .values(cancel_requested=True)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise ActionRefused("The process is not running (or a stop was already requested).")
    _log(process, actor, "stop", f"Stop requested by {actor.username}")
    db.session.commit()


def mark_failed(process: Process, actor: User) -> None:
    """Admin only: end a stuck process as Failed; a worker still holding it loses its claim."""
    if not actor.is_admin:
        raise ActionRefused("Only an administrator can mark a process as failed.")
    message = f"Marked as failed by {actor.username} because it was stuck."
    now = utcnow()
    changed = db.session.execute(
        update(Process)
        .where(
            Process.id == process.id,
            Process.status.in_([ProcessStatus.QUEUED, ProcessStatus.RUNNING]),
        )
        .values(status=ProcessStatus.FAILED, finished_at=now, message=message, runner_token=None)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise ActionRefused("The process has already finished.")
    db.session.execute(
        update(ProcessTask)
        .where(ProcessTask.process_id == process.id, ProcessTask.status == TaskStatus.RUNNING)
        .values(status=TaskStatus.FAILED, finished_at=now, message=message)
    )
    db.session.execute(
        update(ProcessTask)
        .where(ProcessTask.process_id == process.id, ProcessTask.status == TaskStatus.PENDING)
        .values(status=TaskStatus.SKIPPED, message="Skipped because an earlier task failed.")
    )
    _set_tenant(process, TenantStatus.FAILED, OrgStatus.FAILED)
    _log(process, actor, "mark_failed", message)
    notify_finished(process, "Failed", message)
    db.session.commit()


def cleanup(process: Process, actor: User) -> None:
    """Remove what a Failed or Cancelled creation made, so the account can start again.

    The process and its audit trail stay as history."""
    if process.status not in (ProcessStatus.FAILED, ProcessStatus.CANCELLED) or (
        process.kind != "create_tenant_reseller"
    ):
        raise ActionRefused("Only a failed or cancelled creation can be cleaned up.")
    tenant = (
        db.session.get(TenantReseller, process.tenant_reseller_id)
        if process.tenant_reseller_id
        else None
    )
    if tenant is None:
        raise ActionRefused("This creation was already cleaned up.")
    busy = db.session.scalar(
        select(Process.id).where(
            Process.tenant_reseller_id == tenant.id,
            Process.status.in_([ProcessStatus.QUEUED, ProcessStatus.RUNNING]),
        )
    )
    if busy is not None:
        raise ActionRefused("Another process of this tenant reseller is still running.")
    account_name = tenant.account.name
    org_id = tenant.tenant_organization_id
    if org_id is not None:
        for model in (
            PriceListItem,
            PriceList,
            Product,
            PlatformSetting,
            Storefront,
            Notification,
            OutboxEmail,
            AuditLog,
            User,
        ):
            db.session.execute(delete(model).where(model.organization_id == org_id))
    if org_id is not None:
        removed = "the tenant organization, its users, products and storefront were removed."
    else:
        removed = "nothing had been created yet."
    db.session.execute(
        update(Process)
        .where(Process.tenant_reseller_id == tenant.id)
        .values(tenant_reseller_id=None, message=f"Cleaned up by {actor.username}: {removed}")
    )
    audit.record(
        organization_id=process.organization_id,
        actor=actor,
        action="tenant_reseller.cleanup",
        entity_type="account",
        entity_id=tenant.account_id,
        summary=f"Failed creation of {account_name} cleaned up; the account can start again.",
        process_id=process.id,
    )
    db.session.delete(tenant)
    db.session.flush()
    if org_id is not None:
        db.session.execute(delete(Organization).where(Organization.id == org_id))
    db.session.commit()
