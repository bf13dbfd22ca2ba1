"""One database's creation benchmark: seed, run the real pipeline on an RQ worker, and
measure the same copy as a single INSERT … SELECT (the floor) for comparison."""

from __future__ import annotations

import logging
import os
import platform
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from time import perf_counter

from flask_migrate import upgrade
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import delete, func, insert, literal, select, text

from jobs.connection import get_queue, get_redis, limiter_storage_uri
from webapp import create_app
from webapp.demo import ensure_platforms, seed_bulk, seed_demo
from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    Organization,
    PriceList,
    PriceListItem,
    Process,
    ProcessStatus,
    ProcessTask,
    Product,
    SyncStatus,
    TenantReseller,
    utcnow,
)
from webapp.models.base import UTCDateTime
from webapp.services.creation import CreationRequest, submit

# The columns copy_products writes: the floor writes the same, so it maintains the same
# indexes and checks the same foreign keys.
COPY_COLUMNS = [
    "organization_id",
    "platform_id",
    "sku",
    "name",
    "description",
    "category",
    "billing_period",
    "source_product_id",
    "cost_price",
    "cost_currency",
    "created_at",
]


@dataclass
class SizeResult:
    """What one creation of N products measured."""

    n: int
    seed_seconds: float
    copy_seconds: float
    floor_samples: list[float]
    process_seconds: float
    worker_wall_seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    # The plain floors: INSERT INTO t SELECT * of the resulting rows into a table created
    # LIKE the target with all its indexes (best of the samples), products and price items.
    product_floor_samples: list[float] = field(default_factory=list)
    price_floor_samples: list[float] = field(default_factory=list)
    # Per batched task: seconds in its batch statements and in its batches as a whole.
    statement_seconds: dict[str, float] = field(default_factory=dict)
    batch_seconds: dict[str, float] = field(default_factory=dict)
    commit_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def floor_seconds(self) -> float:
        """The best sample of the app's own statement over the whole list (the old floor)."""
        return min(self.floor_samples)

    @property
    def product_floor(self) -> float:
        return min(self.product_floor_samples) if self.product_floor_samples else float("nan")

    @property
    def price_floor(self) -> float:
        return min(self.price_floor_samples) if self.price_floor_samples else float("nan")

    @property
    def ratio(self) -> float:
        """The copy step's time over the plain floor of the rows it wrote."""
        return _over(self.copy_seconds, self.product_floor)

    @property
    def price_list_seconds(self) -> float:
        return self.step_seconds.get("create_price_list", float("nan"))

    @property
    def price_ratio(self) -> float:
        """The default price list task's time over the plain floor of its rows."""
        return _over(self.price_list_seconds, self.price_floor)

    @property
    def process_ratio(self) -> float:
        """The whole process (enqueue → Completed) over both floors together."""
        return _over(self.process_seconds, self.product_floor + self.price_floor)

    @property
    def bookkeeping_share(self) -> float:
        """Of the batched tasks' batches, the share spent neither in their statements nor in
        their commits: finding the next range, progress, cursors, heartbeat, cancel check."""
        total = sum(self.batch_seconds.values())
        if not total:
            return float("nan")
        work = sum(self.statement_seconds.values()) + sum(self.commit_seconds.values())
        return (total - work) / total


def _over(part: float, floor: float) -> float:
    return part / floor if floor and floor == floor else float("inf")


@dataclass
class DatabaseResult:
    """Every size measured on one database."""

    label: str
    dialect: str
    version: str
    batch_size: int
    runs: list[SizeResult] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain data for the JSON file, with the derived floor and ratio."""
        data = asdict(self)
        for run, row in zip(self.runs, data["runs"], strict=True):
            row["floor_seconds"] = run.floor_seconds
            row["copy_over_floor"] = round(run.ratio, 3)
            row["product_floor_seconds"] = run.product_floor
            row["price_floor_seconds"] = run.price_floor
            row["price_list_over_floor"] = round(run.price_ratio, 3)
            row["process_over_floor"] = round(run.process_ratio, 3)
            row["bookkeeping_share"] = round(run.bookkeeping_share, 4)
        return data


def bench_config(database_url: str, redis_url: str, batch_size: int) -> dict:
    """The app settings of a bench run (the keys tests/conftest.py sets, real batch size)."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SECRET_KEY": "bench-secret",
        "APP_ENV": "development",
        "RATELIMIT_STORAGE_URI": limiter_storage_uri(redis_url),
        "HEARTBEAT_STALE_SECONDS": 30,
        "COPY_BATCH_SIZE": batch_size,
    }


