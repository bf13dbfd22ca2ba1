"""Totals behind the Prometheus metrics that only go up."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class MetricTotal(db.Model):
    """One running total (a counter, a histogram bucket or sum), added to in the transaction
    that causes it. Kept in the database, not derived from rows that are later purged, so
    neither a purge nor a Redis restart makes it go down."""

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    # The series within the metric, e.g. "copy_products|0.5" for a step's bucket.
    series: Mapped[str] = mapped_column(String(200), primary_key=True, default="")
    value: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
