"""The one batch engine: set-based statements over ranges of keys, each batch committed with
its progress and its cursor, so that a re-run resumes after the last committed batch.

A step describes its work as passes. A pass is a select of one unique integer key (the rows
still to do, in key order) and a statement for a range of those keys (an INSERT … SELECT, an
UPDATE). Batches are found by keyset — one walk of an index per batch, no list of keys held
in Python — and each batch's statement is idempotent (ON CONFLICT DO NOTHING, or a condition
that only matches what still differs), so the batch a crash interrupted is simply done again.

The resume rule is the same for every step: the task's state keeps, per pass, the last key
committed ("after") and the rows changed so far; the total is counted once, when the task
first starts, so progress and the final message count everything the task did across runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Executable, Insert, Select, func, select
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.services.processes import chaos
from webapp.services.processes.context import StepContext


def insert_ignoring_duplicates(table, columns: list[str], source_select) -> Insert:
    """INSERT … SELECT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike: a row
    already written by an earlier, interrupted run is skipped by the unique key."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).from_select(columns, source_select).on_conflict_do_nothing()


def count(keys: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(keys.subquery()))


def next_batch(keys: Select, after: int | None, size: int) -> tuple[int, int, int]:
    """(first key, last key, count) of the `size` keys that follow `after`."""
    key = keys.selected_columns[0]
    batch = keys.order_by(key).limit(size)
    if after is not None:
        batch = batch.where(key > after)
    inner = batch.subquery().c[0]
    return db.session.execute(select(func.min(inner), func.max(inner), func.count())).one()


@dataclass(frozen=True)
class Pass:
    """One kind of work: the keys still to do and the statement for a range of them."""

    name: str
    pending: Select
    statement: Callable[[int, int], Executable]


def run_passes(
    ctx: StepContext, passes: list[Pass], noun: str, batch_size: int | None = None
) -> dict[str, int]:
    """Run each pass batch by batch; returns the rows each pass changed (this run and any
    earlier, interrupted runs of the same task together)."""
    size = batch_size or current_app.config["COPY_BATCH_SIZE"]
    state = ctx.state
    if "total" not in state:  # first start of this task: count the work once
        state = {"total": sum(count(p.pending) for p in passes), "done": 0, "passes": {}}
    total, done = state["total"], state["done"]
    cursors = {p.name: dict(state["passes"].get(p.name, {})) for p in passes}
    # The time the batches took and the rows they did (the counting before the first batch
    # left out): the pace the estimate of time remaining goes by.
    spent, rows = state.get("batch_seconds", 0.0), state.get("batch_rows", 0)
    # Of that time, what the batches' own statements took and their commits (where SQLite
    # writes the pages out); the rest (finding the next range, progress, cursor, heartbeat,
    # cancel check) is the bookkeeping, kept small (make bench measures it).
    work = state.get("statement_seconds", 0.0)
    committing = state.get("commit_seconds", 0.0)

    def save(message: str) -> None:
        ctx.progress(min(done, total), total, message)
        ctx.save_state(
            total=total,
            done=done,
            passes={k: dict(v) for k, v in cursors.items()},
            batch_seconds=spent,
            batch_rows=rows,
            statement_seconds=round(work, 6),
            commit_seconds=round(committing, 6),
            seconds_per_item=spent / rows if rows else None,
        )

    save(f"{min(done, total):,} of {total:,} {noun}")
    number = 0
    for p in passes:
        cursor = cursors[p.name]
        cursor.setdefault("changed", 0)
        while not cursor.get("finished"):
            began = time.monotonic()
            first, last, found = next_batch(p.pending, cursor.get("after"), size)
            if not found:
                cursor["finished"] = True
                break
            number += 1
            working = time.monotonic()
            changed = db.session.execute(
                p.statement(first, last), execution_options={"preserve_rowcount": True}
            ).rowcount
            work += time.monotonic() - working
            chaos.point(f"{ctx.task.step}:batch-uncommitted:{number}")
            chaos.slow_batch()
            cursor["after"] = last
            cursor["changed"] += changed if changed >= 0 else found
            done += found
            save(f"{min(done, total):,} of {total:,} {noun}")
            began_commit = time.monotonic()
            ctx.checkpoint()
            committing += time.monotonic() - began_commit
            # The batch's whole cost, its commit included; saved with the next batch.
            spent, rows = spent + time.monotonic() - began, rows + found
            chaos.point(f"{ctx.task.step}:batch-committed:{number}")
        save(f"{min(done, total):,} of {total:,} {noun}")
    # Rows that vanished or were done meanwhile need no work: the task is whole.
    ctx.progress(total, total)
    return {name: cursor["changed"] for name, cursor in cursors.items()}


def copy_in_batches(
    ctx: StepContext,
    source_keys: Select,
    statement_for_range: Callable[[int, int], Insert],
    noun: str,
    label: str = "copy",
) -> int:
    """One INSERT … SELECT per range of source keys; returns how many source rows there were."""
    run_passes(ctx, [Pass(label, source_keys, statement_for_range)], f"{noun} copied")
    return ctx.task.items_total
