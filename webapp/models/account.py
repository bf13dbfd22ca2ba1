"""Accounts (customers and resellers), provisioning platforms and per-account sync status."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import OrgScoped, TimestampMixin, UTCDateTime


class Account(OrgScoped, TimestampMixin, db.Model):
    """A customer or reseller of an organization."""

    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        # Back-ordering copies a tenant's customer up once: keyed by the tenant's account id.
        UniqueConstraint("organization_id", "source_account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    # Who receives its invoices, and the address printed on them.
    billing_email: Mapped[str] = mapped_column(String(254), default="")
    billing_address: Mapped[str] = mapped_column(Text, default="")
    is_reseller: Mapped[bool] = mapped_column(Boolean, default=False)
    is_lite_reseller: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled_for_ordering: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_currency: Mapped[str] = mapped_column(String(3), default="EUR")
    separate_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    managed_by_reseller: Mapped[bool] = mapped_column(Boolean, default=False)
    source_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))

    syncs: Mapped[list[AccountPlatformSync]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        if self.is_lite_reseller:
            return "Lite reseller"
        if self.is_reseller:
            return "Reseller"
        return "Customer"

    @property
    def can_become_tenant(self) -> bool:
        """Only resellers (full or lite) can be turned into a tenant reseller."""
        return self.is_reseller or self.is_lite_reseller


class ProvisioningPlatform(db.Model):
    """Reference data shared by every organization: where a product is provisioned."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    requires_reseller_sync: Mapped[bool] = mapped_column(Boolean, default=False)
    sync_help: Mapped[str] = mapped_column(String(400), default="")


class SyncStatus(StrEnum):
    NOT_SYNCED = "Not synced"
    SYNCED_AS_RESELLER = "Synced as reseller"


class AccountPlatformSync(OrgScoped, TimestampMixin, db.Model):
    """Whether an account is synced as reseller on one provisioning platform."""

    __table_args__ = (UniqueConstraint("account_id", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("provisioning_platform.id"))
    status: Mapped[str] = mapped_column(String(40), default=SyncStatus.NOT_SYNCED)
    external_reference: Mapped[str] = mapped_column(String(120), default="")
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "manual" (a reference typed by staff) or "adapter" (the platform adapter's sync job,
    # the reference being the remote reseller id it returned); and who did it.
    method: Mapped[str] = mapped_column(String(20), default="manual", server_default="manual")
    synced_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    account: Mapped[Account] = relationship(back_populates="syncs")
    platform: Mapped[ProvisioningPlatform] = relationship()
    synced_by = relationship("User", foreign_keys=[synced_by_id])


class SandboxAdapterSetting(OrgScoped, TimestampMixin, db.Model):
    """The local sandbox adapter's settings for one platform: the next `failures_left` syncs
    fail with `failure` (services/provisioning.py), so a failure and a retry can be tried."""

    __table_args__ = (UniqueConstraint("organization_id", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("provisioning_platform.id"))
    failure: Mapped[str] = mapped_column(String(40), default="")
    failures_left: Mapped[int] = mapped_column(Integer, default=0)
