"""The one JSON shape of a process, for the API, the CLI's --json and the page's data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, has_request_context, url_for

from webapp.extensions import db
from webapp.models import Organization, Process, ProcessTask, TenantReseller
from webapp.services.processes import estimate


def when(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC, or null."""
    return moment.isoformat() if moment is not None else None


def path(endpoint: str, **values) -> str:
    """A URL path, in a request or not (the CLI has none)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def client_id_of(tenant: TenantReseller | None) -> str | None:
    if tenant is None or tenant.tenant_organization_id is None:
        return None
    org = db.session.get(Organization, tenant.tenant_organization_id)
    return org.display_client_id if org else None  # the form the UI shows


def task_json(task: ProcessTask) -> dict[str, Any]:
    duration = task.duration_seconds
    return {
        "position": task.position,
        "name": task.title,
        "step": task.step,
        "status": task.status,
        "items_done": task.items_done,
        "items_total": task.items_total,
        "started_at": when(task.started_at),
        "finished_at": when(task.finished_at),
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "message": task.message,
    }


def process_json(process: Process, with_tasks: bool = False) -> dict[str, Any]:
    tenant = (
        db.session.get(TenantReseller, process.tenant_reseller_id)
        if process.tenant_reseller_id
        else None
    )
    timing = estimate.timing(process) if with_tasks else None
    body: dict[str, Any] = {
        "id": process.id,
        "kind": process.kind,
        "name": process.name,
        "status": process.status,
        "progress": process.progress_percent,
        "finished": process.is_finished,
        "tenant_reseller_id": process.tenant_reseller_id,
        "client_id": client_id_of(tenant),
        "message": process.message,
        "created_at": when(process.created_at),
        "started_at": when(process.started_at),
        "finished_at": when(process.finished_at),
        "links": {"self": path("api.process", process_id=process.id)},
    }
    if tenant is not None:
        body["links"]["tenant_reseller"] = path("api.tenant_reseller", tenant_id=tenant.id)
    if with_tasks:
        remaining = timing.remaining if timing else None
        body["estimated_seconds_remaining"] = round(remaining, 1) if remaining else None
        body["tasks"] = [task_json(t) for t in process.tasks]
    return body
