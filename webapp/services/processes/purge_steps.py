"""Purging a tenant reseller marked as deleted whose retention period is over (launched by the
reaper: services/tenant_lifecycle.launch_due_purges).

Every row of the tenant's organization is deleted, table by table (children first, from the
schema's own dependency order), after the few references other organizations hold to them
(the distributor's copies of the tenant's subscriptions and accounts) are cleared. The tenant
reseller row stays in the distributor's organization, with its audit trail, marked purged.
Each step is a set of DELETE/UPDATE ... WHERE statements: a re-run finds nothing more to do."""

from __future__ import annotations

from sqlalchemy import Table, delete, select, update

from webapp.extensions import db
from webapp.models import Organization, TenantStatus, utcnow
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step

# Tables with no organization_id of their own, deleted through their parent's rows.
CHILD_TABLES = {
    "recovery_code": ("user_id", "user"),
    "user_session": ("user_id", "user"),
    "invoice_line": ("invoice_id", "invoice"),
    "order_line": ("order_id", "order"),
    "process_task": ("process_id", "process"),
}
# Rows of the distributor kept by the purge: the tenant reseller itself (and its processes).
KEPT_TABLES = {"organization", "tenant_reseller"}


def _tenant_org_id(ctx: StepContext) -> int | None:
    tenant = ctx.tenant
    if tenant is None:
        raise StepFailure("The tenant reseller no longer exists.")
    if tenant.status != TenantStatus.MARKED_AS_DELETED:
        raise StepFailure(f"The tenant reseller is {tenant.status} again: nothing is purged.")
    return tenant.tenant_organization_id


def _org_tables() -> list[Table]:
    return [
        t
        for t in db.metadata.sorted_tables
        if "organization_id" in t.c and t.name not in KEPT_TABLES
    ]


def _owned(table: Table, org_id: int):
    return select(table.c.id).where(table.c.organization_id == org_id)


def detach_references(ctx: StepContext) -> str:
    """Rows of other organizations that point at the tenant's rows (a distributor's copy of
    a subscription sold by the tenant, an audit row by one of its users) keep existing
    without the pointer."""
    org_id = _tenant_org_id(ctx)
    if org_id is None:
        return "Nothing to detach: the organization was already purged."
    by_name = {t.name: t for t in _org_tables()}
    cleared = 0
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            target = fk.column.table
            if target.name not in by_name or fk.column.name != "id":
                continue
            if "organization_id" in table.c:
                outside = table.c.organization_id != org_id
            elif table.name in CHILD_TABLES:
                continue  # deleted with their parents, all within the tenant
            else:
                outside = True
            if not fk.parent.nullable:
                continue  # children of the tenant's own rows: deleted in the next step
            cleared += db.session.execute(
                update(table)
                .where(outside, fk.parent.in_(_owned(target, org_id)))
                .values({fk.parent.name: None})
            ).rowcount
    ctx.commit()
    return f"{cleared} reference(s) from other organizations cleared."


def delete_rows(ctx: StepContext) -> str:
    """Every row of the tenant's organization, children first."""
    org_id = _tenant_org_id(ctx)
    if org_id is None:
        return "Nothing to delete: the organization was already purged."
    tables = _org_tables()
    by_name = {t.name: t for t in db.metadata.sorted_tables}
    deleted = 0
    ordered = list(reversed(db.metadata.sorted_tables))
    for done, table in enumerate(ordered, start=1):
        if table.name in CHILD_TABLES:
            column, parent = CHILD_TABLES[table.name]
            deleted += db.session.execute(
                delete(table).where(table.c[column].in_(_owned(by_name[parent], org_id)))
            ).rowcount
        elif table in tables:
            deleted += db.session.execute(
                delete(table).where(table.c.organization_id == org_id)
            ).rowcount
        ctx.progress(done, len(ordered))
        ctx.checkpoint()
    return f"{deleted} row(s) of the tenant deleted."


def delete_organization(ctx: StepContext) -> str:
    """The organization itself; the tenant reseller row records when its data was purged."""
    org_id = _tenant_org_id(ctx)
    tenant = ctx.tenant
    tenant.purged_at = tenant.purged_at or utcnow()
    if org_id is not None:
        tenant.tenant_organization_id = None
        db.session.flush()
        db.session.execute(delete(Organization).where(Organization.id == org_id))
    ctx.commit()
    return "The organization is purged; the tenant reseller record and its logs are kept."


PURGE_STEPS = [
    Step(
        "purge_detach_references", "Detach references from other organizations", detach_references
    ),
    Step("purge_delete_rows", "Delete the tenant's data", delete_rows),
    Step("purge_delete_organization", "Delete the organization", delete_organization),
]
