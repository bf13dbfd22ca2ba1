"""Set-based, batched INSERT … SELECT that reports progress and resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Insert, Select, func, select
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


def key_at(source_keys: Select, position: int) -> int | None:
    """The key at this 1-based position in key order; None before the first."""
    if position < 1:
        return None
    key = source_keys.selected_columns[0]
    return db.session.scalar(source_keys.order_by(key).offset(position - 1).limit(1))


def next_batch(source_keys: Select, after: int | None, size: int) -> tuple[int, int, int]:
    """(first key, last key, count) of the `size` keys that follow `after`, by keyset: one
    walk of an index per batch, and no list of keys held in Python."""
    key = source_keys.selected_columns[0]
    batch = source_keys.order_by(key).limit(size)
    if after is not None:
        batch = batch.where(key > after)
    keys = batch.subquery().c[0]
    return db.session.execute(select(func.min(keys), func.max(keys), func.count())).one()


def copy_in_batches(
    ctx: StepContext,
    source_keys: Select,
    batch_size: int,
    statement_for_range: Callable[[int, int], Insert],
    noun: str,
) -> int:
    """Run one INSERT … SELECT per range of `batch_size` keys of `source_keys` (a select of
    one unique integer column); each batch commits with its progress.

    Rows counted in the task's items_done were committed, so a re-run starts after them;
    the batch that was interrupted is simply done again (ON CONFLICT). Boundaries come from
    the database batch by batch: a list of every key made the worker's garbage collector
    scan its whole heap, which took longer than copying a 10,000-product price list."""
    total = db.session.scalar(select(func.count()).select_from(source_keys.subquery()))
    already = ctx.task.items_done if ctx.task.items_total == total else 0
    ctx.progress(already, total, f"{already:,} of {total:,} {noun} copied")
    done, after = already, key_at(source_keys, already)
    number = already // batch_size  # batches are numbered from the list's start, as before
    while done < total:
        first, last, count = next_batch(source_keys, after, batch_size)
        if not count:  # source rows deleted since they were counted: nothing left to copy
            break
        number += 1
        db.session.execute(statement_for_range(first, last))
        chaos.point(f"{ctx.task.step}:batch-uncommitted:{number}")
        done, after = done + count, last
        ctx.progress(done, total, f"{done:,} of {total:,} {noun} copied")
        if done < total:
            ctx.checkpoint()
            chaos.point(f"{ctx.task.step}:batch-committed:{number}")
    return total
