"""Column types and mixins shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask import abort
from sqlalchemy import DateTime, ForeignKey, Numeric, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from webapp.extensions import db

MONEY_SCALE = Decimal("0.0001")


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every stored time is UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Money(TypeDecorator):
    """Exact decimal money: NUMERIC(18,4) on PostgreSQL; on SQLite (no decimal type) the
    value is rounded back to four places on the way out, so Python only ever sees Decimal."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(18, 4, asdecimal=False))
        return dialect.type_descriptor(Numeric(18, 4))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(MONEY_SCALE)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(
            MONEY_SCALE
        )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class OrgScoped:
    """A row that belongs to exactly one organization; fetched only within it."""

    @declared_attr
    def organization_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(ForeignKey("organization.id"), index=True, nullable=False)

    @classmethod
    def get_in_org_or_404(cls, object_id: int, organization_id: int):
        """The row with this id in this organization, or a 404: another org's id looks absent."""
        row = db.session.scalar(
            select(cls).where(cls.id == object_id, cls.organization_id == organization_id)
        )
        if row is None:
            abort(404)
        return row

    @classmethod
    def in_org(cls, organization_id: int):
        """A select of this model limited to one organization."""
        return select(cls).where(cls.organization_id == organization_id)
