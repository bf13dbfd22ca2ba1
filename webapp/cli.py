"""Flask commands: seed-demo, worker, tenant-reseller create, processes list/show, reap."""

from __future__ import annotations

import json
import sys
import time

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from webapp.extensions import db


def normalise_client_id(raw: str) -> str:
    """Both forms on input: "UELM5-6HM2C" and "UELM56HM2C" name the same organization."""
    from webapp.services.client_ids import normalise_client_id as normalise

    return normalise(raw)


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(reap_command)
    app.cli.add_command(tenant_reseller_group)
    app.cli.add_command(processes_group)
    app.cli.add_command(invoices_group)
    app.cli.add_command(billing_group)


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--products", type=click.IntRange(min=1), help="Also create Bulk EUR with N products."
)
def seed_demo_command(products: int | None) -> None:
    """Create the demo distributor (Client ID DEMO) and its data; safe to run again."""
    from webapp.demo import seed_bulk, seed_demo

    org = seed_demo()
    click.echo(f"Demo data ready: Client ID {org.display_client_id}, username admin.")
    if products:
        started = time.perf_counter()
        seed_bulk(org, products)
        click.echo(f"Bulk EUR has {products:,} products ({time.perf_counter() - started:.1f} s).")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--name", default=None, help="Worker name shown in the RQ dashboard.")
def worker_command(burst: bool, name: str | None) -> None:
    """Run an RQ worker for the process queue (jobs run with this app's context)."""
    from jobs.worker import run_worker

    run_worker(burst=burst, name=name)


@click.command("reap")
@with_appcontext
def reap_command() -> None:
    """Re-enqueue processes that have no live job (workers also do this periodically)."""
    from jobs.reaper import sweep

    report = sweep()
    if report.skipped_locked:
        click.echo("another worker is sweeping right now; nothing done")
        return
    click.echo(
        f"re-enqueued: {report.requeued or 'none'}; failed: {report.failed or 'none'}; "
        f"events: {report.events or 'none'}; emails: {report.emails or 'none'}"
        + (f"; errors in: {', '.join(report.errors)}" if report.errors else "")
    )


def _fail(message: str) -> None:
    """Bad arguments: a clear message and exit code 2, as click does for its own errors."""
    raise click.UsageError(message)


# AppGroup: every sub-command runs inside the app context.
tenant_reseller_group = AppGroup("tenant-reseller", help="Create tenant resellers.")


