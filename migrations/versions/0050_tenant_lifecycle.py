"""tenant lifecycle: when a tenant was suspended or marked as deleted, until when its data
is kept, and the status a restore returns it to

Existing rows are carried over: every new column is nullable (no tenant is suspended or
marked as deleted yet).

Revision ID: f1fe00000001
Revises: ca7a00000001
Create Date: 2026-12-02 13:45:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base  # noqa: F401 - custom column types (UTCDateTime)


revision = 'f1fe00000001'
down_revision = 'ca7a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant_reseller', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('marked_deleted_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('purge_after', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status_before_deletion', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('tenant_reseller', schema=None) as batch_op:
        batch_op.drop_column('status_before_deletion')
        batch_op.drop_column('purge_after')
        batch_op.drop_column('marked_deleted_at')
        batch_op.drop_column('suspended_at')
