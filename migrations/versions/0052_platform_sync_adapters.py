"""provisioning sync as an action: how each sync was recorded and by whom, and the sandbox
adapter's settings (failures to trigger)

Existing rows are carried over: syncs recorded before are "manual" (the only way there was),
with nobody recorded as their author.

Revision ID: f1fe00000003
Revises: f1fe00000002
Create Date: 2026-12-02 14:05:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base  # noqa: F401 - custom column types (UTCDateTime)


revision = 'f1fe00000003'
down_revision = 'f1fe00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sandbox_adapter_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('failure', sa.String(length=40), nullable=False),
    sa.Column('failures_left', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_sandbox_adapter_setting_organization_id_organization')),
    sa.ForeignKeyConstraint(['platform_id'], ['provisioning_platform.id'], name=op.f('fk_sandbox_adapter_setting_platform_id_provisioning_platform')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_adapter_setting')),
    sa.UniqueConstraint('organization_id', 'platform_id', name=op.f('uq_sandbox_adapter_setting_organization_id_platform_id'))
    )
    with op.batch_alter_table('sandbox_adapter_setting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_adapter_setting_organization_id'), ['organization_id'], unique=False)
    with op.batch_alter_table('account_platform_sync', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=20), server_default='manual', nullable=False))
        batch_op.add_column(sa.Column('synced_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_account_platform_sync_synced_by_id_user'), 'user', ['synced_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('account_platform_sync', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_account_platform_sync_synced_by_id_user'), type_='foreignkey')
        batch_op.drop_column('synced_by_id')
        batch_op.drop_column('method')
    with op.batch_alter_table('sandbox_adapter_setting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_adapter_setting_organization_id'))
    op.drop_table('sandbox_adapter_setting')
