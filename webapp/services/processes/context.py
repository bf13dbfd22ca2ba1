"""What a running step sees: its process and task, progress, and a commit that proves the
job still owns the process (and beats its heart)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Process, ProcessTask, TenantReseller, utcnow
from webapp.services.processes.errors import CancelRequested, LostClaim


@dataclass
class StepContext:
    process: Process
    task: ProcessTask
    runner_token: str

    @property
    def tenant(self) -> TenantReseller | None:
        if self.process.tenant_reseller_id is None:
            return None
        return db.session.get(TenantReseller, self.process.tenant_reseller_id)

    @property
    def params(self) -> dict:
        return self.process.params or {}

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.task.items_done = done
        self.task.items_total = total
        if message:
            self.task.message = message

    @property
    def state(self) -> dict:
        """The step's own bookkeeping (batch cursors, counts), committed with its work."""
        return dict(self.task.state or {})

    def save_state(self, **values) -> None:
        self.task.state = {**(self.task.state or {}), **values}  # a new dict: JSON is written

    def commit(self) -> None:
        """Commit this step's work together with its progress and the process heartbeat.

        The heartbeat update is guarded by our runner token: if the reaper handed the process
        to another job, nothing of ours is committed."""
        touched = db.session.execute(
            update(Process)
            .where(Process.id == self.process.id, Process.runner_token == self.runner_token)
            .values(heartbeat_at=utcnow())
        ).rowcount
        if touched != 1:
            db.session.rollback()
            raise LostClaim(f"process {self.process.id} is now run by another job")
        db.session.commit()

    def checkpoint(self) -> None:
        """A safe point between batches: commit, then honour a staff Stop."""
        self.commit()
        if db.session.scalar(select(Process.cancel_requested).where(Process.id == self.process.id)):
            raise CancelRequested()
