"""Running totals for the Prometheus metrics that only go up (counters, the task histogram).

Each is added to in the transaction of what it counts (a task ending), with one upsert per
total, so it survives the purge of old rows and a Redis restart. Read at scrape time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.extensions import db
from webapp.models import MetricTotal

# Upper bounds (seconds) of the task-duration histogram's buckets.
DURATION_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800)
TASK_BUCKET = "task_duration_bucket"  # series "step|le": tasks in that bucket alone
TASK_SUM = "task_duration_sum"  # series "step": seconds in all
PROCESSES_FINISHED = "processes_finished"  # series: the status it ended in


def add(name: str, series: str, amount: float) -> None:
    """Add to one total (created at zero); the caller commits."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(MetricTotal).values(name=name, series=series, value=amount)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[MetricTotal.name, MetricTotal.series],
            set_={"value": MetricTotal.value + statement.excluded.value},
        )
    )


def bucket_for(seconds: float) -> str:
    """The smallest bucket bound that holds the duration ("+Inf" past the last)."""
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            return str(bound)
    return "+Inf"


def record_task_duration(step: str, seconds: float) -> None:
    """A completed task: one in its own bucket, its seconds to the step's sum."""
    seconds = max(seconds, 0.0)
    add(TASK_BUCKET, f"{step}|{bucket_for(seconds)}", 1)
    add(TASK_SUM, step, seconds)


def task_histogram() -> dict[str, tuple[list[tuple[str, float]], float]]:
    """Per step: cumulative buckets (Prometheus's "le" form, +Inf last) and the sum."""
    per_step: dict[str, dict[str, float]] = {}
    sums: dict[str, float] = {}
    for name, series, value in db.session.execute(
        select(MetricTotal.name, MetricTotal.series, MetricTotal.value).where(
            MetricTotal.name.in_((TASK_BUCKET, TASK_SUM))
        )
    ):
        if name == TASK_SUM:
            sums[series] = value
        else:
            step, _, bound = series.rpartition("|")
            per_step.setdefault(step, {})[bound] = value
    result = {}
    for step, counts in per_step.items():
        running = 0.0
        buckets = []
        for bound in [*map(str, DURATION_BUCKETS), "+Inf"]:
            running += counts.get(bound, 0.0)
            buckets.append((bound, running))
        result[step] = (buckets, sums.get(step, 0.0))
    return result


def totals(name: str) -> dict[str, float]:
    """{series: total} of one counter."""
    return dict(
        db.session.execute(
            select(MetricTotal.series, MetricTotal.value).where(MetricTotal.name == name)
        ).all()
    )
