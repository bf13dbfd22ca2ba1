"""The job: claim a process, run its unfinished tasks in order, record the outcome."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app, has_app_context
from rq import get_current_job
from sqlalchemy import or_, select, update

from jobs import chaos, upgrade_steps  # noqa: F401  (registers the lite upgrade's steps)
from jobs import steps as steps_module
from jobs.context import CancelRequested, LostClaim, StepContext, StepFailure
from jobs.mail import enqueue_email
from webapp.extensions import db
from webapp.models import (
    Organization,
    OrgStatus,
    Process,
    ProcessStatus,
    ProcessTask,
    TaskStatus,
    TenantReseller,
    TenantStatus,
    utcnow,
)
from webapp.services import audit
from webapp.services.notifications import notify_finished

log = logging.getLogger(__name__)

CREATION_KIND = "create_tenant_reseller"


def run_process(process_id: int) -> str:
    """RQ entry point. Carries only the process id; the database rows are the truth."""
    if has_app_context():
        app = current_app._get_current_object()
    else:  # started by a plain `rq worker`: build the app ourselves
        from webapp import create_app

        app = create_app()
    # A fresh app context gives this job its own database session.
    with app.app_context():
        try:
            return ProcessRunner(process_id).run()
        finally:
            db.session.remove()


def current_job_id() -> str:
    job = get_current_job()
    return job.id if job else "-"


class ProcessRunner:
    def __init__(self, process_id: int):
        self.process_id = process_id
        self.token = uuid.uuid4().hex

    def claim(self) -> bool:
        """Take the process if it is Queued, or Running with a stale heartbeat (its job died).

        A single conditional UPDATE: two jobs for the same process cannot both win."""
        stale_before = utcnow() - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
        now = utcnow()
        claimed = db.session.execute(
            update(Process)
            .where(
                Process.id == self.process_id,
                or_(
                    Process.status == ProcessStatus.QUEUED,
                    (Process.status == ProcessStatus.RUNNING)
                    & or_(Process.heartbeat_at.is_(None), Process.heartbeat_at < stale_before),
                ),
            )
            .values(status=ProcessStatus.RUNNING, runner_token=self.token, heartbeat_at=now)
        ).rowcount
        if claimed:
            db.session.execute(
                update(Process)
                .where(Process.id == self.process_id, Process.started_at.is_(None))
                .values(started_at=now)
            )
        db.session.commit()
        return claimed == 1

    def run(self) -> str:
        job_id = current_job_id()
        if not self.claim():
            status = db.session.scalar(select(Process.status).where(Process.id == self.process_id))
            log.info("job %s: process %s not claimable (%s)", job_id, self.process_id, status)
            return f"not claimed ({status})"
        process = db.session.get(Process, self.process_id)
        log.info("job %s: running process %s (%s)", job_id, process.id, process.name)
        tasks = db.session.scalars(
            select(ProcessTask)
            .where(ProcessTask.process_id == process.id)
            .order_by(ProcessTask.position)
        ).all()
        for task in tasks:
            if task.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED):
                continue
            ctx = StepContext(process=process, task=task, runner_token=self.token)
            chaos.point(f"before:{task.step}")
            try:
                self._run_task(ctx)
            except LostClaim:
                log.warning("job %s: lost the claim on process %s", job_id, process.id)
                return "lost claim"
            except CancelRequested:
                self._finish_cancelled(process, task)
                return "cancelled"
            except StepFailure as exc:
                self._finish_failed(process, task, str(exc))
                log.warning(
                    "job %s: process %s failed in %s: %s", job_id, process.id, task.step, exc
                )
                raise
            except Exception as exc:
                log.exception(
                    "job %s: process %s crashed in step %s", job_id, process.id, task.step
                )
                message = (
                    f"Unexpected error while '{task.title}' ({type(exc).__name__}). "
                    f"The details are in the worker log under job {job_id}. Retry the process; "
                    "if it fails again, contact support with that job id."
                )
                self._finish_failed(process, task, message)
                raise
        self._finish_completed(process)
        log.info("job %s: process %s completed", job_id, process.id)
        return "completed"

    def _run_task(self, ctx: StepContext) -> None:
        task = ctx.task
        if task.status != TaskStatus.RUNNING or task.started_at is None:
            task.status = TaskStatus.RUNNING
            task.started_at = task.started_at or utcnow()
            ctx.commit()
        if db.session.scalar(select(Process.cancel_requested).where(Process.id == ctx.process.id)):
            raise CancelRequested()
        step = steps_module.STEPS_BY_KEY[task.step]
        message = step.run(ctx)
        task.status = TaskStatus.COMPLETED
        task.finished_at = utcnow()
        task.message = message
        if task.items_total == 0:
            task.items_done = task.items_total = 1
        audit.record(
            organization_id=ctx.process.organization_id,
            actor=None,
            action="process.task_completed",
            entity_type="tenant_reseller",
            entity_id=ctx.process.tenant_reseller_id,
            summary=f"{task.title}: {message}",
            process_id=ctx.process.id,
        )
        ctx.commit()  # the step's last work and its Completed status land together

    def _finish_failed(self, process: Process, task: ProcessTask, message: str) -> None:
        db.session.rollback()
        now = utcnow()
        owned = db.session.execute(
            update(Process)
            .where(Process.id == process.id, Process.runner_token == self.token)
            .values(status=ProcessStatus.FAILED, finished_at=now, message=message)
        ).rowcount
        if not owned:
            db.session.rollback()
            return
        db.session.execute(
            update(ProcessTask)
            .where(ProcessTask.id == task.id)
            .values(status=TaskStatus.FAILED, finished_at=now, message=message)
        )
        db.session.execute(
            update(ProcessTask)
            .where(
                ProcessTask.process_id == process.id,
                ProcessTask.position > task.position,
                ProcessTask.status == TaskStatus.PENDING,
            )
            .values(status=TaskStatus.SKIPPED, message="Skipped because an earlier task failed.")
        )
        self._set_tenant_status(process, TenantStatus.FAILED, OrgStatus.FAILED)
        audit.record(
            organization_id=process.organization_id,
            actor=None,
            action="process.failed",
            entity_type="tenant_reseller",
            entity_id=process.tenant_reseller_id,
            summary=f"{task.title} failed: {message}",
            process_id=process.id,
        )
        email = notify_finished(process, "Failed", message)
        db.session.commit()
        enqueue_email(email.id if email else None)

    def _finish_cancelled(self, process: Process, task: ProcessTask) -> None:
        db.session.rollback()
        now = utcnow()
        owned = db.session.execute(
            update(Process)
            .where(Process.id == process.id, Process.runner_token == self.token)
            .values(status=ProcessStatus.CANCELLED, finished_at=now, message="Stopped by staff.")
        ).rowcount
        if not owned:
            db.session.rollback()
            return
        db.session.execute(
            update(ProcessTask)
            .where(
                ProcessTask.process_id == process.id,
                ProcessTask.status.in_([TaskStatus.PENDING, TaskStatus.RUNNING]),
            )
            .values(status=TaskStatus.SKIPPED, message="Skipped because the process was stopped.")
        )
        self._set_tenant_status(process, TenantStatus.CANCELLED, OrgStatus.FAILED)
        audit.record(
            organization_id=process.organization_id,
            actor=None,
            action="process.cancelled",
            entity_type="tenant_reseller",
            entity_id=process.tenant_reseller_id,
            summary=f"Stopped before '{task.title}' finished.",
            process_id=process.id,
        )
        notify_finished(process, "Cancelled", "Stopped by staff.")
        db.session.commit()

    def _finish_completed(self, process: Process) -> None:
        owned = db.session.execute(
            update(Process)
            .where(Process.id == process.id, Process.runner_token == self.token)
            .values(status=ProcessStatus.COMPLETED, finished_at=utcnow(), message="")
        ).rowcount
        if not owned:
            db.session.rollback()
            return
        audit.record(
            organization_id=process.organization_id,
            actor=None,
            action="process.completed",
            entity_type="tenant_reseller",
            entity_id=process.tenant_reseller_id,
            summary=f"{process.name}: completed",
            process_id=process.id,
        )
        email = notify_finished(process, "Completed")
        db.session.commit()
        enqueue_email(email.id if email else None)

    def _set_tenant_status(self, process, tenant_status, org_status) -> None:
        # Only a failed *creation* makes the tenant Failed; a failed update leaves it as it is.
        if process.kind != CREATION_KIND:
            return
        tenant = (
            db.session.get(TenantReseller, process.tenant_reseller_id)
            if process.tenant_reseller_id
            else None
        )
        if tenant is None:
            return
        tenant.status = tenant_status
        if tenant.tenant_organization_id:
            org = db.session.get(Organization, tenant.tenant_organization_id)
            org.status = org_status
