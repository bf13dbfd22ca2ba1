"""Invoices: the distributor's monthly invoice run and the invoices it makes."""
