"""The Processes tab's read model: a page of processes, filtered by status and kind, with
their tasks loaded in one more query (no query per row)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import FINISHED_PROCESS_STATUSES, Process, ProcessStatus
from webapp.services.processes.kinds import ProcessKind

PAGE_SIZE = 50
MAX_PAGE = 100_000


@dataclass(frozen=True)
class ProcessFilter:
    status: str = ""
    kind: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> ProcessFilter:
        """Unknown values are ignored (the filter shows everything), never an error."""
        status = args.get("status", "")
        kind = args.get("kind", "")
        raw_page = args.get("page", "1")
        page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1
        return cls(
            status=status if status in {s.value for s in ProcessStatus} else "",
            kind=kind if kind in {k.value for k in ProcessKind} else "",
            page=min(max(page, 1), MAX_PAGE),
        )

    def query_args(self, **changes) -> dict:
        values = {"status": self.status, "kind": self.kind, "page": self.page, **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass
class ProcessPage:
    filter: ProcessFilter
    rows: list[Process] = field(default_factory=list)
    total: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def live(self) -> bool:
        """Poll while any process shown is unfinished; a finished page has no trigger."""
        return any(p.status not in FINISHED_PROCESS_STATUSES for p in self.rows)

    @property
    def statuses(self) -> list[str]:
        return [s.value for s in ProcessStatus]

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(k.value, k.label) for k in ProcessKind]


def _where(
    organization_id: int,
    chosen: ProcessFilter,
    tenant_reseller_id: int | None,
    tenants_only: bool,
) -> list:
    where = [Process.organization_id == organization_id]
    if tenant_reseller_id is not None:
        where.append(Process.tenant_reseller_id == tenant_reseller_id)
    elif tenants_only:
        where.append(Process.tenant_reseller_id.is_not(None))
    if chosen.status:
        where.append(Process.status == chosen.status)
    if chosen.kind:
        where.append(Process.kind == chosen.kind)
    return where


def all_processes(organization_id: int, chosen: ProcessFilter, tenants_only: bool = False):
    """Every process the filter matches, newest first, with its tasks (an export's rows)."""
    return (
        select(Process)
        .where(*_where(organization_id, chosen, None, tenants_only))
        .options(selectinload(Process.tasks))
        .order_by(Process.created_at.desc(), Process.id.desc())
    )


def process_page(
    organization_id: int,
    chosen: ProcessFilter,
    tenant_reseller_id: int | None = None,
    tenants_only: bool = False,
) -> ProcessPage:
    """A page of processes: one tenant reseller's, every tenant reseller's (`tenants_only`),
    or all of the organization's (invoice runs and repairs included)."""
    where = _where(organization_id, chosen, tenant_reseller_id, tenants_only)
    total = db.session.scalar(select(func.count()).select_from(Process).where(*where))
    rows = db.session.scalars(
        select(Process)
        .where(*where)
        .options(selectinload(Process.tasks))
        .order_by(Process.created_at.desc(), Process.id.desc())
        .offset((chosen.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return ProcessPage(filter=chosen, rows=list(rows), total=total)
