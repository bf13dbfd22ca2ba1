"""Products, price lists and their items."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.account import ProvisioningPlatform
from webapp.models.base import Money, OrgScoped, TimestampMixin


class Product(OrgScoped, TimestampMixin, db.Model):
    """A product of an organization; a tenant's copy remembers its source and its cost price."""

    __table_args__ = (
        UniqueConstraint("organization_id", "sku"),
        # One copy per source product per tenant: what makes the copy step idempotent.
        UniqueConstraint("organization_id", "source_product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: both unique keys lead with it. A lone index on it was redundant,
    # cost every copied row one more index entry, and drew PostgreSQL's planner (statistics
    # from before a copy) into walking a tenant's whole catalogue for each batch.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), nullable=False)
    platform_id: Mapped[int] = mapped_column(ForeignKey("provisioning_platform.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80), default="")
    billing_period: Mapped[str] = mapped_column(String(20), default="Monthly")
    # Marketing, owned by the tenant even on copied products: an uploaded image (re-encoded,
    # generated name) and marketing text already sanitized by nh3 when saved.
    image_path: Mapped[str] = mapped_column(String(120), default="")
    marketing_html: Mapped[str] = mapped_column(Text, default="")
    source_product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    cost_price: Mapped[Decimal | None] = mapped_column(Money)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    # Set by Update Tenant when the distributor no longer sells the source product: kept for
    # existing subscriptions, hidden from the storefront.
    discontinued: Mapped[bool] = mapped_column(Boolean, default=False)

    platform: Mapped[ProvisioningPlatform] = relationship()

    @property
    def managed_by_distributor(self) -> bool:
        return self.source_product_id is not None


class PriceList(OrgScoped, TimestampMixin, db.Model):
    """A named list of retail prices in one currency."""

    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    items: Mapped[list[PriceListItem]] = relationship(
        back_populates="price_list", cascade="all, delete-orphan", lazy="dynamic"
    )


class PriceListItem(OrgScoped, db.Model):
    """The retail price of one product in one price list."""

    __table_args__ = (
        UniqueConstraint("price_list_id", "product_id"),
        Index("ix_price_list_item_list_id", "price_list_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    retail_price: Mapped[Decimal] = mapped_column(Money)

    price_list: Mapped[PriceList] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    @property
    def retail_text(self) -> str:
        """The price for an input field: 12.50, or 12.3456 when it has more places."""
        from webapp.services.pricing import plain

        return plain(self.retail_price)
