"""back-ordering events recorded before activation are Held (propagated at activation)

Revision ID: e1a0c0de0003
Revises: e1a0c0de0002
Create Date: 2026-12-02 07:00:00

"""
from alembic import op


revision = 'e1a0c0de0003'
down_revision = 'e1a0c0de0002'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE domain_event SET status = 'Held' WHERE status = 'Not propagated'")


def downgrade():
    op.execute("UPDATE domain_event SET status = 'Not propagated' WHERE status = 'Held'")
