"""The monthly invoice run, issuing its drafts, and repairing what reconciliation found: three
kinds of process, each resumable (a reseller's drafts, a batch of issued invoices, a repaired
subscription commit with their progress)."""

from __future__ import annotations

from decimal import Decimal

from webapp.extensions import db
from webapp.models import DomainEvent, Organization, Subscription, User
from webapp.services import audit, backordering, invoicing, mail
from webapp.services.billing import reconciliation
from webapp.services.invoicing import Period
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step

ISSUE_BATCH = 50


def _period(ctx: StepContext) -> Period:
    return Period.parse(ctx.params["period"])


def _actor(ctx: StepContext) -> User | None:
    if ctx.process.created_by_id is None:
        return None
    return db.session.get(User, ctx.process.created_by_id)


def check_period(ctx: StepContext) -> str:
    """Only a month that has ended in the distributor's time zone is billed."""
    organization = db.session.get(Organization, ctx.process.organization_id)
    period = _period(ctx)
    try:
        invoicing.parse_period(period.label, organization)
    except invoicing.BadPeriod as refused:
        raise StepFailure(str(refused)) from refused
    return f"{period.title} has ended: it can be billed."


def build_drafts(ctx: StepContext) -> str:
    """Each reseller's drafts for what is still to bill, committed reseller by reseller."""
    period = _period(ctx)
    organization_id = ctx.process.organization_id
    state = ctx.state
    if "resellers" not in state:
        state = {
            "resellers": invoicing.resellers_to_bill(organization_id, period),
            "done": 0,
            "drafts": 0,
            "replaced": 0,
            "warnings": [],
            "totals": {},
        }
        ctx.save_state(**state)
    resellers = state["resellers"]
    totals = {c: Decimal(t) for c, t in state["totals"].items()}
    done, drafts, replaced, warnings = (
        state["done"],
        state["drafts"],
        state["replaced"],
        state["warnings"],
    )
    for reseller_id in resellers[done:]:
        result = invoicing.build_drafts(organization_id, period, reseller_id)
        done += 1
        drafts += len(result.invoices)
        replaced += result.replaced
        warnings = (warnings + result.warnings)[:50]
        for currency, total in result.totals.items():
            totals[currency] = totals.get(currency, Decimal(0)) + total
        ctx.save_state(
            done=done,
            drafts=drafts,
            replaced=replaced,
            warnings=warnings,
            totals={c: str(t) for c, t in totals.items()},
        )
        ctx.progress(done, len(resellers))
        ctx.checkpoint()
    ctx.progress(len(resellers), len(resellers))
    summary = (
        f"{drafts} draft(s) for {len(resellers)} reseller(s)"
        + (f" (replacing {replaced})" if replaced else "")
        + ("; total " + ", ".join(f"{c} {t}" for c, t in sorted(totals.items())) if totals else "")
        + "."
    )
    if warnings:
        summary += f" {len(warnings)} subscription(s) could not be billed: " + " ".join(
            warnings[:3]
        )
    audit.record(
        organization_id=organization_id,
        actor=_actor(ctx),
        action="invoice_run.run",
        entity_type="invoice_run",
        entity_id=period.audit_id,
        summary=f"Invoice run {period}: {summary}"[:400],
        after={
            "period": period.label,
            "drafts": drafts,
            "replaced": replaced,
            "totals": {c: str(t) for c, t in totals.items()},
            "warnings": warnings,
        },
        process_id=ctx.process.id,
    )
    return summary


def reconcile_before_issue(ctx: StepContext) -> str:
    """Nothing is issued while the reconciliation shows differences."""
    report = reconciliation.reconcile(ctx.process.organization_id, _period(ctx))
    if not report.ok:
        listed = " ".join(f"{d.message}." for d in report.differences[:5])
        more = len(report.differences) - 5
        raise StepFailure(
            f"The reconciliation shows {len(report.differences)} difference(s): {listed}"
            + (f" … and {more} more." if more > 0 else "")
            + " Repair them on Invoices › Reconciliation, then retry."
        )
    return (
        f"No differences: {report.subscriptions} subscription(s) and "
        f"{report.invoice_lines} invoice line(s) checked."
    )


