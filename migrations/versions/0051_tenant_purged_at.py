"""tenant lifecycle: when a tenant marked as deleted had its data purged

Existing rows are carried over: the column is nullable (nothing was purged yet).

Revision ID: f1fe00000002
Revises: f1fe00000001
Create Date: 2026-12-02 13:55:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base  # noqa: F401 - custom column types (UTCDateTime)


revision = 'f1fe00000002'
down_revision = 'f1fe00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant_reseller', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('tenant_reseller', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
