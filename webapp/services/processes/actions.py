"""Staff actions on a process, as one table: what each is called, what it does, when it can
succeed, and the lifecycle function that does it. The process page loops over this table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from webapp.models import Process, ProcessStatus, User, utcnow
from webapp.services.processes import lifecycle
from webapp.services.processes.kinds import ProcessKind


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    hint: str
    done: str  # the message after it succeeded
    danger: bool
    handler: Callable[[Process, User], object]
    admin_only: bool = False


def _stuck(process: Process) -> bool:
    """Running without a heartbeat for a while, or Queued for a while."""
    limit = utcnow() - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
    if process.status == ProcessStatus.RUNNING:
        return process.heartbeat_at is None or process.heartbeat_at < limit
    return process.status == ProcessStatus.QUEUED and process.created_at < limit


def _cleaned(process: Process) -> bool:
    return process.kind == ProcessKind.CREATION and process.tenant_reseller_id is None


ACTIONS: dict[str, Action] = {
    a.key: a
    for a in (
        Action(
            "retry",
            "Retry",
            "Runs the failed task again; completed tasks stay completed.",
            "Retry queued: the failed task and those after it run again.",
            False,
            lifecycle.retry,
        ),
        Action(
            "resume",
            "Resume",
            "Continues from the task where it stopped.",
            "Resume queued: the process continues where it stopped.",
            False,
            lifecycle.resume,
        ),
        Action(
            "cancel",
            "Cancel",
            "Removes it from the queue before it starts.",
            "The process was cancelled before it started.",
            True,
            lifecycle.cancel,
        ),
        Action(
            "stop",
            "Stop",
            "Stops at the next safe point; what is done stays consistent.",
            "Stop requested: the process stops at the next safe point.",
            True,
            lifecycle.stop,
        ),
        Action(
            "cleanup",
            "Clean up",
            "Removes the tenant organization, users, products and storefront it created, so "
            "the account can start again.",
            "Cleaned up: what the creation made was removed; the account can start again.",
            True,
            lifecycle.clean_up,
        ),
        Action(
            "mark_failed",
            "Mark as failed",
            "For a stuck process: ends it as Failed.",
            "The process was marked as failed.",
            True,
            lifecycle.mark_failed,
            admin_only=True,
        ),
    )
}


def available(process: Process, user: User) -> list[Action]:
    """The buttons to show: only actions that can succeed now."""
    keys: list[str] = []
    creation = process.kind == ProcessKind.CREATION
    if not _cleaned(process):
        if process.status == ProcessStatus.FAILED:
            keys += ["retry", "cleanup"] if creation else ["retry"]
        elif process.status == ProcessStatus.CANCELLED:
            keys += ["resume", "cleanup"] if creation else ["resume"]
    if process.status == ProcessStatus.QUEUED:
        keys.append("cancel")
    elif process.status == ProcessStatus.RUNNING and not process.cancel_requested:
        keys.append("stop")
    active = process.status in lifecycle.ACTIVE
    if user.is_admin and active and _stuck(process):
        keys.append("mark_failed")
    return [ACTIONS[k] for k in keys]
