"""Set-based, batched INSERT … SELECT that reports progress and resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite

from jobs import chaos
from jobs.context import StepContext
from webapp.extensions import db


def insert_ignoring_duplicates(table, columns: list[str], source_select) -> Insert:
    """INSERT … SELECT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike: a row
    already copied by an earlier, interrupted run is skipped by the unique key."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).from_select(columns, source_select).on_conflict_do_nothing()


def id_ranges(ids: Sequence[int], batch_size: int) -> list[tuple[int, int, int]]:
    """(first id, last id, rows up to and including this batch) for each batch of sorted ids."""
    return [
        (ids[i], ids[min(i + batch_size, len(ids)) - 1], min(i + batch_size, len(ids)))
        for i in range(0, len(ids), batch_size)
    ]


def copy_in_batches(
    ctx: StepContext,
    source_ids: Sequence[int],
    batch_size: int,
    statement_for_range: Callable[[int, int], Insert],
    noun: str,
) -> int:
    """Run one INSERT … SELECT per id range; each batch commits with its progress.

    Batches already counted in the task's items_done were committed, so a re-run starts
    after them; the batch that was interrupted is simply done again (ON CONFLICT)."""
    total = len(source_ids)
    ranges = id_ranges(source_ids, batch_size)
    already = ctx.task.items_done if ctx.task.items_total == total else 0
    ctx.progress(already, total, f"{already:,} of {total:,} {noun} copied")
    for number, (first, last, done) in enumerate(ranges, start=1):
        if done <= already:
            continue
        db.session.execute(statement_for_range(first, last))
        chaos.point(f"{ctx.task.step}:batch-uncommitted:{number}")
        ctx.progress(done, total, f"{done:,} of {total:,} {noun} copied")
        if done < total:
            ctx.checkpoint()
            chaos.point(f"{ctx.task.step}:batch-committed:{number}")
    return total
