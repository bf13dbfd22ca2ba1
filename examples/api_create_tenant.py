#!/usr/bin/env python3
"""Create a tenant reseller through the JSON API and follow it until it completes.

    BASE_URL=http://127.0.0.1:5000 API_TOKEN=trbss_... python examples/api_create_tenant.py

An administrator creates the token under Settings › API tokens. The script finds the first
account that is ready to become a tenant reseller, creates the tenant reseller with an
Idempotency-Key (a retry after a network error replays the first answer instead of creating a
second tenant), then polls the process and prints its progress until it finishes. It exits 0
when the process completed, 1 when it failed or was cancelled, 2 on any other problem.

Optional settings (environment): EDITION (Basic), LANGUAGE (en), TIMEZONE (UTC), DATE_FORMAT
(dd/MM/yyyy), ADMIN_USERNAME (admin), ADMIN_EMAIL, ADMIN_PASSWORD (generated and printed once
when not set), POLL_SECONDS (1), TIMEOUT_SECONDS (900). Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.request
import uuid


class ApiError(Exception):
    """An answer that is not a success: its status and RFC 9457 problem details."""

    def __init__(self, status: int, problem: dict):
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or "no details"
        super().__init__(f"HTTP {status}: {detail}")


def call(method: str, path: str, body: dict | None = None, headers: dict | None = None):
    """One request; returns (status, headers, JSON body); raises ApiError for 4xx/5xx."""
    url = os.environ["BASE_URL"].rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s) only
    request.add_header("Authorization", f"Bearer {os.environ['API_TOKEN']}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            problem = json.loads(raw)
        except ValueError:
            problem = {"detail": raw.decode(errors="replace")[:200]}
        raise ApiError(error.code, problem) from None


def find_ready_account() -> tuple[dict, int]:
    """The first ready account (by name) and its default ready price list."""
    page = 1
    while True:
        _, _, data = call("GET", f"/api/v1/accounts?page={page}&per_page=100")
        for account in data["items"]:
            readiness = account["readiness"]
            if readiness["ready"] and readiness["default_price_list_id"]:
                return account, readiness["default_price_list_id"]
        if page * data["per_page"] >= data["total"]:
            raise SystemExit("No account is ready to become a tenant reseller.")
        page += 1


def create(account: dict, price_list_id: int) -> dict:
    """POST the creation with an Idempotency-Key, retrying network and server errors with
    the same key: at most one tenant reseller is created whatever happens to the answers."""
    slug = re.sub(r"[^a-z0-9]+", "-", account["name"].lower()).strip("-") or "tenant"
    password = os.environ.get("ADMIN_PASSWORD")
    if not password:
        password = secrets.token_urlsafe(18)
        print(f"Generated administrator password (shown once): {password}")
    body = {
        "account_id": account["id"],
        "price_list_id": price_list_id,
        "edition": os.environ.get("EDITION", "Basic"),
        "language": os.environ.get("LANGUAGE", "en"),
        "timezone": os.environ.get("TIMEZONE", "UTC"),
        "date_format": os.environ.get("DATE_FORMAT", "dd/MM/yyyy"),
        "separate_invoices": False,
        "admin_username": os.environ.get("ADMIN_USERNAME", "admin"),
        "admin_email": os.environ.get("ADMIN_EMAIL", f"admin@{slug}.example.com"),
        "admin_password": password,
    }
    key = str(uuid.uuid4())
    print(f"Creating a tenant reseller from {account['name']} (Idempotency-Key {key})")
    for attempt in range(1, 4):
        try:
            _, headers, accepted = call(
                "POST", "/api/v1/tenant-resellers", body, {"Idempotency-Key": key}
            )
        except ApiError as error:
            if error.status < 500 or attempt == 3:
                for field, message in error.problem.get("errors", {}).items():
                    print(f"  {field}: {message}", file=sys.stderr)
                for reason in error.problem.get("reasons", []):
                    print(f"  {reason}", file=sys.stderr)
                raise
        except (urllib.error.URLError, TimeoutError) as error:
            if attempt == 3:
                raise
            print(f"  network error ({error}); retrying with the same key", file=sys.stderr)
        else:
            if headers.get("Idempotent-Replayed") == "true":
                print("  (the server replayed the answer to an earlier attempt)")
            return accepted
        time.sleep(attempt)
    raise AssertionError("unreachable")


def follow(process_url: str) -> dict:
    """Poll the process until it is finished, printing a line whenever something changed."""
    interval = float(os.environ.get("POLL_SECONDS", "1"))
    deadline = time.monotonic() + float(os.environ.get("TIMEOUT_SECONDS", "900"))
    last = None
    while True:
        _, _, process = call("GET", process_url)
        running = [t for t in process["tasks"] if t["status"] == "Running"]
        doing = " | ".join(
            t["name"] + (f" {t['items_done']}/{t['items_total']}" if t["items_total"] else "")
            for t in running
        )
        line = f"[{process['progress']:3d}%] {process['status']}" + (f" — {doing}" if doing else "")
        if line != last:
            print(line, flush=True)
            last = line
        if process["finished"]:
            return process
        if time.monotonic() > deadline:
            raise SystemExit(f"Still {process['status']} after the timeout; see {process_url}")
        time.sleep(interval)


def main() -> int:
    for name in ("BASE_URL", "API_TOKEN"):
        if not os.environ.get(name):
            print(f"Set {name} (see the top of this file).", file=sys.stderr)
            return 2
    try:
        account, price_list_id = find_ready_account()
        accepted = create(account, price_list_id)
        print(
            f"Queued: process {accepted['process_id']}, tenant reseller "
            f"{accepted['tenant_reseller_id']}"
        )
        if accepted.get("message"):
            print(f"  {accepted['message']}")
        process = follow(accepted["links"]["process"])
    except ApiError as error:
        print(f"The API refused: {error}", file=sys.stderr)
        return 2
    except urllib.error.URLError as error:
        print(f"Cannot reach {os.environ['BASE_URL']}: {error.reason}", file=sys.stderr)
        return 2
    if process["status"] != "Completed":
        print(f"The process ended {process['status']}: {process['message']}", file=sys.stderr)
        for task in process["tasks"]:
            if task["message"]:
                print(f"  {task['name']}: {task['message']}", file=sys.stderr)
        return 1
    print(f"Completed. The tenant administrator signs in with Client ID {process['client_id']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
