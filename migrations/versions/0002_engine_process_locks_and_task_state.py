"""process engine: one unfinished process per subject, task state for resumable batches

Revision ID: e1a0c0de0002
Revises: 11355485010e
Create Date: 2026-12-02 06:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e1a0c0de0002'
down_revision = '11355485010e'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('Queued', 'Running')"


def upgrade():
    with op.batch_alter_table('process', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lock_key', sa.String(length=80), nullable=True))
        batch_op.create_index(
            'ix_process_organization_id_created_at', ['organization_id', 'created_at'], unique=False
        )
    with op.batch_alter_table('process_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.JSON(), nullable=True))
    # Existing rows: empty task state; the oldest unfinished process of each tenant reseller
    # holds its tenant's lock (there was at most one before; if not, the others stay unlocked).
    op.execute("UPDATE process_task SET state = '{}'")
    op.execute(
        f"""
        UPDATE process SET lock_key = 'tenant:' || CAST(tenant_reseller_id AS VARCHAR(20))
        WHERE id IN (
            SELECT MIN(id) FROM process
            WHERE tenant_reseller_id IS NOT NULL AND {ACTIVE}
            GROUP BY tenant_reseller_id
        )
        """
    )
    with op.batch_alter_table('process_task', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.JSON(), nullable=False)
    op.create_index(
        'uq_process_active_lock_key',
        'process',
        ['lock_key'],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade():
    op.drop_index('uq_process_active_lock_key', table_name='process')
    with op.batch_alter_table('process_task', schema=None) as batch_op:
        batch_op.drop_column('state')
    with op.batch_alter_table('process', schema=None) as batch_op:
        batch_op.drop_index('ix_process_organization_id_created_at')
        batch_op.drop_column('lock_key')