def issue_drafts(ctx: StepContext) -> str:
    """Number, date and send the period's drafts, a batch at a time."""
    period = _period(ctx)
    organization = db.session.get(Organization, ctx.process.organization_id)
    drafts = invoicing.drafts_of(organization.id, period)
    total = ctx.state.get("total") or len(drafts)
    issued = ctx.state.get("issued", 0)
    ctx.save_state(total=total)
    for start in range(0, len(drafts), ISSUE_BATCH):
        emails = []
        for invoice in drafts[start : start + ISSUE_BATCH]:
            email = invoicing.issue(invoice, organization, _actor(ctx))
            if email is not None:
                emails.append(email)
            issued += 1
        ctx.save_state(issued=issued)
        ctx.progress(min(issued, total), total)
        ctx.checkpoint()
        mail.deliver(emails)
    ctx.progress(total, total)
    return f"{issued} invoice(s) and credit note(s) of {period.title} issued and emailed."


def resend_states(ctx: StepContext) -> str:
    """Each subscription that differs: its own events that never got through are applied
    again first (they carry when the change happened); if its copy still differs, its
    current state is sent as an event of its own, the order being the difference."""
    organization_id = ctx.process.organization_id
    ids = ctx.params.get("subscription_ids", [])
    failed = 0
    for done, subscription_id in enumerate(ids, start=1):
        sub = db.session.get(Subscription, subscription_id)
        if sub is not None:
            try:
                backordering.propagate(sub.id)
                if _still_differs(organization_id, sub.id):
                    _send_state(ctx, sub)
                    backordering.propagate(sub.id)
            except backordering.PropagationError:
                failed += 1
        ctx.progress(done, len(ids))
        ctx.checkpoint()
    return f"{len(ids) - failed} subscription(s) sent again" + (
        f"; {failed} failed (see the Back Ordering tab)." if failed else "."
    )


def _still_differs(organization_id: int, subscription_id: int) -> bool:
    report = reconciliation.Report(period=None)
    reconciliation.check_subscriptions(
        db.session.get(Organization, organization_id), report, only=subscription_id
    )
    return not report.ok


def _send_state(ctx: StepContext, sub: Subscription) -> None:
    key = f"repair:{ctx.process.id}:{sub.id}"
    if db.session.scalar(db.select(DomainEvent.id).where(DomainEvent.idempotency_key == key)):
        return
    db.session.add(
        DomainEvent(
            organization_id=sub.organization_id,
            kind="subscription.updated",
            idempotency_key=key,
            subscription_id=sub.id,
            status="Pending",
            payload={
                "subscription_id": sub.id,
                "account_id": sub.account_id,
                "product_id": sub.product_id,
                "quantity": sub.quantity,
                "unit_price": str(sub.unit_price),
                "currency": sub.currency,
                "status": sub.status,
                "order_number": f"REPAIR-{ctx.process.id}",
            },
        )
    )
    ctx.commit()


def rebuild_drafts(ctx: StepContext) -> str:
    """The drafts of the months whose invoices differ, made again."""
    periods = [Period.parse(label) for label in ctx.params.get("periods", [])]
    made = 0
    for period in periods:
        for reseller_id in invoicing.resellers_to_bill(ctx.process.organization_id, period):
            made += len(
                invoicing.build_drafts(ctx.process.organization_id, period, reseller_id).invoices
            )
            ctx.checkpoint()
    return f"{made} draft(s) made for {', '.join(p.title for p in periods) or 'no month'}."


def check_again(ctx: StepContext) -> str:
    period = Period.parse(ctx.params["period"]) if ctx.params.get("period") else None
    report = reconciliation.reconcile(ctx.process.organization_id, period)
    if report.ok:
        return "The reconciliation shows no differences any more."
    return (
        f"{len(report.differences)} difference(s) remain: see Invoices › Reconciliation "
        "(a failed back-ordering event may need fixing first)."
    )


RUN_STEPS = [
    Step("invoice_check_period", "Check the month has ended", check_period),
    Step("invoice_build_drafts", "Make draft invoices", build_drafts),
]
ISSUE_STEPS = [
    Step("invoice_reconcile", "Reconcile", reconcile_before_issue),
    Step("invoice_issue_drafts", "Issue and email the invoices", issue_drafts),
]
REPAIR_STEPS = [
    Step("repair_resend_states", "Send subscriptions again", resend_states),
    Step("repair_rebuild_drafts", "Make draft invoices again", rebuild_drafts),
    Step("repair_check_again", "Reconcile again", check_again),
]
