"""Operators: RQ dashboard, queue health, health checks, metrics, structured logs."""
