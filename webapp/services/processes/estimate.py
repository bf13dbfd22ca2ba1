"""Elapsed time and an honest estimate of the time remaining.

Tasks are not equal: copying 300,000 products takes a thousand times longer than creating an
administrator. Each unfinished task is weighed by its items and by how long the same step
took in earlier processes (seconds per item for steps that work through items, seconds for
the others); the running task by its own pace once it has done some items."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Process, ProcessTask, TaskStatus, utcnow
from webapp.services.processes.registry import STEPS

HISTORY_PER_STEP = 20
# A step never seen before that does not work through items: like the small steps this
# process has finished already, or this when it has finished none.
UNKNOWN_STEP_SECONDS = 0.2


@dataclass(frozen=True)
class StepHistory:
    seconds: float  # median duration
    seconds_per_item: float | None  # median, for steps that worked through items


@dataclass(frozen=True)
class Timing:
    elapsed: float | None
    remaining: float | None


def history(steps: set[str]) -> dict[str, StepHistory]:
    """The recent completed runs of these steps, in one query."""
    if not steps:
        return {}
    rows = db.session.execute(
        select(
            ProcessTask.step,
            ProcessTask.started_at,
            ProcessTask.finished_at,
            ProcessTask.items_total,
        )
        .where(
            ProcessTask.step.in_(sorted(steps)),
            ProcessTask.status == TaskStatus.COMPLETED,
            ProcessTask.started_at.is_not(None),
            ProcessTask.finished_at.is_not(None),
        )
        .order_by(ProcessTask.finished_at.desc())
        .limit(HISTORY_PER_STEP * len(steps))
    ).all()
    durations: dict[str, list[float]] = {}
    rates: dict[str, list[float]] = {}
    for step, started, finished, items in rows:
        seconds = max((finished - started).total_seconds(), 0.0)
        durations.setdefault(step, []).append(seconds)
        if items and items > 1:
            rates.setdefault(step, []).append(seconds / items)
    return {
        step: StepHistory(median(values), median(rates[step]) if step in rates else None)
        for step, values in durations.items()
    }


def timing(process: Process, known: dict[str, StepHistory] | None = None) -> Timing:
    if process.started_at is None:
        return Timing(None, None)
    end = process.finished_at or utcnow()
    elapsed = (end - process.started_at).total_seconds()
    if process.is_finished:
        return Timing(elapsed, None)
    return Timing(elapsed, remaining(process, known))


def remaining(process: Process, known: dict[str, StepHistory] | None = None) -> float | None:
    """Seconds left, or None before any task has started."""
    tasks = process.tasks
    unfinished = [t for t in tasks if t.status in (TaskStatus.PENDING, TaskStatus.RUNNING)]
    if not unfinished:
        return None
    past = known if known is not None else history({t.step for t in unfinished})
    expected_items = int((process.params or {}).get("expected_items") or 0)
    now = utcnow()
    # The pace of the running task, if it works through items: the best guide for the
    # item steps still to come when there is no history yet.
    own_rate = None
    running = next((t for t in unfinished if t.status == TaskStatus.RUNNING), None)
    if running is not None and running.items_done and running.items_total:
        own_rate = (running.state or {}).get("seconds_per_item")  # the batches' recent pace
        if own_rate is None and running.started_at:
            own_rate = (now - running.started_at).total_seconds() / running.items_done
    small = [
        t.duration_seconds
        for t in tasks
        if t.status == TaskStatus.COMPLETED and t.items_total <= 1 and t.duration_seconds
    ]
    unknown_step = median(small) if small else UNKNOWN_STEP_SECONDS
    total = 0.0
    for task in unfinished:
        step = STEPS.get(task.step)
        hist = past.get(task.step)
        items = task.items_total or (expected_items if step and step.per_item else 0)
        rate = hist.seconds_per_item if hist and hist.seconds_per_item else None
        if task is running and own_rate is not None and items > 1:
            total += own_rate * max(items - task.items_done, 0)
            continue
        if items > 1 and (rate or own_rate):
            estimate = (rate or own_rate) * items
        elif hist is not None:
            estimate = hist.seconds
        else:
            estimate = unknown_step
        if task is running and task.items_total:
            estimate *= 1 - task.items_done / task.items_total
        total += estimate
    return total
