"""The tenant reseller's "What's next" list, as a checklist that ticks itself."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select

from webapp.extensions import db
from webapp.models import Account, Storefront, Subscription, TenantReseller, TenantStatus


@dataclass
class NextStep:
    label: str
    done: bool
    detail: str = ""


def whats_next(tenant: TenantReseller) -> list[NextStep]:
    """The seed's What's next, plus the milestones that show the reseller is live."""
    if tenant.status != TenantStatus.ACTIVE or tenant.tenant_organization_id is None:
        return []
    org_id = tenant.tenant_organization_id
    storefront = db.session.scalar(Storefront.in_org(org_id))
    has_customer = db.session.scalar(select(exists().where(Account.organization_id == org_id)))
    has_paid = db.session.scalar(
        select(exists().where(Subscription.organization_id == org_id, Subscription.unit_price > 0))
    )
    from webapp.services.playbook import playbook as playbook_of

    book = playbook_of(tenant)
    steps = [
        NextStep(
            f"Train the reseller with the {book.edition} playbook",
            book.done == book.total,
            f"{book.done} of {book.total} playbook items done (the playbook below).",
        ),
    ]
    if tenant.was_lite_reseller:
        steps.append(
            NextStep(
                "Upgrade from lite reseller",
                tenant.back_ordering_active,
                "Copies its customers and subscriptions, then activates back-ordering.",
            )
        )
    steps += [
        NextStep(
            "Back-ordering activated",
            tenant.back_ordering_active,
            "Orders in the reseller's BSS then reach yours.",
        ),
        NextStep("Storefront branded", bool(storefront and storefront.branded_at)),
        NextStep("First customer", bool(has_customer)),
        NextStep("First paid subscription", bool(has_paid)),
    ]
    return steps
