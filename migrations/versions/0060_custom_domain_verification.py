"""custom domain ownership: a token, when it was verified, the last check

Existing custom domains are carried over as pending (not verified): until their tenant
publishes the TXT record they no longer route, since nothing proved they own them.

Revision ID: 5ec0a1d0060a
Revises: f1fe00000004
Create Date: 2026-12-02 13:45:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base  # noqa: F401 - custom column types (UTCDateTime)


revision = '5ec0a1d0060a'
down_revision = 'f1fe00000004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('storefront', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain_token', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('domain_verified_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('domain_checked_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('domain_check_message', sa.String(length=300), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('storefront', schema=None) as batch_op:
        batch_op.drop_column('domain_check_message')
        batch_op.drop_column('domain_checked_at')
        batch_op.drop_column('domain_verified_at')
        batch_op.drop_column('domain_token')
