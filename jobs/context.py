"""What a running step sees: the process, its task, and a commit that proves ownership."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from webapp.extensions import db
from webapp.models import Process, ProcessTask, TenantReseller, utcnow


class StepFailure(Exception):
    """A failure a person can act on; its message is shown on the process page."""


class LostClaim(Exception):
    """Another job now owns this process (ours was presumed dead); stop without writing."""


class CancelRequested(Exception):
    """Staff asked to stop this process; raised at the next safe point."""


@dataclass
class StepContext:
    process: Process
    task: ProcessTask
    runner_token: str

    @property
    def tenant(self) -> TenantReseller:
        return db.session.get(TenantReseller, self.process.tenant_reseller_id)

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.task.items_done = done
        self.task.items_total = total
        if message:
            self.task.message = message

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
        cancel = db.session.scalar(
            db.select(Process.cancel_requested).where(Process.id == self.process.id)
        )
        if cancel:
            raise CancelRequested()