@tenant_reseller_group.command("create")
@click.option("--account", "account_name", required=True, help="The reseller account's name.")
@click.option("--price-list", "price_list_name", required=True)
@click.option(
    "--edition",
    type=click.Choice(["basic", "premium"], case_sensitive=False),
    required=True,
    help="basic or premium, in any case (as in the API).",
)
@click.option("--language", required=True, help="A language code such as en or de.")
@click.option("--timezone", required=True, help="An IANA time zone such as Europe/Athens.")
@click.option("--date-format", required=True, help="For example dd/MM/yyyy.")
@click.option("--separate-invoices", is_flag=True)
@click.option("--admin-username", required=True)
@click.option("--admin-email", required=True)
@click.option(
    "--admin-password-stdin",
    is_flag=True,
    required=True,
    help="Read the administrator's password from standard input.",
)
@click.option(
    "--client-id",
    default="DEMO",
    show_default=True,
    help="The distributor organization's Client ID.",
)
@click.option("--wait", is_flag=True, help="Wait and print progress until it finishes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_command(**opts) -> None:
    """Create a tenant reseller from a ready reseller account (same rules as the form)."""
    from webapp.models import Account, Organization, PriceList
    from webapp.services import creation

    org = db.session.scalar(
        select(Organization).where(Organization.client_id == normalise_client_id(opts["client_id"]))
    )
    if org is None:
        _fail(f"No organization has Client ID {opts['client_id']}.")
    account = db.session.scalar(Account.in_org(org.id).where(Account.name == opts["account_name"]))
    if account is None:
        _fail(f"No account named {opts['account_name']!r}.")
    price_list = db.session.scalar(
        PriceList.in_org(org.id).where(PriceList.name == opts["price_list_name"])
    )
    if price_list is None:
        _fail(f"No price list named {opts['price_list_name']!r}.")
    password = sys.stdin.readline().rstrip("\n")
    req = creation.CreationRequest(
        account_id=account.id,
        price_list_id=price_list.id,
        language=opts["language"],
        timezone=opts["timezone"],
        date_format=opts["date_format"],
        edition=creation.canonical_edition(opts["edition"]),
        separate_invoices=opts["separate_invoices"],
        admin_username=opts["admin_username"],
        admin_email=opts["admin_email"],
        admin_password=password,
    )
    errors = creation.validate(req)
    if errors:
        _fail(" ".join(f"--{k.replace('_', '-')}: {v}" for k, v in errors.items()))
    result = creation.submit(org.id, None, req)
    if result.already_exists is not None:
        _fail(f"{account.name} already is a tenant reseller (id {result.already_exists.id}).")
    if result.not_ready:
        _fail("The account is not ready: " + " ".join(result.not_ready))
    process = result.process
    if not result.enqueued:
        click.echo(
            "warning: the queue is unreachable; the process is Queued and will start "
            "when it is back.",
            err=True,
        )
    if opts["wait"]:
        process = _wait(process.id, quiet=False)  # progress goes to stderr; stdout stays JSON
    summary = _process_summary(process)
    if opts["as_json"]:
        click.echo(json.dumps(summary))
    else:
        click.echo(
            f"Process {summary['id']}: {summary['status']}"
            + (f" — Client ID {summary['client_id']}" if summary["client_id"] else "")
        )
    if summary["status"] in ("Failed", "Cancelled"):
        sys.exit(1)


@tenant_reseller_group.command("update")
@click.option("--account", "account_name", required=True, help="The tenant reseller's account.")
@click.option(
    "--mode",
    type=click.Choice(["full", "partial"], case_sensitive=False),
    required=True,
    help="full: new products, price changes, discontinued products; partial: prices only.",
)
@click.option(
    "--overwrite-sell-prices",
    is_flag=True,
    help="Also set the sell price of changed and new products to their new cost price.",
)
@click.option("--overwrite-names", is_flag=True, help="Also give products the distributor's name.")
@click.option(
    "--client-id",
    default="DEMO",
    show_default=True,
    help="The distributor organization's Client ID.",
)
@click.option("--wait", is_flag=True, help="Wait and print progress until it finishes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def update_command(**opts) -> None:
    """Update Tenant: transfer the price list's changes to an Active tenant reseller."""
    from webapp.models import Account, Organization
    from webapp.services import creation, tenant_update

    org = db.session.scalar(
        select(Organization).where(Organization.client_id == normalise_client_id(opts["client_id"]))
    )
    if org is None:
        _fail(f"No organization has Client ID {opts['client_id']}.")
    account = db.session.scalar(Account.in_org(org.id).where(Account.name == opts["account_name"]))
    if account is None:
        _fail(f"No account named {opts['account_name']!r}.")
    tenant = creation.existing_tenant(account)
    if tenant is None:
        _fail(f"{account.name} is not a tenant reseller.")
    result = tenant_update.start(
        org.id,
        tenant.id,
        None,
        tenant_update.UpdateRequest(
            mode=opts["mode"].lower(),
            overwrite_sell_prices=opts["overwrite_sell_prices"],
            overwrite_names=opts["overwrite_names"],
        ),
    )
    if result.process is None:
        raise click.ClickException(result.refused)  # exit code 1: refused, nothing made
    process = result.process
    if not result.enqueued:
        click.echo(
            "warning: the queue is unreachable; the process is Queued and will start "
            "when it is back.",
            err=True,
        )
    if opts["wait"]:
        process = _wait(process.id, quiet=False)  # progress goes to stderr; stdout stays JSON
    summary = _process_summary(process)
    if opts["as_json"]:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"Process {summary['id']}: {summary['name']}: {summary['status']}")
        if process.is_finished:
            for t in summary["tasks"]:
                click.echo(f"  {t['name']}: {t['status']}. {t['message']}")
    if summary["status"] in ("Failed", "Cancelled"):
        sys.exit(1)


def _wait(process_id: int, quiet: bool):
    from webapp.models import Process

    last = None
    while True:
        db.session.expire_all()
        process = db.session.get(Process, process_id)
        line = (
            " | ".join(
                f"{t.title}: {t.status}"
                + (f" {t.items_done}/{t.items_total}" if t.items_total else "")
                for t in process.tasks
                if t.status == "Running"
            )
            or process.status
        )
        if line != last and not quiet:
            click.echo(f"[{process.progress_percent:3d}%] {line}", err=True)
            last = line
        if process.is_finished:
            return process
        time.sleep(0.5)


def _process_summary(process) -> dict:
    """The API's shape of a process, with its tasks (one shape everywhere)."""
    from webapp.services.processes.serializer import process_json

    return process_json(process, with_tasks=True)


processes_group = AppGroup("processes", help="Look at queued processes.")


@processes_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Every process, newest first."""
    from sqlalchemy.orm import selectinload

    from webapp.models import Process

    processes = db.session.scalars(
        select(Process).options(selectinload(Process.tasks)).order_by(Process.id.desc())
    ).all()
    if as_json:
        click.echo(json.dumps([_process_summary(p) for p in processes]))
        return
    for p in processes:
        click.echo(f"{p.id:>5}  {p.status:<10} {p.progress_percent:>3}%  {p.name}")


@processes_group.command("show")
@click.argument("process_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def show_command(process_id: int, as_json: bool) -> None:
    """One process with each task's status and items."""
    from webapp.models import Process

    process = db.session.get(Process, process_id)
    if process is None:
        _fail(f"No process with id {process_id}.")
    summary = _process_summary(process)
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"{summary['name']}: {summary['status']} ({summary['progress']}%)")
    for t in summary["tasks"]:
        took = f"{t['duration_seconds']:.1f} s" if t["duration_seconds"] is not None else ""
        click.echo(
            f"  {t['name']:<36} {t['status']:<10} {t['items_done']}/{t['items_total']}  {took}"
        )


