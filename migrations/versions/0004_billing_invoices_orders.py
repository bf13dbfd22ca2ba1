"""billing: invoice states, numbers at issue, tax, proration; one distributor order per
reseller order; seller and buyer billing details

Revision ID: e1a0c0de0004
Revises: e1a0c0de0003
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


revision = 'e1a0c0de0004'
down_revision = 'e1a0c0de0003'
branch_labels = None
depends_on = None

DRAFT = sa.text("status = 'Draft'")


def upgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment', sa.String(length=80), nullable=False, server_default=''))
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_address', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('tax_rate', sa.Numeric(precision=7, scale=4), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('payment_terms_days', sa.Integer(), nullable=False, server_default='30'))
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_email', sa.String(length=254), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('billing_address', sa.Text(), nullable=False, server_default=''))

    # Invoices made before: they had their numbers, so they count as issued (net = gross).
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='Issued'))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='invoice'))
        batch_op.add_column(sa.Column('net_total', webapp.models.base.Money(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column('tax_rate', sa.Numeric(precision=7, scale=4), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('tax_total', webapp.models.base.Money(precision=18, scale=4), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('issued_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))
        for name, length in (('seller_name', 200), ('buyer_name', 200), ('buyer_email', 254)):
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('seller_address', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('buyer_address', sa.Text(), nullable=False, server_default=''))
    op.execute("UPDATE invoice SET net_total = total, issued_at = created_at")
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.alter_column('net_total', existing_type=webapp.models.base.Money(precision=18, scale=4), nullable=False)
        batch_op.alter_column('number', existing_type=sa.String(length=40), nullable=True)
        batch_op.drop_constraint('uq_invoice_organization_id_account_id_period_grouping', type_='unique')
        batch_op.create_index('ix_invoice_organization_id_period', ['organization_id', 'period'], unique=False)
    op.create_index(
        'uq_invoice_one_draft', 'invoice',
        ['organization_id', 'account_id', 'period', 'grouping', 'kind'],
        unique=True, sqlite_where=DRAFT, postgresql_where=DRAFT,
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quantity_days', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('days_in_period', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_invoice_line_subscription_id', ['subscription_id'], unique=False)
    # A line billed before was a whole month: quantity × 1 day of 1.
    op.execute("UPDATE invoice_line SET quantity_days = quantity, days_in_period = 1")
    op.create_table(
        'invoice_number_sequence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=10), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_invoice_number_sequence_organization_id_organization')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_number_sequence')),
        sa.UniqueConstraint('organization_id', 'series', 'year', name=op.f('uq_invoice_number_sequence_organization_id_series_year')),
    )
    with op.batch_alter_table('invoice_number_sequence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_number_sequence_organization_id'), ['organization_id'], unique=False)

    # One distributor order per reseller order: an order's key moves to its line (the event
    # applied once), the order is keyed by the reseller's order.
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_event_key', sa.String(length=120), nullable=True))
    op.execute(
        'UPDATE order_line SET source_event_key = '
        '(SELECT o.source_event_key FROM "order" o WHERE o.id = order_line.order_id)'
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_order_line_source_event_key'), ['source_event_key'])
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_order_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('effective_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
    op.execute('UPDATE "order" SET source_order_key = source_event_key, effective_at = created_at')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_constraint('uq_order_source_event_key', type_='unique')
        batch_op.drop_column('source_event_key')
        batch_op.create_unique_constraint(batch_op.f('uq_order_source_order_key'), ['source_order_key'])


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_order_source_order_key'), type_='unique')
        batch_op.add_column(sa.Column('source_event_key', sa.String(length=120), nullable=True))
    op.execute(
        'UPDATE "order" SET source_event_key = (SELECT MIN(l.source_event_key) FROM order_line l '
        'WHERE l.order_id = "order".id)'
    )
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_order_source_event_key', ['source_event_key'])
        batch_op.drop_column('effective_at')
        batch_op.drop_column('source_order_key')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_order_line_source_event_key'), type_='unique')
        batch_op.drop_column('source_event_key')
    with op.batch_alter_table('invoice_number_sequence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_number_sequence_organization_id'))
    op.drop_table('invoice_number_sequence')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_line_subscription_id')
        batch_op.drop_column('days_in_period')
        batch_op.drop_column('quantity_days')
    op.drop_index('uq_invoice_one_draft', table_name='invoice')
    op.execute("DELETE FROM invoice_line WHERE invoice_id IN (SELECT id FROM invoice WHERE number IS NULL)")
    op.execute("DELETE FROM invoice WHERE number IS NULL")
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_organization_id_period')
        batch_op.create_unique_constraint('uq_invoice_organization_id_account_id_period_grouping', ['organization_id', 'account_id', 'period', 'grouping'])
        batch_op.alter_column('number', existing_type=sa.String(length=40), nullable=False)
        for name in ('buyer_address', 'seller_address', 'buyer_email', 'buyer_name', 'seller_name',
                     'due_date', 'issued_at', 'tax_total', 'tax_rate', 'net_total', 'kind', 'status'):
            batch_op.drop_column(name)
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('billing_address')
        batch_op.drop_column('billing_email')
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_column('attachment')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('payment_terms_days')
        batch_op.drop_column('tax_rate')
        batch_op.drop_column('billing_address')