def bench_database(
    label: str, database_url: str, redis_url: str, sizes: list[int], batch_size: int
) -> DatabaseResult:
    """Build the schema, seed the demo, then measure one creation per size."""
    app = create_app(bench_config(database_url, redis_url, batch_size))
    with app.app_context():
        try:
            build_schema()
            org_id = seed_demo(password=f"bench-{uuid.uuid4().hex}").id
            result = DatabaseResult(label, db.engine.dialect.name, server_version(), batch_size)
            # Ascending: seed_bulk's SKU prefix is the name's first 8 characters, so
            # "Bulk EUR 10000" and "Bulk EUR 100000" share it; growing sizes keep each
            # list exactly N long (checked in seed_price_list).
            for n in sorted(sizes):
                result.runs.append(measure_size(org_id, n))
            return result
        finally:
            db.session.remove()
            db.engine.dispose()


def build_schema() -> None:
    """Flask-Migrate upgrade, without Alembic's INFO lines in the bench output."""
    logging.disable(logging.INFO)
    try:
        upgrade()
    finally:
        logging.disable(logging.NOTSET)


def server_version() -> str:
    """The database engine's version, for the report."""
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(text("SHOW server_version"))
    return db.session.scalar(text("SELECT sqlite_version()"))


def is_postgres() -> bool:
    """Whether the app's database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def measure_size(org_id: int, n: int) -> SizeResult:
    """Seed a list of N products and create a tenant from it on a worker, timing the floor
    before and after: on a shared machine one sample can be slowed by somebody else."""
    started = perf_counter()
    price_list_id = seed_price_list(org_id, n)
    seed_seconds = perf_counter() - started
    refresh_statistics()
    floor_before = measure_floor(price_list_id, n)
    account_id = bench_account(org_id, n)
    worker = SimpleWorker([get_queue()], connection=get_redis())
    process_id = submit_creation(org_id, account_id, price_list_id, n)
    started = perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    worker_wall = perf_counter() - started
    process, tasks = finished_process(process_id)
    steps = {t.step: (t.finished_at - t.started_at).total_seconds() for t in tasks}
    process_seconds = (process.finished_at - enqueued_at(process.job_id)).total_seconds()
    floor_after = measure_floor(price_list_id, n)
    org_id, tenant_list_id = tenant_rows(process)
    product_floor = [
        plain_floor("product", "organization_id", org_id, n) for _ in range(FLOOR_SAMPLES)
    ]
    price_floor = [
        plain_floor("price_list_item", "price_list_id", tenant_list_id, n)
        for _ in range(FLOOR_SAMPLES)
    ]
    batched = {t.step: t.state or {} for t in tasks if (t.state or {}).get("batch_rows")}
    return SizeResult(
        n=n,
        seed_seconds=seed_seconds,
        copy_seconds=steps["copy_products"],
        floor_samples=[floor_before, floor_after],
        process_seconds=process_seconds,
        worker_wall_seconds=worker_wall,
        step_seconds=steps,
        product_floor_samples=product_floor,
        price_floor_samples=price_floor,
        statement_seconds={k: v.get("statement_seconds", 0.0) for k, v in batched.items()},
        batch_seconds={k: v.get("batch_seconds", 0.0) for k, v in batched.items()},
        commit_seconds={k: v.get("commit_seconds", 0.0) for k, v in batched.items()},
    )


FLOOR_SAMPLES = 2


def tenant_rows(process: Process) -> tuple[int, int]:
    """The created tenant's organization and its default price list."""
    tenant = db.session.get(TenantReseller, process.tenant_reseller_id)
    org_id = tenant.tenant_organization_id
    list_id = db.session.scalar(select(PriceList.id).where(PriceList.organization_id == org_id))
    return org_id, list_id


