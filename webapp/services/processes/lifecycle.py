"""A process's whole life, in one place: launch, claim, task start and completion, and every
ending (complete, fail, give up, cancel, stop, mark as failed), restart (retry, resume) and
clean up. The runner, the reaper, staff actions, the CLI and the API all come through here.

Each outcome does the same four things: a conditional UPDATE of the process row (so that a
worker racing with a click, two clicks or two staff members cannot both win), the task rows,
the audit record, and the notification — whose email is put on the queue only after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import (
    AuditLog,
    Notification,
    OneTimeToken,
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
    Role,
    Storefront,
    TaskStatus,
    TenantReseller,
    TenantStatus,
    User,
    utcnow,
)
from webapp.services import audit, mail, metric_totals
from webapp.services.processes.errors import ProcessRefused
from webapp.services.processes.kinds import ProcessKind
from webapp.services.processes.step import Step

log = logging.getLogger(__name__)

ACTIVE = (ProcessStatus.QUEUED, ProcessStatus.RUNNING)

QUEUE_DOWN_MESSAGE = (
    "The queue is not reachable right now. The process is saved as Queued and will start "
    "by itself as soon as the queue is back; nothing is lost."
)
SKIPPED_AFTER_FAILURE = "Skipped because an earlier task failed."


# --- Launching ----------------------------------------------------------------------------


@dataclass
class Launched:
    process: Process
    enqueued: bool


def lock_key_for_tenant(tenant: TenantReseller) -> str:
    return f"tenant:{tenant.id}"


def unfinished(lock_key: str) -> Process | None:
    """The Queued or Running process that holds this lock, if any."""
    return db.session.scalar(
        select(Process)
        .where(Process.lock_key == lock_key, Process.status.in_(ACTIVE))
        .order_by(Process.id)
        .limit(1)
    )


def unfinished_for(tenant: TenantReseller) -> Process | None:
    return unfinished(lock_key_for_tenant(tenant))


def busy_reason(busy: Process) -> str:
    if busy.tenant_reseller_id is not None:
        rule = "A tenant reseller runs one process at a time"
    else:
        rule = "The same work cannot run twice at once"
    return f"{busy.name} is still {busy.status.lower()}. {rule}: start this when it has finished."


def prepare(
    kind: ProcessKind,
    *,
    organization_id: int,
    name: str,
    steps: list[Step],
    actor: User | None = None,
    tenant: TenantReseller | None = None,
    lock_key: str | None = None,
    params: dict | None = None,
) -> Process:
    """Add a Queued process and its Pending tasks to the current transaction (flushed, not
    committed), so that the caller can audit it with its id. A process of a tenant reseller
    locks the tenant; `lock_key` locks another subject. ProcessRefused when the subject
    already has an unfinished process (the database's unique index decides)."""
    key = lock_key or (lock_key_for_tenant(tenant) if tenant is not None else None)
    if key is not None and (busy := unfinished(key)) is not None:
        db.session.rollback()
        raise ProcessRefused(busy_reason(busy), busy=busy)
    process = Process(
        organization_id=organization_id,
        kind=ProcessKind(kind).value,
        name=name[:250],
        tenant_reseller_id=tenant.id if tenant is not None else None,
        created_by_id=actor.id if actor is not None else None,
        attempt_limit=current_app.config["PROCESS_MAX_ATTEMPTS"],
        params=params or {},
        lock_key=key,
    )
    process.tasks = [
        ProcessTask(position=i, step=step.key, title=step.title, state={})
        for i, step in enumerate(steps, start=1)
    ]
    db.session.add(process)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        busy = unfinished(key) if key else None
        if busy is None:
            raise
        raise ProcessRefused(busy_reason(busy), busy=busy) from None
    return process


def start(process: Process) -> Launched:
    """Commit, then enqueue: the worker must find the rows its job points at. If the queue is
    down the process stays Queued (with a message) and the reaper enqueues it later."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        busy = unfinished(process.lock_key) if process.lock_key else None
        if busy is None:
            raise
        raise ProcessRefused(busy_reason(busy), busy=busy) from None
    return Launched(process, enqueue(process.id))


def launch(kind: ProcessKind, **values) -> Launched:
    """prepare() and start() for a caller with nothing else to add to the transaction."""
    return start(prepare(kind, **values))


def enqueue(process_id: int) -> bool:
    """Put the next attempt of a committed process on the queue; False if Redis is down."""
    from jobs.queueing import enqueue_process

    return enqueue_process(process_id) is not None


# --- Claiming and running ---------------------------------------------------------------------


def claim(process_id: int, token: str) -> bool:
    """Take the process if it is Queued, or Running with a stale heartbeat (its job died).

    A single conditional UPDATE: two jobs for the same process cannot both win."""
    now = utcnow()
    stale_before = now - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
    claimed = db.session.execute(
        update(Process)
        .where(
            Process.id == process_id,
            or_(
                Process.status == ProcessStatus.QUEUED,
                (Process.status == ProcessStatus.RUNNING)
                & or_(Process.heartbeat_at.is_(None), Process.heartbeat_at < stale_before),
            ),
        )
        .values(status=ProcessStatus.RUNNING, runner_token=token, heartbeat_at=now)
    ).rowcount
    if claimed:
        db.session.execute(
            update(Process)
            .where(Process.id == process_id, Process.started_at.is_(None))
            .values(started_at=now)
        )
    db.session.commit()
    return claimed == 1


def start_task(task: ProcessTask) -> None:
    """Running, keeping the first start time of a task that runs again after a crash."""
    task.status = TaskStatus.RUNNING
    task.started_at = task.started_at or utcnow()


def complete_task(process: Process, task: ProcessTask, message: str) -> None:
    """Completed with the step's message, audited; the caller's commit lands it together with
    the step's last work."""
    task.status = TaskStatus.COMPLETED
    task.finished_at = utcnow()
    task.message = message
    if task.items_total == 0:
        task.items_done = task.items_total = 1
    if task.started_at is not None:
        metric_totals.record_task_duration(
            task.step, (task.finished_at - task.started_at).total_seconds()
        )
    _audit(process, None, "process.task_completed", f"{task.title}: {message}")


# --- Endings ----------------------------------------------------------------------------------


def complete(process: Process, token: str) -> bool:
    """Every task done: Completed, audited, the starter told."""
    owned = _transition(
        process,
        Process.runner_token == token,
        status=ProcessStatus.COMPLETED,
        message="",
    )
    if not owned:
        return False
    _audit(process, None, "process.completed", f"{process.name}: completed")
    emails = _notify(process, "Completed")
    if process.kind == ProcessKind.CREATION and process.tenant_reseller_id is not None:
        from webapp.services.accounts import welcome_tenant_admin

        welcome = welcome_tenant_admin(db.session.get(TenantReseller, process.tenant_reseller_id))
        if welcome is not None:
            emails.append(welcome)
    return _commit_and_send(emails)


def fail(
    process: Process,
    message: str,
    *,
    task: ProcessTask | None = None,
    token: str | None = None,
    actor: User | None = None,
    action: str = "process.failed",
) -> bool:
    """Failed with a message for people: by its runner (`token`, the failing `task`), by the
    reaper giving up, or by an administrator (`actor`). Tasks after the failure are Skipped;
    a failed creation makes the tenant reseller Failed; the starter (or, for a process nobody
    started from the app, the organization's administrators) is told."""
    db.session.rollback()  # whatever the failing step left half-done is not committed
    guard = Process.runner_token == token if token else Process.status.in_(ACTIVE)
    if not _transition(
        process, guard, status=ProcessStatus.FAILED, message=message, runner_token=None
    ):
        return False
    now = utcnow()
    failed_tasks = (
        ProcessTask.id == task.id if task is not None else ProcessTask.status == TaskStatus.RUNNING
    )
    db.session.execute(
        update(ProcessTask)
        .where(ProcessTask.process_id == process.id, failed_tasks)
        .values(status=TaskStatus.FAILED, finished_at=now, message=message)
    )
    _skip_pending(process, SKIPPED_AFTER_FAILURE, also_running=False)
    set_tenant_outcome(process, TenantStatus.FAILED, OrgStatus.FAILED)
    summary = f"{task.title} failed: {message}" if task is not None else message
    _audit(process, actor, action, summary)
    emails = _notify(process, "Failed", message, admins_if_nobody=True)
    return _commit_and_send(emails)


def give_up(process: Process) -> bool:
    """Bounded attempts: after the last one, the reaper fails the process with a clear
    message (and so the tenant reseller, for a creation, and the starter is told)."""
    message = (
        f"The process was started {process.attempts} times and its worker stopped each time "
        "before it finished. Check the workers (Queue health), then Retry."
    )
    return fail(process, message, action="process.gave_up")


def mark_failed(process: Process, actor: User) -> None:
    """Admin only: end a stuck process as Failed; a worker still holding it loses its claim."""
    if not actor.is_admin:
        raise ProcessRefused("Only an administrator can mark a process as failed.")
    message = f"Marked as failed by {actor.username} because it was stuck."
    if not fail(process, message, actor=actor, action="process.mark_failed"):
        raise ProcessRefused("The process has already finished.")


def cancel(process: Process, actor: User) -> None:
    """Cancel a Queued process; if a worker has just claimed it, say so instead."""
    changed = _transition(
        process,
        Process.status == ProcessStatus.QUEUED,
        status=ProcessStatus.CANCELLED,
        message=f"Cancelled by {actor.username} before it started.",
    )
    if not changed:
        db.session.refresh(process)
        if process.status == ProcessStatus.RUNNING:
            raise ProcessRefused(
                "A worker has just started this process, so it can no longer be cancelled. "
                "Use Stop to end it at the next safe point."
            )
        raise ProcessRefused(f"The process is {process.status}; it can no longer be cancelled.")
    _skip_pending(process, "Skipped because the process was cancelled.", also_running=False)
    set_tenant_outcome(process, TenantStatus.CANCELLED, OrgStatus.FAILED)
    _audit(process, actor, "process.cancel", f"Cancelled by {actor.username}")
    emails = _notify(process, "Cancelled", f"Cancelled by {actor.username}.", skip_user=actor)
    _commit_and_send(emails)


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
        raise ProcessRefused("The process is not running (or a stop was already requested).")
    _audit(process, actor, "process.stop", f"Stop requested by {actor.username}")
    db.session.commit()


def finish_stopped(process: Process, task: ProcessTask, token: str) -> bool:
    """The runner reached a safe point after a Stop: Cancelled, the rest Skipped."""
    db.session.rollback()
    if not _transition(
        process,
        Process.runner_token == token,
        status=ProcessStatus.CANCELLED,
        message="Stopped by staff.",
    ):
        return False
    _skip_pending(process, "Skipped because the process was stopped.", also_running=True)
    set_tenant_outcome(process, TenantStatus.CANCELLED, OrgStatus.FAILED)
    _audit(process, None, "process.cancelled", f"Stopped before '{task.title}' finished.")
    emails = _notify(process, "Cancelled", "Stopped by staff.")
    return _commit_and_send(emails)


# --- Starting again ---------------------------------------------------------------------------


def restart(process: Process, actor: User, from_status: str) -> bool:
    """Retry (from Failed) or Resume (from Cancelled): completed tasks stay Completed; the
    failed or stopped task and those after it run again. True when it was enqueued."""
    kind = ProcessKind(process.kind)
    if kind == ProcessKind.CREATION and process.tenant_reseller_id is None:
        raise ProcessRefused("This process was cleaned up; start a new creation instead.")
    try:
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
    except IntegrityError:  # the subject has another unfinished process now
        db.session.rollback()
        busy = unfinished(process.lock_key)
        raise ProcessRefused(busy_reason(busy) if busy else "Reload the page.", busy) from None
    if not changed:
        db.session.rollback()
        raise ProcessRefused(f"The process is no longer {from_status.lower()}; reload the page.")
    db.session.execute(
        update(ProcessTask)
        .where(
            ProcessTask.process_id == process.id,
            ProcessTask.status.in_([TaskStatus.FAILED, TaskStatus.SKIPPED, TaskStatus.RUNNING]),
        )
        .values(status=TaskStatus.PENDING, finished_at=None, message="")
    )
    set_tenant_outcome(process, TenantStatus.IN_PROGRESS, OrgStatus.IN_PROGRESS)
    verb = "retry" if from_status == ProcessStatus.FAILED else "resume"
    _audit(process, actor, f"process.{verb}", f"{verb.capitalize()} requested by {actor.username}")
    db.session.commit()
    return enqueue(process.id)


def retry(process: Process, actor: User) -> bool:
    return restart(process, actor, ProcessStatus.FAILED)


def resume(process: Process, actor: User) -> bool:
    return restart(process, actor, ProcessStatus.CANCELLED)


def clean_up(process: Process, actor: User) -> None:
    """Remove what a Failed or Cancelled creation made, so the account can start again.

    The process and its audit trail stay as history."""
    if process.status not in (ProcessStatus.FAILED, ProcessStatus.CANCELLED) or (
        process.kind != ProcessKind.CREATION
    ):
        raise ProcessRefused("Only a failed or cancelled creation can be cleaned up.")
    tenant = (
        db.session.get(TenantReseller, process.tenant_reseller_id)
        if process.tenant_reseller_id
        else None
    )
    if tenant is None:
        raise ProcessRefused("This creation was already cleaned up.")
    if (busy := unfinished_for(tenant)) is not None:
        raise ProcessRefused(busy_reason(busy), busy=busy)
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
            OneTimeToken,
            User,
        ):
            db.session.execute(delete(model).where(model.organization_id == org_id))
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


