"""Running a process: claim it, run its unfinished tasks in order, record the outcome.

The runner knows nothing of RQ: the job entry point passes its job id (for the log and for
the message a person reads when a step crashes)."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from webapp.extensions import db
from webapp.models import Process, ProcessTask, TaskStatus, utcnow
from webapp.services.processes import chaos, lifecycle
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import CancelRequested, LostClaim, StepFailure
from webapp.services.processes.registry import STEPS

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database refused or dropped us (locked, restarting, unreachable). The process is
    left as it is: its heartbeat goes stale and the reaper hands it to a new job once the
    database answers again, which resumes after the last committed batch."""


def is_transient(exc: BaseException) -> bool:
    """A database error that says "not now" rather than "never"."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class Lease:
    """The running process's heartbeat, renewed every HEARTBEAT_INTERVAL_SECONDS by a thread
    of the job on its own connection, whatever the step is doing (one long statement, a slow
    commit): the heartbeat then goes stale only when the job is gone (a SIGKILLed worker, a
    lost machine), and HEARTBEAT_STALE_SECONDS can be a few beats instead of the longest
    step. Renewed only while our runner token holds: a job that lost the process stops."""

    def __init__(self, process_id: int, token: str):
        self.process_id = process_id
        self.token = token
        self.app = current_app._get_current_object()
        self.interval = float(self.app.config.get("HEARTBEAT_INTERVAL_SECONDS", 2.0))
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"lease-process-{process_id}", daemon=True
        )

    def __enter__(self) -> Lease:
        if self.interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(5.0, 2 * self.interval))

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    held = conn.execute(
                        update(Process)
                        .where(Process.id == self.process_id, Process.runner_token == self.token)
                        .values(heartbeat_at=utcnow())
                    ).rowcount
            except Exception as exc:  # locked, restarting: the next beat tries again
                log.debug("lease of process %s not renewed: %s", self.process_id, exc)
                continue
            if held != 1:
                return  # another job holds the process (or it finished): nothing to keep


class ProcessRunner:
    def __init__(self, process_id: int, job_id: str = "-"):
        self.process_id = process_id
        self.job_id = job_id
        self.token = uuid.uuid4().hex

    def run(self) -> str:
        try:
            return self._run()
        except Exception as exc:
            if is_transient(exc):
                with contextlib.suppress(Exception):  # the connection may be gone too
                    db.session.rollback()
                log.warning(
                    "job %s: process %s paused, the database is unavailable: %s",
                    self.job_id,
                    self.process_id,
                    exc,
                )
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    def _run(self) -> str:
        if not lifecycle.claim(self.process_id, self.token):
            status = db.session.scalar(select(Process.status).where(Process.id == self.process_id))
            log.info("job %s: process %s not claimable (%s)", self.job_id, self.process_id, status)
            return f"not claimed ({status})"
        with Lease(self.process_id, self.token):
            return self._run_claimed()

    def _run_claimed(self) -> str:
        process = db.session.get(Process, self.process_id)
        log.info("job %s: running process %s (%s)", self.job_id, process.id, process.name)
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
                log.warning("job %s: lost the claim on process %s", self.job_id, process.id)
                return "lost claim"
            except CancelRequested:
                lifecycle.finish_stopped(process, task, self.token)
                return "cancelled"
            except StepFailure as exc:
                lifecycle.fail(process, str(exc), task=task, token=self.token)
                log.warning(
                    "job %s: process %s failed in %s: %s", self.job_id, process.id, task.step, exc
                )
                raise
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.exception(
                    "job %s: process %s crashed in step %s", self.job_id, process.id, task.step
                )
                message = (
                    f"Unexpected error while '{task.title}' ({type(exc).__name__}). "
                    f"The details are in the worker log under job {self.job_id}. Retry the "
                    "process; if it fails again, contact support with that job id."
                )
                lifecycle.fail(process, message, task=task, token=self.token)
                raise
        if lifecycle.complete(process, self.token):
            log.info("job %s: process %s completed", self.job_id, process.id)
            return "completed"
        return "lost claim"

    def _run_task(self, ctx: StepContext) -> None:
        task = ctx.task
        if task.status != TaskStatus.RUNNING or task.started_at is None:
            lifecycle.start_task(task)
            ctx.commit()
        if db.session.scalar(select(Process.cancel_requested).where(Process.id == ctx.process.id)):
            raise CancelRequested()
        message = STEPS[task.step].run(ctx)
        lifecycle.complete_task(ctx.process, task, message)
        ctx.commit()  # the step's last work and its Completed status land together
