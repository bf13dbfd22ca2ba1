"""The processes: the module-wide list, one process's page, its polling fragment, actions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.listing import csv_response, stream, wants_csv
from webapp.models import Account, Process, ProcessStatus, TaskStatus, TenantReseller
from webapp.scoping import org_id
from webapp.services.processes import ProcessRefused, actions, estimate
from webapp.services.processes.kinds import KIND_LABELS, ProcessKind
from webapp.services.processes.listing import ProcessFilter, all_processes, process_page
from webapp.templating import render_fragment

bp = Blueprint("processes", __name__, url_prefix="/processes")


def step_state(process: Process) -> str:
    """What a screen reader should hear about: changes once per task change, not per %."""
    running = next((t for t in process.tasks if t.status == TaskStatus.RUNNING), None)
    if running is not None:
        return f"{running.position}:{running.status}"
    return process.status


def announcement(process: Process) -> str:
    running = next((t for t in process.tasks if t.status == TaskStatus.RUNNING), None)
    if process.status == ProcessStatus.COMPLETED:
        if process.kind != ProcessKind.CREATION:
            return "The process completed."
        return "The process completed. The tenant reseller is ready."
    if process.status == ProcessStatus.FAILED:
        return f"The process failed. {process.message}"
    if process.status == ProcessStatus.CANCELLED:
        return "The process was stopped."
    if running is not None:
        return f"Step {running.position} of {len(process.tasks)}: {running.title}."
    return f"The process is {process.status.lower()}."


def _context(process: Process) -> dict:
    tenant = (
        db.session.get(TenantReseller, process.tenant_reseller_id)
        if process.tenant_reseller_id
        else None
    )
    account = db.session.get(Account, tenant.account_id) if tenant else None
    state = step_state(process)
    return {
        "process": process,
        "tenant": tenant,
        "account": account,
        "state": state,
        "announce": request.args.get("seen") != state,
        "announcement": announcement(process),
        "timing": estimate.timing(process),
        "actions": actions.available(process, current_user),
    }


@bp.get("/")
def index():
    """Every process of my organization, filterable by status and kind; live while any of
    those shown is unfinished."""
    chosen = ProcessFilter.from_args(request.args)
    if wants_csv():
        return csv_response(
            "processes.csv",
            ["Process", "Kind", "Status", "Progress (%)", "Created", "Finished"],
            stream(all_processes(org_id(), chosen)),
            lambda p: [
                p.name,
                KIND_LABELS.get(p.kind, p.kind),
                p.status,
                p.progress_percent,
                p.created_at.isoformat(timespec="seconds"),
                p.finished_at.isoformat(timespec="seconds") if p.finished_at else "",
            ],
        )
    page = process_page(org_id(), chosen)
    template = "tenants/_process_rows.html" if is_htmx() else "processes/list.html"
    return render_template(template, page=page, list_url=url_for("processes.index"))


@bp.get("/<int:process_id>")
def view(process_id: int):
    """Every task with status, items, start, end, duration and message; live while running."""
    process = Process.get_in_org_or_404(process_id, org_id())
    # The full page already carries the live region; only polls swap it out of band.
    return render_template("processes/view.html", **{**_context(process), "announce": False})


@bp.get("/<int:process_id>/status")
def status(process_id: int):
    """The polling fragment; once finished it carries no trigger, so polling stops."""
    process = Process.get_in_org_or_404(process_id, org_id())
    return render_fragment("processes/view.html", "status", **_context(process))


@bp.post("/<int:process_id>/<action>")
def act(process_id: int, action: str):
    """Run one staff action; refused politely when the process moved on meanwhile."""
    chosen = actions.ACTIONS.get(action)
    if chosen is None:
        abort(404)
    process = Process.get_in_org_or_404(process_id, org_id())
    if chosen.admin_only and not current_user.is_admin:
        abort(403)
    try:
        chosen.handler(process, current_user)
    except ProcessRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("processes.view", process_id=process_id), code=303)
    flash(chosen.done, "success")
    return redirect(url_for("processes.view", process_id=process_id), code=303)
