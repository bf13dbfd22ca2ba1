"""Queued processes and their tasks: the rows the process pages show."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import OrgScoped, TimestampMixin, UTCDateTime


class ProcessStatus(StrEnum):
    QUEUED = "Queued"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


FINISHED_PROCESS_STATUSES = frozenset(
    {ProcessStatus.COMPLETED, ProcessStatus.FAILED, ProcessStatus.CANCELLED}
)


class TaskStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    SKIPPED = "Skipped"


ACTIVE_STATUSES_SQL = "status IN ('Queued', 'Running')"


class Process(OrgScoped, TimestampMixin, db.Model):
    """A queued piece of work made of ordered tasks; the database row is the truth."""

    __table_args__ = (
        # One unfinished process per subject (a tenant reseller, a price list, a month's
        # invoices): two clicks or two staff members cannot start the same work twice.
        Index(
            "uq_process_active_lock_key",
            "lock_key",
            unique=True,
            sqlite_where=text(ACTIVE_STATUSES_SQL),
            postgresql_where=text(ACTIVE_STATUSES_SQL),
        ),
        Index("ix_process_organization_id_created_at", "organization_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), default="create_tenant_reseller")
    name: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(20), default=ProcessStatus.QUEUED, index=True)
    tenant_reseller_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant_reseller.id"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    job_id: Mapped[str | None] = mapped_column(String(80))
    # Set by the job that claimed the process; a job that lost its claim stops writing.
    runner_token: Mapped[str | None] = mapped_column(String(40))
    # Jobs enqueued so far (job ids are process-<id>-<attempt>, so this only grows) and the
    # number the reaper may reach before giving up; a staff Retry raises the limit.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempt_limit: Mapped[int] = mapped_column(Integer, default=5)
    enqueue_error: Mapped[str] = mapped_column(String(400), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # What this process works on, e.g. "tenant:12" or "price_list:7" (see the index above).
    lock_key: Mapped[str | None] = mapped_column(String(80))

    tasks: Mapped[list[ProcessTask]] = relationship(
        back_populates="process", order_by="ProcessTask.position", cascade="all, delete-orphan"
    )

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_PROCESS_STATUSES

    @property
    def progress_percent(self) -> int:
        """Overall progress: finished tasks count whole, the running one by its items."""
        if not self.tasks:
            return 0
        if self.status == ProcessStatus.COMPLETED:
            return 100
        done = 0.0
        for task in self.tasks:
            # Skipped means "not run" (a failure, a stop, or a step this process does not need):
            # it is no progress.
            if task.status == TaskStatus.COMPLETED:
                done += 1
            elif task.status == TaskStatus.RUNNING and task.items_total:
                done += task.items_done / task.items_total
        return min(99, int(100 * done / len(self.tasks)))


class ProcessTask(TimestampMixin, db.Model):
    """One named step of a process with its own status, items and timing."""

    __table_args__ = (UniqueConstraint("process_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.PENDING)
    items_done: Mapped[int] = mapped_column(Integer, default=0)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")
    # The step's own bookkeeping (batch cursors, counts so far), committed with its work so
    # that a re-run resumes where the last committed batch ended.
    state: Mapped[dict] = mapped_column(JSON, default=dict)

    process: Mapped[Process] = relationship(back_populates="tasks")

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