invoices_group = AppGroup("invoices", help="The distributor's monthly invoice run.")


def _distributor(client_id: str | None):
    from webapp.models import Organization

    roots = select(Organization).where(Organization.parent_id.is_(None))
    if client_id:
        org = db.session.scalar(
            roots.where(Organization.client_id == normalise_client_id(client_id))
        )
        if org is None:
            _fail(f"No distributor organization has Client ID {client_id}.")
        return org
    orgs = db.session.scalars(roots.order_by(Organization.id)).all()
    if not orgs:
        _fail("There is no distributor organization yet (flask seed-demo makes one).")
    if len(orgs) > 1:
        ids = ", ".join(o.display_client_id for o in orgs)
        _fail(f"There are several distributors ({ids}): choose one with --client-id.")
    return orgs[0]


def _period_option(text: str | None, org):
    from webapp.services import invoicing

    if text is None:
        return invoicing.default_period(org)
    try:
        return invoicing.parse_period(text, org)
    except invoicing.BadPeriod as error:
        _fail(f"--period: {error}")


CLIENT_ID_OPTION = click.option(
    "--client-id",
    default=None,
    help="The distributor organization's Client ID (needed only when there are several).",
)


def _finish(launched, wait: bool, as_json: bool) -> None:
    process = launched.process
    if not launched.enqueued:
        click.echo(
            "warning: the queue is unreachable; the process starts when it is back.", err=True
        )
    if wait:
        process = _wait(process.id, quiet=False)
    summary = _process_summary(process)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"Process {summary['id']}: {summary['name']}: {summary['status']}")
        if process.is_finished:
            for t in summary["tasks"]:
                click.echo(f"  {t['name']}: {t['status']}. {t['message']}")
    if summary["status"] in ("Failed", "Cancelled"):
        sys.exit(1)


@invoices_group.command("run")
@click.option(
    "--period", default=None, help="A month that has ended: YYYY-MM (default: last month)."
)
@CLIENT_ID_OPTION
@click.option("--wait", is_flag=True, help="Wait and print progress until it finishes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def invoices_run_command(period: str | None, client_id: str | None, wait: bool, as_json: bool):
    """Queue the invoice run of a closed month: drafts for what is still to bill."""
    from webapp.services.billing import runs
    from webapp.services.processes import ProcessRefused

    org = _distributor(client_id)
    chosen = _period_option(period, org)
    try:
        launched = runs.start_run(org, chosen, None)
    except ProcessRefused as refused:
        raise click.ClickException(str(refused)) from refused
    _finish(launched, wait, as_json)


@invoices_group.command("issue")
@click.option(
    "--period", default=None, help="A month that has ended: YYYY-MM (default: last month)."
)
@CLIENT_ID_OPTION
@click.option("--wait", is_flag=True, help="Wait and print progress until it finishes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def invoices_issue_command(period: str | None, client_id: str | None, wait: bool, as_json: bool):
    """Queue the issuing of a month's drafts (refused while the reconciliation differs)."""
    from webapp.services.billing import runs
    from webapp.services.processes import ProcessRefused

    org = _distributor(client_id)
    chosen = _period_option(period, org)
    try:
        launched = runs.start_issue(org, chosen, None)
    except ProcessRefused as refused:
        raise click.ClickException(str(refused)) from refused
    _finish(launched, wait, as_json)


billing_group = AppGroup("billing", help="Proof that every paid subscription is billed once.")


@billing_group.command("reconcile")
@click.option(
    "--period", default=None, help="A month that has ended: YYYY-MM (default: last month)."
)
@CLIENT_ID_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def reconcile_command(period: str | None, client_id: str | None, as_json: bool) -> None:
    """Compare each tenant's paid subscriptions with their copies and with the month's
    invoices. Exit code 0 when there are no differences, 1 when there are."""
    from webapp.services.billing import reconciliation

    org = _distributor(client_id)
    report = reconciliation.reconcile(org.id, _period_option(period, org))
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        click.echo(
            f"{org.name}, {report.period.title}: {report.subscriptions} subscription(s), "
            f"{report.invoice_lines} invoice line(s) checked; "
            f"{len(report.differences)} difference(s)."
        )
        for d in report.differences:
            click.echo(f"  [{d.kind}] {d.reseller}: {d.message} — {d.repair}")
    if not report.ok:
        sys.exit(1)