def plain_floor(table: str, column: str, value: int, n: int) -> float:
    """Seconds for `INSERT INTO t SELECT * FROM table WHERE column = value` and its commit,
    t being created LIKE `table` with all its indexes (PostgreSQL) or from the same DDL
    with every index (SQLite): what the database can do with these rows at best."""
    scratch = f"bench_floor_{table}"
    for ddl in like_ddl(table, scratch):
        db.session.execute(text(ddl))
    db.session.commit()
    started = perf_counter()
    db.session.execute(
        text(f"INSERT INTO {scratch} SELECT * FROM {table} WHERE {column} = :value"),
        {"value": value},
    )
    db.session.commit()
    seconds = perf_counter() - started
    copied = db.session.scalar(text(f"SELECT count(*) FROM {scratch}"))
    db.session.execute(text(f"DROP TABLE {scratch}"))
    db.session.commit()
    if copied != n:
        raise RuntimeError(f"the {table} floor copied {copied} rows, expected {n}")
    return seconds


def like_ddl(table: str, scratch: str) -> list[str]:
    """CREATE statements for an empty twin of `table` with the same columns and indexes
    (unique ones included); foreign keys left out, as PostgreSQL's LIKE leaves them."""
    if is_postgres():
        return [f"CREATE TABLE {scratch} (LIKE {table} INCLUDING ALL)"]
    rows = db.session.execute(
        text("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :t AND sql IS NOT NULL"),
        {"t": table},
    ).all()
    statements = []
    for kind, name, sql in sorted(rows, key=lambda row: row[0] != "table"):
        if kind == "table":
            sql = re.sub(r",\s*FOREIGN KEY\s*\([^)]*\)\s*REFERENCES[^,)]*\([^)]*\)", "", sql)
            sql = sql.replace(f"CREATE TABLE {table}", f"CREATE TABLE {scratch}", 1)
        else:
            sql = sql.replace(name, f"{scratch}_{name}", 1)
            sql = re.sub(rf"\bON {table}\b", f"ON {scratch}", sql, count=1)
        statements.append(sql)
    return statements


def seed_price_list(org_id: int, n: int) -> int:
    """seed_bulk's list of N products; its id, after checking it holds exactly N."""
    price_list = seed_bulk(db.session.get(Organization, org_id), n, name=f"Bulk EUR {n}")
    count = db.session.scalar(
        select(func.count()).where(PriceListItem.price_list_id == price_list.id)
    )
    if count != n:
        raise RuntimeError(f"price list {price_list.name} has {count} products, expected {n}")
    return price_list.id


def refresh_statistics() -> None:
    """PostgreSQL: ANALYZE what seeding just wrote, as autovacuum would long before a real
    creation (SQLite is left as the app leaves it: it never runs ANALYZE)."""
    if is_postgres():
        db.session.execute(text("ANALYZE product, price_list_item"))
        db.session.commit()


def bench_account(org_id: int, n: int) -> int:
    """A reseller ready for creation: ordering on, billed in EUR, synced where required."""
    account = Account(
        organization_id=org_id,
        name=f"Bench Reseller {n}",
        email=f"billing-{n}@bench.example",
        is_reseller=True,
        enabled_for_ordering=True,
        billing_currency="EUR",
    )
    db.session.add(account)
    db.session.flush()
    for platform_row in ensure_platforms().values():
        if platform_row.requires_reseller_sync:
            db.session.add(
                AccountPlatformSync(
                    organization_id=org_id,
                    account_id=account.id,
                    platform_id=platform_row.id,
                    status=SyncStatus.SYNCED_AS_RESELLER,
                    external_reference=f"BENCH-{account.id:05d}",
                    synced_at=utcnow(),
                )
            )
    db.session.commit()
    return account.id


