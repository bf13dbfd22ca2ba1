"""metric_total: running totals behind the Prometheus counters and the task histogram

The task-duration histogram was recomputed from the last 24 hours of task rows, so its
counts went down as rows aged out or were purged. Totals are now added to when a task
ends (and when a process ends, for trbss_processes_finished_total); the tasks and
processes already finished are counted in here, so the metrics start from everything the
database still knows.

Revision ID: b0a900900001
Revises: 9e4f0070a1b2
Create Date: 2026-12-02 14:50:00

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b0a900900001'
down_revision = '9e4f0070a1b2'
branch_labels = None
depends_on = None

# As in webapp/services/metric_totals.py at the time of this migration.
DURATION_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800)


def _moment(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def _bucket(seconds):
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            return str(bound)
    return '+Inf'


def upgrade():
    metric_total = op.create_table(
        'metric_total',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('series', sa.String(length=200), nullable=False),
        sa.Column('value', sa.Float(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('name', 'series', name=op.f('pk_metric_total')),
    )
    totals = {}
    rows = op.get_bind().execute(
        sa.text(
            "SELECT step, started_at, finished_at FROM process_task "
            "WHERE status = 'Completed' AND started_at IS NOT NULL AND finished_at IS NOT NULL"
        )
    )
    for step, started, finished in rows:
        seconds = max((_moment(finished) - _moment(started)).total_seconds(), 0.0)
        key = ('task_duration_bucket', f'{step}|{_bucket(seconds)}')
        totals[key] = totals.get(key, 0.0) + 1
        key = ('task_duration_sum', step)
        totals[key] = totals.get(key, 0.0) + seconds
    ended = op.get_bind().execute(
        sa.text(
            "SELECT status, COUNT(*) FROM process "
            "WHERE status IN ('Completed', 'Failed', 'Cancelled') GROUP BY status"
        )
    )
    for status, count in ended:
        totals[('processes_finished', status)] = float(count)
    if totals:
        op.bulk_insert(
            metric_total,
            [{'name': n, 'series': s, 'value': v} for (n, s), v in totals.items()],
        )


def downgrade():
    op.drop_table('metric_total')
