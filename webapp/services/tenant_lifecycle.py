"""A tenant reseller's life after creation: suspend, reactivate, change edition, mark as
deleted, restore. Each is a confirmed, audited change of a few rows made by the distributor.

Suspended and Marked as Deleted close the tenant's sign-in (its users are told why) and its
storefront; nothing else stops: subscriptions keep running and are invoiced, back-ordering
keeps propagating its queue. A tenant marked as deleted keeps its data until `purge_after`
and can be restored until then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Edition,
    Organization,
    OrgStatus,
    Process,
    Storefront,
    TenantReseller,
    TenantStatus,
    User,
    utcnow,
)
from webapp.services import audit
from webapp.services.processes.errors import ProcessRefused

# The Basic edition includes one user: the tenant's administrator (webapp/users/routes.py).
BASIC_USER_LIMIT = 1

LifecycleRefused = ProcessRefused

SUSPENDED_SIGN_IN = (
    "Your organization's access is suspended by your distributor. Your storefront is "
    "temporarily unavailable; your customers' subscriptions keep running. Contact your "
    "distributor to have it reactivated."
)
DELETED_SIGN_IN = (
    "Your organization was closed by your distributor: sign-in and the storefront are "
    "closed. Contact your distributor if this is a mistake."
)

CLOSED_STATUSES = (OrgStatus.SUSPENDED, OrgStatus.MARKED_AS_DELETED)


def closed_message(org: Organization | None) -> str | None:
    """Why this organization's users cannot sign in now, or None when they can."""
    if org is None:
        return None
    if org.status == OrgStatus.SUSPENDED:
        return SUSPENDED_SIGN_IN
    if org.status == OrgStatus.MARKED_AS_DELETED:
        return DELETED_SIGN_IN
    return None


def _org(tenant: TenantReseller) -> Organization:
    org = (
        db.session.get(Organization, tenant.tenant_organization_id)
        if tenant.tenant_organization_id
        else None
    )
    if org is None:
        raise LifecycleRefused("The tenant reseller has no organization yet.")
    return org


def _refuse_unless(tenant: TenantReseller, *statuses: str, doing: str) -> None:
    if tenant.status not in statuses:
        allowed = " or ".join(statuses)
        raise LifecycleRefused(
            f"The tenant reseller is {tenant.status}: only a tenant that is {allowed} can be "
            f"{doing}."
        )


def _set_status(tenant: TenantReseller, org: Organization, status: str) -> None:
    tenant.status = status
    org.status = status  # the two enums share these values


def _audit(tenant, actor, action, summary, before, after) -> None:
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action=action,
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary=summary,
        before=before,
        after=after,
    )


def suspend(tenant: TenantReseller, actor: User | None) -> None:
    """Active → Suspended: sign-in and storefront closed, everything else keeps running."""
    _refuse_unless(tenant, TenantStatus.ACTIVE, doing="suspended")
    org = _org(tenant)
    _audit(
        tenant,
        actor,
        "tenant_reseller.suspend",
        "Suspended: sign-in and storefront closed",
        {"status": tenant.status},
        {"status": TenantStatus.SUSPENDED},
    )
    _set_status(tenant, org, TenantStatus.SUSPENDED)
    tenant.suspended_at = utcnow()
    db.session.commit()


def reactivate(tenant: TenantReseller, actor: User | None) -> None:
    """Suspended → Active: sign-in and storefront open again."""
    _refuse_unless(tenant, TenantStatus.SUSPENDED, doing="reactivated")
    org = _org(tenant)
    _audit(
        tenant,
        actor,
        "tenant_reseller.reactivate",
        "Reactivated: sign-in and storefront open",
        {"status": tenant.status},
        {"status": TenantStatus.ACTIVE},
    )
    _set_status(tenant, org, TenantStatus.ACTIVE)
    tenant.suspended_at = None
    db.session.commit()


# --- Edition ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DowngradeEffects:
    """What a change to Basic turns off."""

    custom_domain: str | None
    footer_links: int
    users_deactivated: list[str]

    @property
    def lines(self) -> list[str]:
        lines = []
        if self.custom_domain:
            lines.append(f"The custom domain {self.custom_domain} is removed from the storefront.")
        if self.footer_links:
            lines.append(f"The storefront's {self.footer_links} footer link(s) are removed.")
        if self.users_deactivated:
            names = ", ".join(self.users_deactivated)
            lines.append(
                f"Users beyond the Basic limit of {BASIC_USER_LIMIT} are deactivated: {names}."
            )
        return lines


def _extra_users(tenant: TenantReseller, org: Organization) -> list[User]:
    """The active users a Basic tenant may not have: all but its administrator (or, if that
    one is gone, the oldest active user)."""
    users = db.session.scalars(
        select(User).where(User.organization_id == org.id, User.active.is_(True)).order_by(User.id)
    ).all()
    admins = [u for u in users if u.username == tenant.admin_username]
    kept = (admins + [u for u in users if u not in admins])[:BASIC_USER_LIMIT]
    return [u for u in users if u not in kept]


def downgrade_effects(tenant: TenantReseller) -> DowngradeEffects:
    """What Premium → Basic would turn off now (shown before the confirmation)."""
    org = _org(tenant)
    storefront = db.session.scalar(Storefront.in_org(org.id))
    return DowngradeEffects(
        custom_domain=storefront.custom_domain if storefront else None,
        footer_links=len(storefront.footer_links or []) if storefront else 0,
        users_deactivated=[u.username for u in _extra_users(tenant, org)],
    )


