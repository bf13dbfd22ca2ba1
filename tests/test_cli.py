"""The operator CLI: same services as the pages, clear messages, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import GOOD_PASSWORD

ROOT = Path(__file__).resolve().parent.parent

CREATE = [
    "tenant-reseller",
    "create",
    "--account",
    "Northwind Cloud",
    "--price-list",
    "Partner EUR",
    "--edition",
    "basic",
    "--language",
    "en",
    "--timezone",
    "Europe/Athens",
    "--date-format",
    "dd/MM/yyyy",
    "--admin-username",
    "nwadmin",
    "--admin-email",
    "admin@northwind.example",
    "--admin-password-stdin",
]


def test_create_then_list_and_show_as_json(app, demo, run_jobs):
    """create queues a process; after a worker ran it, show --json has every task Completed."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=[*CREATE, "--json"], input=GOOD_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output.strip().splitlines()[-1])
    assert created["status"] == "Queued" and created["client_id"] is None
    run_jobs()
    shown = runner.invoke(args=["processes", "show", str(created["id"]), "--json"])
    data = json.loads(shown.output)
    assert data["status"] == "Completed" and data["progress"] == 100
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", data["client_id"])  # as the UI shows it
    assert [t["status"] for t in data["tasks"]] == ["Completed"] * 8
    copy = next(t for t in data["tasks"] if t["step"] == "copy_products")
    assert copy["items_done"] == copy["items_total"] == 64
    listed = json.loads(runner.invoke(args=["processes", "list", "--json"]).output)
    assert [p["id"] for p in listed] == [created["id"]]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--account", "Nobody"], "No account named 'Nobody'."),
        (["--price-list", "Nope"], "No price list named 'Nope'."),
        (["--timezone", "Mars/Base"], "--timezone: Choose a time zone from the list"),
        (["--language", "xx"], "--language: Choose a language from the list."),
        (["--account", "Fabrikam Ltd"], "not enabled for ordering"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(app, demo, args, message):
    """A wrong option says which and what to do, exits 2, and creates nothing."""
    argv = list(CREATE)
    for i in range(0, len(args), 2):
        argv[argv.index(args[i]) + 1] = args[i + 1]
    result = app.test_cli_runner().invoke(args=argv, input=GOOD_PASSWORD + "\n")
    assert result.exit_code == 2
    assert message in result.output
    listed = app.test_cli_runner().invoke(args=["processes", "list", "--json"])
    assert json.loads(listed.output) == []


def test_short_password_from_stdin_is_refused(app, demo):
    """The password rule applies to the CLI as to the form."""
    result = app.test_cli_runner().invoke(args=CREATE, input="short\n")
    assert result.exit_code == 2
    assert "at least 12 characters" in result.output


@pytest.mark.slow
def test_wait_prints_progress_and_exits_0_on_completed(app, demo, migrated, redis_url):
    """--wait follows the process run by a real worker subprocess until Completed."""
    env = {
        **os.environ,
        "DATABASE_URL": migrated,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "COPY_BATCH_SIZE": "25",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    worker = subprocess.Popen(
        [*flask, "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        done = subprocess.run(
            [*flask, *CREATE, "--wait", "--json"],
            cwd=ROOT,
            env=env,
            input=GOOD_PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "Completed" and summary["client_id"]
    assert "%]" in done.stderr  # progress lines went to stderr


@pytest.mark.parametrize("given", ["UELM5-6HM2C", "UELM56HM2C", "uelm5-6hm2c"])
def test_client_id_is_accepted_in_either_form(app, demo, given):
    """--client-id takes the hyphenated form the UI shows as well as the stored one."""
    from webapp.extensions import db
    from webapp.models import Organization

    with app.app_context():
        db.session.add(Organization(name="Second Distributor", client_id="UELM56HM2C"))
        db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["billing", "reconcile", "--client-id", given, "--json"]
    )
    assert "No distributor organization" not in result.output
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("edition,stored", [("PREMIUM", "Premium"), ("Basic", "Basic")])
def test_edition_is_accepted_in_any_case(app, demo, edition, stored):
    """--edition takes any case, as the API's edition does, and stores the canonical name."""
    from webapp.extensions import db
    from webapp.models import TenantReseller

    args = list(CREATE)
    args[args.index("--edition") + 1] = edition
    result = app.test_cli_runner().invoke(args=[*args, "--json"], input=GOOD_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(db.select(TenantReseller.edition)).all() == [stored]


def _command_paths(group, prefix=()):
    """Every leaf command under a click group, as a tuple of words."""
    import click

    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_every_cli_command_is_in_the_readme(app):
    """Each command of `flask --app wsgi --help` (recursively) appears in the README's
    Command line section; Flask's own run/shell/routes and Flask-Migrate's db group only by
    their names."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    flask_own = {"run", "shell", "routes"}
    missing = []
    for path in _command_paths(app.cli):
        if path[0] in flask_own:
            continue
        words = path[:1] if path[0] == "db" else path
        if f"flask --app wsgi {' '.join(words)}" not in section:
            missing.append(" ".join(path))
    assert not missing, f"not in the README: {missing}"