# --- The tenant reseller's status ---------------------------------------------------------------


def set_tenant_outcome(process: Process, tenant_status: str, org_status: str) -> None:
    """Only a creation's outcome is the tenant reseller's status (a failed update leaves an
    Active tenant Active)."""
    if process.kind != ProcessKind.CREATION or process.tenant_reseller_id is None:
        return
    tenant = db.session.get(TenantReseller, process.tenant_reseller_id)
    if tenant is None:
        return
    tenant.status = tenant_status
    if tenant.tenant_organization_id:
        db.session.get(Organization, tenant.tenant_organization_id).status = org_status


# --- Shared pieces ----------------------------------------------------------------------------


def _transition(process: Process, guard, **values) -> bool:
    """The one conditional UPDATE of every ending; False (and nothing written) when the
    process is no longer in the state the guard expects."""
    values.setdefault("finished_at", utcnow())
    changed = db.session.execute(
        update(Process).where(Process.id == process.id, guard).values(**values)
    ).rowcount
    if not changed:
        db.session.rollback()
        return False
    metric_totals.add(metric_totals.PROCESSES_FINISHED, str(values["status"]), 1)
    return True


def _skip_pending(process: Process, message: str, also_running: bool) -> None:
    statuses = [TaskStatus.PENDING, TaskStatus.RUNNING] if also_running else [TaskStatus.PENDING]
    db.session.execute(
        update(ProcessTask)
        .where(ProcessTask.process_id == process.id, ProcessTask.status.in_(statuses))
        .values(status=TaskStatus.SKIPPED, message=message)
    )


