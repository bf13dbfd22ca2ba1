"""`make bench`: time a tenant reseller creation of 10,000 and 100,000 products.

Always on a fresh SQLite file; also on a fresh PostgreSQL database when BENCH_DATABASE_URL
is set. BENCH_SIZES ("10000,100000"), BENCH_BATCH_SIZE (5000) and BENCH_REDIS_URL (else an
embedded redis-server) adjust the run. Missing a target is a result, not an error: the exit
code is non-zero only when the bench itself fails."""

from __future__ import annotations

import os
import sys
from time import perf_counter

from bench import report
from bench.creation import DatabaseResult, bench_database, machine
from bench.resources import flush_redis, postgres_database, redis_url, sqlite_database

DEFAULT_SIZES = [10_000, 100_000]
DEFAULT_BATCH_SIZE = 5000


def sizes_from_environment() -> list[int]:
    """BENCH_SIZES as a list of positive integers."""
    raw = os.environ.get("BENCH_SIZES", "").strip()
    if not raw:
        return DEFAULT_SIZES
    sizes = [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"BENCH_SIZES must list positive integers, got {raw!r}")
    return sizes


def batch_size_from_environment() -> int:
    """BENCH_BATCH_SIZE, else the production default."""
    raw = os.environ.get("BENCH_BATCH_SIZE", "").strip()
    size = int(raw) if raw else DEFAULT_BATCH_SIZE
    if size < 1:
        raise ValueError(f"BENCH_BATCH_SIZE must be positive, got {raw!r}")
    return size


def run_all(sizes: list[int], batch_size: int) -> list[DatabaseResult]:
    """Each database in turn, sharing one Redis (flushed between them)."""
    results = []
    postgres_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    with redis_url() as queue_url:
        with sqlite_database() as url:
            results.append(run_one("SQLite", url, queue_url, sizes, batch_size))
        if postgres_url:
            with postgres_database(postgres_url) as url:
                results.append(run_one("PostgreSQL", url, queue_url, sizes, batch_size))
    return results


def run_one(
    label: str, database_url: str, queue_url: str, sizes: list[int], batch_size: int
) -> DatabaseResult:
    """One database's measurements, printed as soon as they are taken."""
    print(f"Benchmarking {label} with N = {', '.join(f'{n:,}' for n in sizes)} …", flush=True)
    flush_redis(queue_url)
    result = bench_database(label, database_url, queue_url, sizes, batch_size)
    print(report.table(result) + "\n", flush=True)
    return result


def busy_warning(where: dict) -> str:
    """A warning when other work competed for the CPUs: the timings then say little."""
    load = max(where["load_before"], where["load_after"])
    if load <= where["cpus"]:
        return ""
    return (
        f"WARNING: the machine was busy (load average {load:.1f} on {where['cpus']} CPUs); "
        "these timings include waiting for the CPU. Run again when it is idle."
    )


def main() -> int:
    """Run every database, print and save the results; 0 unless the bench itself failed."""
    started = perf_counter()
    load_before = os.getloadavg()[0]
    results = run_all(sizes_from_environment(), batch_size_from_environment())
    where = machine(load_before)
    path = report.write_json(results, where)
    print(report.LEGEND + "\n")
    if warning := busy_warning(where):
        print(warning)
    if not os.environ.get("BENCH_DATABASE_URL", "").strip():
        print("PostgreSQL skipped: set BENCH_DATABASE_URL to include it.")
    problems = report.missed(results)
    for line in problems:
        print(f"MISSED: {line}")
    if not problems:
        print("All targets hold.")
    if os.environ.get("BENCH_SCALING", "1") != "0":
        run_scaling()
    print(f"Results written to {path} ({perf_counter() - started:.0f} s in all).")
    return 0


def run_scaling() -> None:
    """Workers 1/2/4 and SIGKILL recovery, per database; saved to bench-results/scaling.json."""
    import json
    from pathlib import Path

    from bench.scaling import bench_scaling, table

    saved = []
    postgres_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    with redis_url() as queue_url:
        targets = [("SQLite", sqlite_database)]
        if postgres_url:
            targets.append(("PostgreSQL", lambda: postgres_database(postgres_url)))
        for label, database in targets:
            print(f"Scaling {label} with 1, 2 and 4 workers …", flush=True)
            with database() as url:
                result = bench_scaling(label, url, queue_url)
            print(table(result) + "\n", flush=True)
            saved.append(
                {
                    "database": label,
                    "processes_per_minute": result.per_minute,
                    "recovery_seconds": result.recovery_seconds,
                }
            )
    out = Path("bench-results") / "scaling.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(saved, indent=2))


if __name__ == "__main__":
    sys.exit(main())
