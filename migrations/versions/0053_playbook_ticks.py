"""playbook: the items a tenant ticked by hand, with who and when

A new table: nothing to carry over.

Revision ID: f1fe00000004
Revises: f1fe00000003
Create Date: 2026-12-02 14:10:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base  # noqa: F401 - custom column types (UTCDateTime)


revision = 'f1fe00000004'
down_revision = 'f1fe00000003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('playbook_tick',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=40), nullable=False),
    sa.Column('ticked_by_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_playbook_tick_organization_id_organization')),
    sa.ForeignKeyConstraint(['ticked_by_id'], ['user.id'], name=op.f('fk_playbook_tick_ticked_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_tick')),
    sa.UniqueConstraint('organization_id', 'item', name=op.f('uq_playbook_tick_organization_id_item'))
    )
    with op.batch_alter_table('playbook_tick', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playbook_tick_organization_id'), ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('playbook_tick', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playbook_tick_organization_id'))
    op.drop_table('playbook_tick')