def _audit(process: Process, actor: User | None, action: str, summary: str) -> None:
    if process.tenant_reseller_id is not None:
        entity_type, entity_id = "tenant_reseller", process.tenant_reseller_id
    else:
        entity_type, entity_id = "process", process.id
    audit.record(
        organization_id=process.organization_id,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        summary=summary[:400],
        process_id=process.id,
    )


def _notify(
    process: Process,
    status: str,
    detail: str = "",
    *,
    admins_if_nobody: bool = False,
    skip_user: User | None = None,
) -> list[OutboxEmail]:
    """An in-app notification and an email for the staff member who started the process; a
    failure nobody started from the app goes to the organization's administrators."""
    recipients: list[User] = []
    if process.created_by_id is not None:
        starter = db.session.get(User, process.created_by_id)
        if starter is not None:
            recipients.append(starter)
    elif admins_if_nobody:
        recipients = list(
            db.session.scalars(
                User.in_org(process.organization_id).where(
                    User.role == Role.ADMIN, User.active.is_(True)
                )
            )
        )
    level = {"Completed": "success", "Failed": "error"}.get(status, "info")
    text = f"{process.name}: {status.lower()}." + (f" {detail}" if detail else "")
    link = mail.absolute_url("processes.view", process_id=process.id)
    emails = []
    for user in recipients:
        if skip_user is not None and user.id == skip_user.id:
            continue
        db.session.add(
            Notification(
                organization_id=process.organization_id,
                user_id=user.id,
                process_id=process.id,
                level=level,
                message=text[:400],
            )
        )
        email = mail.compose(
            process.organization_id,
            user.email,
            f"[Tenant Reseller BSS] {process.name}: {status}",
            f"{text}\n\nOpen the process: {link}\n",
        )
        if email is not None:
            emails.append(email)
    return emails


def _commit_and_send(emails: list[OutboxEmail]) -> bool:
    db.session.commit()
    mail.deliver(emails)
    return True
