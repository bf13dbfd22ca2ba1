"""Starting the billing processes: the invoice run of a month, issuing its drafts, and the
repair of what reconciliation found. Each is a queued process (services/processes)."""

from __future__ import annotations

from webapp.models import Organization, User
from webapp.services import audit
from webapp.services.billing.reconciliation import Report
from webapp.services.invoicing import Period
from webapp.services.processes import ProcessKind, lifecycle
from webapp.services.processes.invoice_steps import ISSUE_STEPS, REPAIR_STEPS, RUN_STEPS


def _month_lock(organization_id: int, period: Period) -> str:
    # The run and the issuing of one month never run at the same time.
    return f"invoices:{organization_id}:{period.label}"


def start_run(organization: Organization, period: Period, actor: User | None):
    """Queue the invoice run of a closed month (the caller has parsed the period)."""
    return lifecycle.launch(
        ProcessKind.INVOICE_RUN,
        organization_id=organization.id,
        name=f"Invoice run — {period.title}",
        steps=RUN_STEPS,
        actor=actor,
        lock_key=_month_lock(organization.id, period),
        params={"period": period.label},
    )


def start_issue(organization: Organization, period: Period, actor: User | None):
    """Queue the issuing of the month's drafts (after a reconciliation without differences)."""
    return lifecycle.launch(
        ProcessKind.INVOICE_ISSUE,
        organization_id=organization.id,
        name=f"Issue invoices — {period.title}",
        steps=ISSUE_STEPS,
        actor=actor,
        lock_key=_month_lock(organization.id, period),
        params={"period": period.label},
    )


def start_repair(organization: Organization, report: Report, actor: User | None):
    """Queue the repair of every difference of a reconciliation report."""
    subscription_ids = sorted({d.subscription_id for d in report.differences if d.subscription_id})
    # The checked month's drafts are made again too: a repaired subscription may cost it more.
    periods = {d.period for d in report.differences if d.period}
    if report.period is not None:
        periods.add(report.period.label)
    periods = sorted(periods)
    process = lifecycle.prepare(
        ProcessKind.BILLING_REPAIR,
        organization_id=organization.id,
        name=f"Billing repair — {len(report.differences)} difference(s)",
        steps=REPAIR_STEPS,
        actor=actor,
        lock_key=f"billing_repair:{organization.id}",
        params={
            "subscription_ids": subscription_ids,
            "periods": periods,
            "period": report.period.label if report.period else None,
        },
    )
    audit.record(
        organization_id=organization.id,
        actor=actor,
        action="billing.repair_requested",
        entity_type="process",
        entity_id=process.id,
        summary=f"Repair of {len(report.differences)} reconciliation difference(s) requested",
        after={"differences": [d.message for d in report.differences[:50]]},
        process_id=process.id,
    )
    return lifecycle.start(process)
