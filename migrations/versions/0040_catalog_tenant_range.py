"""catalog: the range of products a tenant reseller inherits (platforms and categories)

Existing tenants keep inheriting everything: both new columns are nullable and NULL means
"every platform" / "every category".

Revision ID: ca7a00000001
Revises: 7a3c1e90d4b2
Create Date: 2026-12-02 13:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ca7a00000001'
down_revision = '7a3c1e90d4b2'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tenant_reseller', sa.Column('range_platform_ids', sa.JSON(), nullable=True))
    op.add_column('tenant_reseller', sa.Column('range_categories', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('tenant_reseller') as batch_op:
        batch_op.drop_column('range_categories')
        batch_op.drop_column('range_platform_ids')