def change_edition(tenant: TenantReseller, actor: User | None, edition: str) -> list[str]:
    """Basic ↔ Premium; a downgrade turns off what Basic does not include. Returns what was
    turned off, one sentence each."""
    if edition not in {e.value for e in Edition}:
        raise LifecycleRefused("Choose Basic or Premium.")
    _refuse_unless(tenant, TenantStatus.ACTIVE, TenantStatus.SUSPENDED, doing="changed")
    if edition == tenant.edition:
        raise LifecycleRefused(f"The tenant reseller already has the {edition} edition.")
    org = _org(tenant)
    turned_off: list[str] = []
    before: dict = {"edition": tenant.edition}
    after: dict = {"edition": edition}
    if edition == Edition.BASIC:
        effects = downgrade_effects(tenant)
        turned_off = effects.lines
        storefront = db.session.scalar(Storefront.in_org(org.id))
        if storefront is not None:
            before |= {
                "custom_domain": storefront.custom_domain,
                "footer_links": list(storefront.footer_links or []),
            }
            storefront.custom_domain = None
            storefront.footer_links = []
            after |= {"custom_domain": None, "footer_links": []}
        if effects.users_deactivated:
            for user in _extra_users(tenant, org):
                user.active = False
            before["active_users"] = effects.users_deactivated
            after["deactivated_users"] = effects.users_deactivated
    summary = f"Edition changed from {tenant.edition} to {edition}"
    if turned_off:
        summary += ": " + " ".join(turned_off)
    _audit(tenant, actor, "tenant_reseller.edition", summary, before, after)
    tenant.edition = edition
    org.edition = edition
    db.session.commit()
    if edition == Edition.BASIC:
        from webapp.storefront.hosts import forget_hosts

        forget_hosts()
    return turned_off


# --- Mark as deleted, restore ------------------------------------------------------------------


def retention() -> timedelta:
    return timedelta(days=current_app.config["TENANT_RETENTION_DAYS"])


def display_name(tenant: TenantReseller) -> str:
    """The name the distributor types to confirm a deletion."""
    return tenant.account.name


def mark_deleted(tenant: TenantReseller, actor: User | None, typed_name: str) -> None:
    """Active or Suspended → Marked as Deleted, confirmed by typing the tenant's name; its
    data is kept for the retention period, then purged."""
    _refuse_unless(tenant, TenantStatus.ACTIVE, TenantStatus.SUSPENDED, doing="marked as deleted")
    if (typed_name or "").strip() != display_name(tenant):
        raise LifecycleRefused(
            f"Type the tenant reseller's name, {display_name(tenant)}, exactly to confirm."
        )
    org = _org(tenant)
    now = utcnow()
    purge_after = now + retention()
    _audit(
        tenant,
        actor,
        "tenant_reseller.mark_deleted",
        f"Marked as deleted: data kept until {purge_after:%Y-%m-%d %H:%M} UTC",
        {"status": tenant.status},
        {"status": TenantStatus.MARKED_AS_DELETED, "purge_after": purge_after.isoformat()},
    )
    tenant.status_before_deletion = tenant.status
    _set_status(tenant, org, TenantStatus.MARKED_AS_DELETED)
    tenant.marked_deleted_at = now
    tenant.purge_after = purge_after
    db.session.commit()


def can_restore(tenant: TenantReseller) -> bool:
    return (
        tenant.status == TenantStatus.MARKED_AS_DELETED
        and tenant.purge_after is not None
        and tenant.purge_after > utcnow()
    )


def restore(tenant: TenantReseller, actor: User | None) -> None:
    """Marked as Deleted → the status it had before, while its data is still kept."""
    if not can_restore(tenant):
        raise LifecycleRefused(
            "Only a tenant reseller marked as deleted whose retention period has not ended "
            "can be restored."
        )
    org = _org(tenant)
    back_to = tenant.status_before_deletion or TenantStatus.SUSPENDED
    _audit(
        tenant,
        actor,
        "tenant_reseller.restore",
        f"Restored: {back_to} again",
        {"status": tenant.status},
        {"status": back_to},
    )
    _set_status(tenant, org, back_to)
    tenant.marked_deleted_at = tenant.purge_after = tenant.status_before_deletion = None
    db.session.commit()


def launch_due_purges() -> list[int]:
    """The reaper's part: a purge process for each tenant marked as deleted whose retention
    period is over (one at a time per tenant: the tenant's process lock). Returns their ids."""
    from webapp.services.processes import ProcessKind, lifecycle
    from webapp.services.processes.purge_steps import PURGE_STEPS

    due = db.session.scalars(
        select(TenantReseller).where(
            TenantReseller.status == TenantStatus.MARKED_AS_DELETED,
            TenantReseller.purge_after <= utcnow(),
            TenantReseller.purged_at.is_(None),
        )
    ).all()
    launched = []
    for tenant in due:
        purges = select(Process.id).where(
            Process.tenant_reseller_id == tenant.id, Process.kind == ProcessKind.TENANT_PURGE
        )
        # One purge per tenant: a failed one is retried from its process page, not relaunched.
        if lifecycle.unfinished_for(tenant) is not None or db.session.scalar(purges.limit(1)):
            continue
        try:
            process = lifecycle.prepare(
                ProcessKind.TENANT_PURGE,
                organization_id=tenant.organization_id,
                name=f"Purge tenant reseller — {tenant.account.name}",
                steps=PURGE_STEPS,
                tenant=tenant,
            )
        except LifecycleRefused:
            continue  # another worker launched it a moment ago
        audit.record(
            organization_id=tenant.organization_id,
            actor=None,
            action="tenant_reseller.purge",
            entity_type="tenant_reseller",
            entity_id=tenant.id,
            summary="Retention period over: purge of the tenant's data started",
            process_id=process.id,
        )
        lifecycle.start(process)
        launched.append(process.id)
    return launched
