"""The process page and its polling fragment."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from webapp.extensions import db
from webapp.models import Account, Process, ProcessStatus, TaskStatus, TenantReseller, utcnow
from webapp.scoping import org_id
from webapp.services import process_actions

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
        if process.kind != "create_tenant_reseller":
            return "The process completed."
        return "The process completed. The tenant reseller is ready."
    if process.status == ProcessStatus.FAILED:
        return f"The process failed. {process.message}"
    if process.status == ProcessStatus.CANCELLED:
        return "The process was stopped."
    if running is not None:
        return f"Step {running.position} of {len(process.tasks)}: {running.title}."
    return f"The process is {process.status.lower()}."


def timing(process: Process) -> dict:
    """Elapsed time and a plain estimate of what remains, from progress so far."""
    if process.started_at is None:
        return {"elapsed": None, "remaining": None}
    end = process.finished_at or utcnow()
    elapsed = (end - process.started_at).total_seconds()
    percent = process.progress_percent
    remaining = None
    if not process.is_finished and 0 < percent < 100:
        remaining = elapsed * (100 - percent) / percent
    return {"elapsed": elapsed, "remaining": remaining}


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
        "timing": timing(process),
        "actions": process_actions.available_actions(process, current_user),
    }


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
    return render_block("processes/view.html", "status", **_context(process))


ACTIONS = {
    "retry": (process_actions.retry, "Retry queued: the failed task and those after it run again."),
    "resume": (process_actions.resume, "Resume queued: the process continues where it stopped."),
    "cancel": (process_actions.cancel, "The process was cancelled before it started."),
    "stop": (process_actions.stop, "Stop requested: the process stops at the next safe point."),
    "cleanup": (
        process_actions.cleanup,
        "Cleaned up: what the creation made was removed; the account can start again.",
    ),
    "mark_failed": (process_actions.mark_failed, "The process was marked as failed."),
}


@bp.post("/<int:process_id>/<action>")
def act(process_id: int, action: str):
    """Run one staff action; refused politely (409) when the process moved on meanwhile."""
    if action not in ACTIONS:
        abort(404)
    process = Process.get_in_org_or_404(process_id, org_id())
    if action == "mark_failed" and not current_user.is_admin:
        abort(403)
    handler, done_message = ACTIONS[action]
    try:
        handler(process, current_user)
    except process_actions.ActionRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("processes.view", process_id=process_id), code=303)
    flash(done_message, "success")
    return redirect(url_for("processes.view", process_id=process_id), code=303)
