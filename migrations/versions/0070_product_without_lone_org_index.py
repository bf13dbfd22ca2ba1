"""product: drop the lone index on organization_id (both unique keys lead with it)

Every copied product paid for one more index entry, and PostgreSQL's planner, with
statistics from before a copy, picked this index to find a batch of a tenant's products,
walking the tenant's whole catalogue for every batch. Nothing else needs it: the unique
keys (organization_id, sku) and (organization_id, source_product_id) serve every lookup by
organization. No rows change.

Revision ID: 9e4f0070a1b2
Revises: 5ec0a1d0060a
Create Date: 2026-12-02 13:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9e4f0070a1b2'
down_revision = '5ec0a1d0060a'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_product_organization_id', table_name='product')


def downgrade():
    op.create_index('ix_product_organization_id', 'product', ['organization_id'], unique=False)