def submit_creation(org_id: int, account_id: int, price_list_id: int, n: int) -> int:
    """Submit through the service the form uses (commits, then enqueues); the process id."""
    request = CreationRequest(
        account_id=account_id,
        price_list_id=price_list_id,
        language="en",
        timezone="Europe/Athens",
        date_format="dd/MM/yyyy",
        edition="Premium",
        separate_invoices=False,
        admin_username=f"bench{n}",
        admin_email=f"admin-{n}@bench.example",
        admin_password=f"bench-{uuid.uuid4().hex}",
    )
    result = submit(org_id, None, request)
    if not result.created:
        raise RuntimeError(f"creation refused: {result.not_ready or result.already_exists}")
    if not result.enqueued:
        raise RuntimeError("creation saved but not enqueued: is Redis reachable?")
    return result.process.id


def enqueued_at(job_id: str) -> datetime:
    """When RQ put the job on the queue: where the user's wait for the worker starts."""
    stamp = Job.fetch(job_id, connection=get_redis()).enqueued_at
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def finished_process(process_id: int) -> tuple[Process, list[ProcessTask]]:
    """The process as the worker left it; an error unless it Completed."""
    db.session.expire_all()  # the worker wrote through its own session
    process = db.session.get(Process, process_id)
    if process.status != ProcessStatus.COMPLETED:
        raise RuntimeError(f"process {process_id} ended {process.status}: {process.message}")
    tasks = db.session.scalars(
        select(ProcessTask).where(ProcessTask.process_id == process_id)
    ).all()
    return process, list(tasks)


def floor_statement(org_id: int, price_list_id: int, currency: str):
    """copy_products' INSERT … SELECT for the whole list at once, without ON CONFLICT."""
    source = (
        select(
            literal(org_id),
            Product.platform_id,
            Product.sku,
            Product.name,
            Product.description,
            Product.category,
            Product.billing_period,
            Product.id,
            PriceListItem.retail_price,
            literal(currency),
            literal(utcnow(), UTCDateTime),
        )
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == price_list_id)
    )
    return insert(Product.__table__).from_select(COPY_COLUMNS, source)


def measure_floor(price_list_id: int, n: int) -> float:
    """Seconds for one INSERT … SELECT of the N rows (and its commit) into a scratch org."""
    scratch = Organization(
        name="Bench floor scratch", client_id=f"BF{uuid.uuid4().hex[:10].upper()}"
    )
    db.session.add(scratch)
    db.session.commit()
    scratch_id = scratch.id
    statement = floor_statement(scratch_id, price_list_id, "EUR")
    started = perf_counter()
    db.session.execute(statement)
    db.session.commit()
    seconds = perf_counter() - started
    # Counted afterwards: psycopg reports no rowcount for this INSERT … SELECT.
    copied = db.session.scalar(select(func.count()).where(Product.organization_id == scratch_id))
    if copied != n:
        raise RuntimeError(f"the floor copied {copied} rows, expected {n}")
    delete_scratch(scratch_id)
    return seconds


def delete_scratch(org_id: int) -> None:
    """Remove the floor's rows so the next size starts from the same tables.

    product.source_product_id references product.id with no index of its own, so deleting
    N products checks that foreign key by scanning the table N times; a temporary index
    turns each check into a lookup."""
    db.session.execute(text("CREATE INDEX bench_tmp_source ON product (source_product_id)"))
    db.session.execute(delete(Product).where(Product.organization_id == org_id))
    db.session.execute(delete(Organization).where(Organization.id == org_id))
    db.session.execute(text("DROP INDEX bench_tmp_source"))
    db.session.commit()
    if is_postgres():
        # VACUUM cannot run in a transaction; it clears the dead rows the next size would see.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE product"))


def machine(load_before: float) -> dict:
    """Where the numbers were taken, with the 1-minute load average before and after."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
