"""Tenant resellers and their storefronts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.account import Account
from webapp.models.base import OrgScoped, TimestampMixin, UTCDateTime
from webapp.models.catalog import PriceList
from webapp.models.organization import Organization


class TenantStatus(StrEnum):
    IN_PROGRESS = "In Progress"
    ACTIVE = "Active"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    SUSPENDED = "Suspended"
    MARKED_AS_DELETED = "Marked as Deleted"


class TenantReseller(OrgScoped, TimestampMixin, db.Model):
    """Links a distributor's reseller account to the tenant organization made for it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # One tenant reseller per account, whoever clicks and however often.
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), unique=True)
    tenant_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id"), unique=True
    )
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id"))
    language: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64))
    date_format: Mapped[str] = mapped_column(String(32))
    edition: Mapped[str] = mapped_column(String(20))
    separate_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    admin_username: Mapped[str] = mapped_column(String(80))
    admin_email: Mapped[str] = mapped_column(String(254))
    # Only the argon2id hash is kept, until the pipeline has created the administrator.
    admin_password_hash: Mapped[str | None] = mapped_column(String(255))
    # "Send the administrator an invitation instead of setting a password": no hash above;
    # the administrator chooses a password from the emailed link.
    invite_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the welcome email (Client ID, sign-in link) was written: at most once per tenant.
    admin_welcomed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    was_lite_reseller: Mapped[bool] = mapped_column(Boolean, default=False)
    back_ordering_active: Mapped[bool] = mapped_column(Boolean, default=False)
    back_ordering_activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=TenantStatus.IN_PROGRESS)
    # The range of products inherited from the price list: None means every platform / every
    # category; respected by the creation's copy and by every Update Tenant.
    range_platform_ids: Mapped[list[int] | None] = mapped_column(JSON)
    range_categories: Mapped[list[str] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The lifecycle actions (services/tenant_lifecycle.py): when it was suspended; when it
    # was marked as deleted, until when its data is kept, and what a restore returns it to.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marked_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purge_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_before_deletion: Mapped[str | None] = mapped_column(String(20))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()
    price_list: Mapped[PriceList] = relationship()
    tenant_organization: Mapped[Organization | None] = relationship(
        foreign_keys=[tenant_organization_id]
    )


class Storefront(OrgScoped, TimestampMixin, db.Model):
    """The tenant's public, white-label shop; organization_id is the tenant organization."""

    # One storefront per tenant: the create step cannot make a second one on a re-run.
    __table_args__ = (db.UniqueConstraint("organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    brand_name: Mapped[str] = mapped_column(String(200))
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    accent_color: Mapped[str] = mapped_column(String(7), default="#f0a500")
    hero_title: Mapped[str] = mapped_column(String(200), default="")
    hero_text: Mapped[str] = mapped_column(Text, default="")  # sanitized HTML (nh3) only
    logo_path: Mapped[str] = mapped_column(String(120), default="")
    favicon_path: Mapped[str] = mapped_column(String(120), default="")
    # Premium: the storefront also answers on this host name.
    custom_domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    # A custom domain is pending (never routed) until a DNS TXT record proves the tenant owns
    # it: _trbss-verify.<domain> = domain_token, checked by a queued job (services/domains.py).
    domain_token: Mapped[str] = mapped_column(String(64), default="", server_default="")
    domain_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    domain_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    domain_check_message: Mapped[str] = mapped_column(String(300), default="", server_default="")
    footer_links: Mapped[list] = mapped_column(JSON, default=list)
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_list.id"))
    branded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlatformSetting(OrgScoped, TimestampMixin, db.Model):
    """A tenant's provisioning settings for one platform its catalogue uses."""

    __table_args__ = (db.UniqueConstraint("organization_id", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("provisioning_platform.id"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    inherited_from_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))


class PlaybookTick(OrgScoped, TimestampMixin, db.Model):
    """A playbook item the tenant ticked by hand (organization_id is the tenant's): who and
    when (created_at). Items the data shows as done tick themselves and have no row."""

    __table_args__ = (db.UniqueConstraint("organization_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item: Mapped[str] = mapped_column(String(40))
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
