"""Billing: what the distributor bills its tenant resellers for, and the proof that nothing
sold is left out or billed twice. `proration` is the rule, `timeline` reads each
subscription's history, `invoicing` makes drafts and issues them, `reconciliation` compares
the two BSSs and the invoices, `pdf` renders an invoice."""
