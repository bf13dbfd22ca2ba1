"""Update Tenant: the distributor's price list changes reach an Active tenant reseller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.helpers import submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    Organization,
    PriceList,
    PriceListItem,
    Process,
    Product,
    ProvisioningPlatform,
    TenantReseller,
)
from webapp.services import tenant_update
from webapp.services.processes import StepFailure, chaos, registry, update_steps
from webapp.services.processes.context import StepContext
from webapp.services.processes.step import Step

# What the distributor changes in Partner EUR after the tenant was made from it.
CHANGED = {
    "OSS-001": Decimal("99.9000"),
    "ACRONIS-002": Decimal("41.2500"),
    "MICROSOFT-003": Decimal("7.7700"),
}
NEW = {
    "NEW-001": ("Cloud Server XXL", "oss", Decimal("150.0000")),
    "NEW-002": ("Panda Dome Ultimate", "panda", Decimal("12.3400")),
}
REMOVED = "PANDA-016"
FULL_TASKS = [
    "Compare price list",
    "Copy new products",
    "Update cost prices",
    "Mark discontinued products",
]


def _demo_org_id() -> int:
    return db.session.scalar(select(Organization.id).where(Organization.client_id == "DEMO"))


def _partner_eur() -> PriceList:
    return db.session.scalar(
        select(PriceList).where(
            PriceList.organization_id == _demo_org_id(), PriceList.name == "Partner EUR"
        )
    )


def _distributor_item(sku: str) -> PriceListItem:
    return db.session.scalar(
        select(PriceListItem)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == _partner_eur().id, Product.sku == sku)
    )


def change_partner_eur(app) -> None:
    """Three new retail prices, two new products, one product taken out of the list."""
    with app.app_context():
        org_id, price_list = _demo_org_id(), _partner_eur()
        for sku, price in CHANGED.items():
            _distributor_item(sku).retail_price = price
        for sku, (name, code, price) in NEW.items():
            platform = db.session.scalar(
                select(ProvisioningPlatform).where(ProvisioningPlatform.code == code)
            )
            product = Product(organization_id=org_id, platform_id=platform.id, sku=sku, name=name)
            db.session.add(product)
            db.session.flush()
            db.session.add(
                PriceListItem(
                    organization_id=org_id,
                    price_list_id=price_list.id,
                    product_id=product.id,
                    retail_price=price,
                )
            )
        db.session.delete(_distributor_item(REMOVED))
        db.session.commit()


@pytest.fixture
def tenant(app, demo, auth, client, run_jobs) -> dict:
    """Northwind Cloud made a tenant from Partner EUR, then Partner EUR changed."""
    auth.login()
    assert submit_creation(client, app).status_code == 303
    run_jobs()
    with app.app_context():
        row = db.session.scalar(select(TenantReseller))
        assert row.status == "Active"
        ids = {"id": row.id, "org_id": row.tenant_organization_id}
    change_partner_eur(app)
    return ids


def snapshot(app, org_id: int) -> tuple[dict, dict]:
    """Every column of every product of the tenant, and every price in its price lists."""
    with app.app_context():
        table = Product.__table__
        products = {
            row.sku: dict(row._mapping)
            for row in db.session.execute(select(table).where(table.c.organization_id == org_id))
        }
        prices = {
            (name, sku): price
            for name, sku, price in db.session.execute(
                select(PriceList.name, Product.sku, PriceListItem.retail_price)
                .join(PriceList, PriceList.id == PriceListItem.price_list_id)
                .join(Product, Product.id == PriceListItem.product_id)
                .where(PriceListItem.organization_id == org_id)
            )
        }
        return products, prices


def post_update(client, auth, tenant_id: int, mode="full", sell=False, names=False):
    token = auth.token(f"/tenant-resellers/{tenant_id}")
    data = {"csrf_token": token, "mode": mode}
    if sell:
        data["overwrite_sell_prices"] = "1"
    if names:
        data["overwrite_names"] = "1"
    return client.post(f"/tenant-resellers/{tenant_id}/update", data=data)


def latest_process() -> Process:
    return db.session.scalar(select(Process).order_by(Process.id.desc()))


def update_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Process).where(Process.kind == "update_tenant")
    )


def messages(process: Process) -> dict[str, str]:
    return {t.title: t.message for t in process.tasks}


def assert_untouched(before: dict, after: dict, changed: set[str]) -> None:
    for sku, row in before.items():
        if sku not in changed:
            assert after[sku] == row, sku


def test_full_update_transfers_exactly_the_differences(app, tenant, auth, client, run_jobs):
    """Full copies the 2 new products, sets the 3 new cost prices, marks the removed product
    discontinued, and leaves every other product and every sell price exactly as it was."""
    products, prices = snapshot(app, tenant["org_id"])
    response = post_update(client, auth, tenant["id"])
    assert response.status_code == 303
    with app.app_context():
        process = latest_process()
        assert response.headers["Location"].endswith(f"/processes/{process.id}")
        assert process.kind == "update_tenant" and process.status == "Queued"
        assert process.name == "Update Tenant (Full) — Northwind Cloud"
        assert process.params["mode"] == "full"
        assert process.params["overwrite_sell_prices"] is False
        assert process.params["overwrite_names"] is False
        assert [t.title for t in process.tasks] == FULL_TASKS
        pid = process.id

    run_jobs()

    with app.app_context():
        process = db.session.get(Process, pid)
        assert process.status == "Completed", process.message
        assert [t.status for t in process.tasks] == ["Completed"] * 4
        said = messages(process)
        assert (
            "2 new products, 3 price changes, 1 product no longer in the price list"
            in said["Compare price list"]
        )
        assert said["Copy new products"].startswith("2 new products copied")
        assert said["Update cost prices"].startswith("3 cost prices updated")
        assert said["Mark discontinued products"].startswith("1 product marked discontinued")
        cost_task = next(t for t in process.tasks if t.title == "Update cost prices")
        assert (cost_task.items_done, cost_task.items_total) == (3, 3)
        tenant_row = db.session.get(TenantReseller, tenant["id"])
        assert tenant_row.status == "Active"
        distributor_ids = {
            sku: pid
            for sku, pid in db.session.execute(
                select(Product.sku, Product.id).where(Product.organization_id == _demo_org_id())
            )
        }

    after, after_prices = snapshot(app, tenant["org_id"])
    assert len(after) == 66
    for sku, (name, _code, price) in NEW.items():
        copy = after[sku]
        assert copy["name"] == name and copy["source_product_id"] == distributor_ids[sku]
        assert copy["cost_price"] == price and isinstance(copy["cost_price"], Decimal)
        assert copy["cost_currency"] == "EUR" and copy["discontinued"] is False
    for sku, price in CHANGED.items():
        assert after[sku]["cost_price"] == price
        assert {k: v for k, v in after[sku].items() if k != "cost_price"} == {
            k: v for k, v in products[sku].items() if k != "cost_price"
        }
    assert after[REMOVED]["discontinued"] is True  # kept, never deleted
    assert after[REMOVED]["cost_price"] == products[REMOVED]["cost_price"]
    assert_untouched(products, after, set(CHANGED) | {REMOVED})
    assert after_prices == prices  # sell prices are the tenant's unless asked

    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.process_id == pid).order_by(AuditLog.id)
        ).all()
    assert actions == [
        "tenant_reseller.update_requested",
        *["process.task_completed"] * 4,
        "process.completed",
    ]
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert "Mark discontinued products" in page and "1 product marked discontinued" in page


def test_partial_update_only_updates_the_three_prices(app, tenant, auth, client, run_jobs):
    """Partial changes the 3 cost prices and nothing else: no copy, no discontinued flag."""
    products, prices = snapshot(app, tenant["org_id"])
    assert post_update(client, auth, tenant["id"], mode="partial").status_code == 303
    with app.app_context():
        process = latest_process()
        assert process.name == "Update Tenant (Partial) — Northwind Cloud"
        assert [t.title for t in process.tasks] == ["Compare price list", "Update cost prices"]
    run_jobs()
    with app.app_context():
        process = latest_process()
        assert process.status == "Completed", process.message
        said = messages(process)
        assert "A partial update transfers only the price changes" in said["Compare price list"]
        assert said["Update cost prices"].startswith("3 cost prices updated")
    after, after_prices = snapshot(app, tenant["org_id"])
    assert set(after) == set(products)  # nothing new
    for sku, price in CHANGED.items():
        assert after[sku]["cost_price"] == price
    assert after[REMOVED]["discontinued"] is False
    assert_untouched(products, after, set(CHANGED))
    assert after_prices == prices


@pytest.mark.parametrize("mode", ["full", "partial"])
def test_overwrite_sell_prices_and_names(app, tenant, auth, client, run_jobs, mode):
    """With both options, sell prices become the new cost only for changed (and, in Full,
    new) products, and renamed products get the distributor's name back; the tenant's
    markup and names stay everywhere else."""
    with app.app_context():
        for item in db.session.scalars(
            select(PriceListItem).where(PriceListItem.organization_id == tenant["org_id"])
        ):
            item.retail_price = (item.retail_price * Decimal("1.25")).quantize(Decimal("0.01"))
        db.session.execute(
            update(Product)
            .where(Product.organization_id == tenant["org_id"], Product.sku == "OSS-005")
            .values(name="Our database")
        )
        db.session.execute(
            update(Product)
            .where(Product.organization_id == _demo_org_id(), Product.sku == "ACRONIS-010")
            .values(name="Disaster Recovery Essentials")
        )
        db.session.commit()
    products, prices = snapshot(app, tenant["org_id"])
    response = post_update(client, auth, tenant["id"], mode=mode, sell=True, names=True)
    assert response.status_code == 303
    run_jobs()

    with app.app_context():
        process = latest_process()
        assert process.status == "Completed", process.message
        titles = [t.title for t in process.tasks]
        assert "Update sell prices" in titles and "Update product names" in titles
        assert titles.index("Update sell prices") < titles.index("Update cost prices")
        said = messages(process)
        added = 2 if mode == "full" else 0
        assert said["Update sell prices"].startswith(
            f"In Default EUR: 3 sell prices set to the new cost price, {added} products "
        )
        assert said["Update product names"].startswith("2 product names set")
    after, after_prices = snapshot(app, tenant["org_id"])
    expected = dict(prices)
    for sku, price in CHANGED.items():
        expected["Default EUR", sku] = price
    if mode == "full":
        for sku, (_name, _code, price) in NEW.items():
            expected["Default EUR", sku] = price
    assert after_prices == expected
    assert after["OSS-005"]["name"] == "Managed Database Basic"
    assert after["ACRONIS-010"]["name"] == "Disaster Recovery Essentials"
    renamed = {"OSS-005", "ACRONIS-010"}
    assert_untouched(products, after, set(CHANGED) | renamed | {REMOVED})


@pytest.mark.parametrize("status", ["In Progress", "Suspended", "Marked as Deleted", "Failed"])
def test_refused_when_the_tenant_is_not_active(app, tenant, auth, client, status):
    """Only an Active tenant reseller is updated: the card says why, the POST makes nothing."""
    with app.app_context():
        db.session.get(TenantReseller, tenant["id"]).status = status
        db.session.commit()
    page = client.get(f"/tenant-resellers/{tenant['id']}").get_data(as_text=True)
    assert "Update Tenant" in page
    assert f"is {status}: only an Active tenant reseller can be updated" in page
    assert f'action="/tenant-resellers/{tenant["id"]}/update"' not in page
    response = post_update(client, auth, tenant["id"])
    assert response.status_code == 303
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "only an Active tenant reseller can be updated" in shown
    with app.app_context():
        assert update_count() == 0
        assert db.session.get(TenantReseller, tenant["id"]).status == status


@pytest.mark.parametrize("status", ["Queued", "Running"])
def test_refused_while_another_process_is_unfinished(app, tenant, auth, client, status):
    """A second update while one is Queued or Running is refused with a link to it."""
    assert post_update(client, auth, tenant["id"]).status_code == 303
    with app.app_context():
        first = latest_process()
        first.status = status
        db.session.commit()
        first_id, first_name = first.id, first.name
    page = client.get(f"/tenant-resellers/{tenant['id']}").get_data(as_text=True)
    assert f"is still {status.lower()}" in page and f"/processes/{first_id}" in page
    response = post_update(client, auth, tenant["id"], mode="partial")
    assert response.status_code == 303
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{first_name} is still {status.lower()}" in shown
    with app.app_context():
        assert update_count() == 1
        assert latest_process().id == first_id


def test_an_update_can_start_once_the_previous_one_finished(app, tenant, auth, client, run_jobs):
    """After the first update completed, the card offers the form again and a second starts."""
    post_update(client, auth, tenant["id"])
    run_jobs()
    page = client.get(f"/tenant-resellers/{tenant['id']}").get_data(as_text=True)
    assert f'action="/tenant-resellers/{tenant["id"]}/update"' in page
    assert post_update(client, auth, tenant["id"], mode="partial").status_code == 303
    with app.app_context():
        assert update_count() == 2


def test_running_the_update_twice_changes_nothing_the_second_time(
    app, tenant, auth, client, run_jobs
):
    """A second Full update with both options finds no difference and changes no row."""
    post_update(client, auth, tenant["id"], sell=True, names=True)
    run_jobs()
    once = snapshot(app, tenant["org_id"])
    post_update(client, auth, tenant["id"], sell=True, names=True)
    run_jobs()
    assert snapshot(app, tenant["org_id"]) == once
    with app.app_context():
        process = latest_process()
        assert process.status == "Completed"
        said = messages(process)
        assert said["Compare price list"].endswith(
            "0 new products, 0 price changes, 0 products no longer in the price list, "
            "0 name differences."
        )
        assert said["Copy new products"].startswith("0 new products copied")
        assert said["Update sell prices"].startswith("In Default EUR: 0 sell prices")
        assert said["Update cost prices"].startswith("0 cost prices updated")
        assert said["Mark discontinued products"].startswith("0 products marked")
        assert said["Update product names"].startswith("0 product names")


def test_each_step_run_twice_leaves_the_same_result(app, tenant):
    """Driving a Full update by hand, every step run a second time changes no row and
    reports the same counts; the end result is the one a single run gives."""
    with app.app_context():
        result = tenant_update.start(
            _demo_org_id(),
            tenant["id"],
            None,
            tenant_update.UpdateRequest("full", overwrite_sell_prices=True, overwrite_names=True),
        )
        pid = result.process.id
        db.session.execute(update(Process).where(Process.id == pid).values(runner_token="hand"))
        db.session.commit()
    titles = []
    for position in range(1, 7):
        with app.app_context():
            process = db.session.get(Process, pid)
            task = next(t for t in process.tasks if t.position == position)
            titles.append(task.title)
            step = registry.STEPS[task.step]
            ctx = StepContext(process=process, task=task, runner_token="hand")
            first = step.run(ctx)
            ctx.commit()
        once = snapshot(app, tenant["org_id"])
        with app.app_context():
            process = db.session.get(Process, pid)
            task = next(t for t in process.tasks if t.position == position)
            ctx = StepContext(process=process, task=task, runner_token="hand")
            second = step.run(ctx)
            ctx.commit()
        assert snapshot(app, tenant["org_id"]) == once, task.title
        assert second == first, task.title
    assert titles == [s.title for s in update_steps.UPDATE_STEPS]
    products, prices = once
    assert len(products) == 66 and products[REMOVED]["discontinued"] is True
    for sku, price in {**CHANGED, **{s: p for s, (_n, _c, p) in NEW.items()}}.items():
        assert products[sku]["cost_price"] == price
        assert prices["Default EUR", sku] == price


def test_a_failed_update_leaves_the_tenant_active_and_retry_completes_it(
    app, tenant, auth, client, run_jobs, monkeypatch
):
    """A failing task fails the update but not the tenant; the page offers Retry, not
    Clean up, and Retry runs the failed task and those after it to Completed."""

    def broken(ctx):
        raise StepFailure("The price service said no. Retry later.")

    monkeypatch.setitem(
        registry.STEPS,
        "update_cost_prices",
        Step("update_cost_prices", "Update cost prices", broken),
    )
    post_update(client, auth, tenant["id"], sell=True)
    run_jobs()
    monkeypatch.undo()
    with app.app_context():
        process = latest_process()
        assert process.status == "Failed"
        assert [t.status for t in process.tasks] == [
            "Completed",
            "Completed",
            "Completed",
            "Failed",
            "Skipped",
        ]
        assert db.session.get(TenantReseller, tenant["id"]).status == "Active"
        org = db.session.get(Organization, tenant["org_id"])
        assert org.status == "Active"
        pid = process.id
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert ">Retry<" in page and "Clean up" not in page
    token = auth.token(f"/processes/{pid}")
    assert client.post(f"/processes/{pid}/cleanup", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(TenantReseller, tenant["id"]) is not None  # refused: not a creation
    client.post(f"/processes/{pid}/retry", data={"csrf_token": auth.token(f"/processes/{pid}")})
    run_jobs()
    with app.app_context():
        process = db.session.get(Process, pid)
        assert process.status == "Completed", process.message
        assert messages(process)["Update cost prices"].startswith("3 cost prices updated")
    products, prices = snapshot(app, tenant["org_id"])
    for sku, price in CHANGED.items():
        assert products[sku]["cost_price"] == price
        assert prices["Default EUR", sku] == price
    assert products[REMOVED]["discontinued"] is True


def test_stop_between_batches_then_resume_counts_every_change(
    app, tenant, auth, client, run_jobs, monkeypatch
):
    """Stop lands at the next batch boundary (the batch in flight commits, the third never
    runs); Resume does the last one and the message counts all three."""
    app.config["COPY_BATCH_SIZE"] = 1
    with app.app_context():
        pid = tenant_update.start(
            _demo_org_id(), tenant["id"], None, tenant_update.UpdateRequest("partial")
        ).process.id
    real_point = chaos.point

    def stop_after_first_batch(name):
        real_point(name)
        if name == "update_cost_prices:batch-committed:1":
            db.session.execute(
                update(Process).where(Process.id == pid).values(cancel_requested=True)
            )
            db.session.commit()

    monkeypatch.setattr(chaos, "point", stop_after_first_batch)
    run_jobs()
    monkeypatch.undo()
    with app.app_context():
        process = db.session.get(Process, pid)
        assert process.status == "Cancelled"
        assert db.session.get(TenantReseller, tenant["id"]).status == "Active"
        changed = db.session.scalar(
            select(func.count()).where(
                Product.organization_id == tenant["org_id"],
                Product.sku.in_(CHANGED),
                Product.cost_price.in_(CHANGED.values()),
            )
        )
        assert changed == 2
        cost = next(t for t in process.tasks if t.title == "Update cost prices")
        assert cost.status == "Skipped" and cost.items_done == 2
    page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert ">Resume<" in page and "Clean up" not in page
    client.post(f"/processes/{pid}/resume", data={"csrf_token": auth.token(f"/processes/{pid}")})
    run_jobs()
    with app.app_context():
        process = db.session.get(Process, pid)
        assert process.status == "Completed", process.message
        assert messages(process)["Update cost prices"].startswith("3 cost prices updated")
    products, _prices = snapshot(app, tenant["org_id"])
    for sku, price in CHANGED.items():
        assert products[sku]["cost_price"] == price


def test_a_product_sku_the_tenant_already_uses_is_reported_not_copied(
    app, tenant, auth, client, run_jobs
):
    """A new product whose SKU the tenant uses for its own product is named in the message
    and not copied; the other new product is."""
    with app.app_context():
        platform_id = db.session.scalar(select(Product.platform_id).limit(1))
        db.session.add(
            Product(
                organization_id=tenant["org_id"],
                platform_id=platform_id,
                sku="NEW-001",
                name="The tenant's own",
            )
        )
        db.session.commit()
    post_update(client, auth, tenant["id"])
    run_jobs()
    with app.app_context():
        process = latest_process()
        assert process.status == "Completed", process.message
        said = messages(process)["Copy new products"]
        assert said.startswith("1 new product copied")
        assert "1 product not copied because the tenant has its own product" in said
        assert "NEW-001" in said
    products, _prices = snapshot(app, tenant["org_id"])
    assert products["NEW-001"]["name"] == "The tenant's own"
    assert products["NEW-002"]["cost_price"] == NEW["NEW-002"][2]


def test_another_organizations_tenant_is_404_on_the_post(app, tenant, auth, client):
    """The POST with a tenant id of another organization is 404 and starts nothing."""
    with app.app_context():
        other = Organization(name="Other Distributor", client_id="OTHER")
        db.session.add(other)
        db.session.flush()
        account = Account(organization_id=other.id, name="Other Reseller", is_reseller=True)
        price_list = PriceList(organization_id=other.id, name="Other EUR", currency="EUR")
        db.session.add_all([account, price_list])
        db.session.flush()
        foreign = TenantReseller(
            organization_id=other.id,
            account_id=account.id,
            price_list_id=price_list.id,
            tenant_organization_id=None,
            language="en",
            timezone="UTC",
            date_format="yyyy-MM-dd",
            edition="Basic",
            admin_username="x",
            admin_email="x@example.com",
            status="Active",
        )
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    token = auth.token(f"/tenant-resellers/{tenant['id']}")
    response = client.post(
        f"/tenant-resellers/{foreign_id}/update", data={"csrf_token": token, "mode": "full"}
    )
    assert response.status_code == 404
    with app.app_context():
        assert update_count() == 0


def test_cli_update_queues_it_and_refuses_a_second_one(app, tenant, run_jobs):
    """`tenant-reseller update` queues the same process as the form, says why it refuses a
    second while the first is unfinished, and the queued one completes."""
    runner = app.test_cli_runner()
    argv = ["tenant-reseller", "update", "--account", "Northwind Cloud", "--mode", "partial"]
    result = runner.invoke(args=[*argv, "--overwrite-sell-prices", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["name"] == "Update Tenant (Partial) — Northwind Cloud"
    assert summary["status"] == "Queued"
    assert [t["name"] for t in summary["tasks"]] == [
        "Compare price list",
        "Update sell prices",
        "Update cost prices",
    ]
    again = runner.invoke(args=[*argv, "--json"])
    assert again.exit_code == 1
    assert "is still queued" in again.output
    run_jobs()
    shown = runner.invoke(args=["processes", "show", str(summary["id"]), "--json"])
    assert json.loads(shown.output)["status"] == "Completed"
    wrong = runner.invoke(
        args=["tenant-reseller", "update", "--account", "Nobody", "--mode", "full"]
    )
    assert wrong.exit_code == 2 and "No account named 'Nobody'" in wrong.output


@pytest.mark.slow
def test_cli_wait_follows_the_update_on_a_real_worker(app, tenant, migrated, redis_url):
    """`--wait --json` follows the update run by a `flask worker` subprocess to Completed."""
    env = {
        **os.environ,
        "DATABASE_URL": migrated,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    root = Path(__file__).resolve().parent.parent
    worker = subprocess.Popen(
        [*flask, "worker"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        done = subprocess.run(
            [
                *flask,
                *["tenant-reseller", "update", "--account", "Northwind Cloud", "--mode", "full"],
                *["--wait", "--json"],
            ],
            cwd=root,
            env=env,
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
    assert summary["status"] == "Completed"
    assert [t["message"][:21] for t in summary["tasks"]][1] == "2 new products copied"
    assert "%]" in done.stderr  # progress lines went to stderr


def test_steps_are_registered_for_the_worker():
    """Every Update Tenant step is in the shared registry under its own key."""
    for step in update_steps.UPDATE_STEPS:
        assert registry.STEPS[step.key] is step


def test_regional_settings_change_after_creation(app, demo, auth, client, run_jobs):
    """Language, time zone and date format were fixed at creation: now Basic Information
    changes them for the tenant and its organization at once, audited; a bad time zone is
    refused next to its field and changes nothing."""
    from tests.conftest import csrf_from
    from tests.helpers import submit_creation
    from webapp.models import AuditLog, Organization, TenantReseller

    auth.login()
    assert submit_creation(client, app, account="Northwind Cloud").status_code == 303
    run_jobs()
    with app.app_context():
        tenant = db.session.scalar(select(TenantReseller))
        tenant_id, org_pk = tenant.id, tenant.tenant_organization_id
    page = client.get(f"/tenant-resellers/{tenant_id}").get_data(as_text=True)
    assert "Regional settings" in page
    token = csrf_from(page)
    url = f"/tenant-resellers/{tenant_id}/regional-settings"
    bad = client.post(
        url,
        data={
            "csrf_token": token,
            "language": "el",
            "timezone": "Mars/Olympus",
            "date_format": "dd/MM/yyyy",
        },
    )
    assert bad.status_code == 400
    assert 'id="timezone-error"' in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organization, org_pk).language != "el"
    ok = client.post(
        url,
        data={
            "csrf_token": token,
            "language": "el",
            "timezone": "Europe/Athens",
            "date_format": "yyyy-MM-dd",
        },
    )
    assert ok.status_code == 303
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        org = db.session.get(Organization, org_pk)
        for holder in (tenant, org):
            assert (holder.language, holder.timezone, holder.date_format) == (
                "el",
                "Europe/Athens",
                "yyyy-MM-dd",
            )
        log = db.session.scalar(
            select(AuditLog).where(AuditLog.action == "tenant_reseller.regional_settings")
        )
        assert log.after == {
            "language": "el",
            "timezone": "Europe/Athens",
            "date_format": "yyyy-MM-dd",
        }
