"""The targets, the printed table and the JSON file of a creation bench run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bench.creation import DatabaseResult, SizeResult

MAX_COPY_OVER_FLOOR = 1.5
MAX_PRICE_LIST_OVER_FLOOR = 1.5
MAX_PROCESS_OVER_FLOOR = 3.0
# 300k may take at most 3.3x 100k: time grows at most 1.1x as fast as the size.
MAX_GROWTH = 1.1
MAX_BOOKKEEPING_SHARE = 0.10
RESULTS_FILE = Path(__file__).resolve().parent.parent / "bench-results" / "creation.json"


def copy_target_holds(run: SizeResult) -> bool:
    """The copy task within 1.5x of the plain floor of the products it wrote."""
    return run.ratio <= MAX_COPY_OVER_FLOOR


def price_target_holds(run: SizeResult) -> bool:
    """The default price list task within 1.5x of the plain floor of its items."""
    return run.price_ratio <= MAX_PRICE_LIST_OVER_FLOOR


def process_target_holds(run: SizeResult) -> bool:
    """The whole process within 3x of both plain floors together."""
    return run.process_ratio <= MAX_PROCESS_OVER_FLOOR


def bookkeeping_target_holds(run: SizeResult) -> bool:
    """Batch and progress bookkeeping under a tenth of the batches' time."""
    return run.bookkeeping_share < MAX_BOOKKEEPING_SHARE


def growth(smaller: SizeResult, larger: SizeResult) -> float:
    """How much faster than the size the process time grew (1.0 = linear)."""
    return (larger.process_seconds / smaller.process_seconds) / (larger.n / smaller.n)


def verdict(holds: bool | None) -> str:
    """ok, MISSED, or - where the target does not apply."""
    if holds is None:
        return "-"
    return "ok" if holds else "MISSED"


def growth_lines(result: DatabaseResult) -> list[tuple[SizeResult, SizeResult, float]]:
    runs = sorted(result.runs, key=lambda run: run.n)
    return [(a, b, growth(a, b)) for a, b in zip(runs, runs[1:], strict=False)]


def table(result: DatabaseResult) -> str:
    """A readable table of one database's runs, every ratio with its verdict."""
    header = (
        f"{'N':>9}  {'copy s':>7}  {'floor s':>7}  {'copy/fl':>7}  {'prices s':>8}  "
        f"{'floor s':>7}  {'price/fl':>8}  {'process s':>9}  {'proc/fl':>7}  {'bookkeep':>8}  "
        f"{'old floor':>9}  verdicts (copy, prices, process, bookkeeping)"
    )
    lines = [
        f"{result.label} {result.version} (COPY_BATCH_SIZE {result.batch_size:,})",
        header,
        "-" * len(header),
    ]
    for run in result.runs:
        verdicts = ", ".join(
            verdict(holds)
            for holds in (
                copy_target_holds(run),
                price_target_holds(run),
                process_target_holds(run),
                bookkeeping_target_holds(run),
            )
        )
        lines.append(
            f"{run.n:>9,}  {run.copy_seconds:>7.3f}  {run.product_floor:>7.3f}  "
            f"{run.ratio:>6.2f}x  {run.price_list_seconds:>8.3f}  {run.price_floor:>7.3f}  "
            f"{run.price_ratio:>7.2f}x  {run.process_seconds:>9.3f}  {run.process_ratio:>6.2f}x  "
            f"{run.bookkeeping_share:>7.1%}  {run.floor_seconds:>9.3f}  {verdicts}"
        )
    for smaller, larger, grew in growth_lines(result):
        times = larger.process_seconds / smaller.process_seconds
        lines.append(
            f"{larger.n:,} vs {smaller.n:,}: process {times:.2f}x "
            f"for {larger.n / smaller.n:.1f}x the rows (growth {grew:.2f}, target <= {MAX_GROWTH}: "
            f"{verdict(grew <= MAX_GROWTH)})"
        )
    return "\n".join(lines)


LEGEND = (
    "copy s / prices s: the copy_products and create_price_list tasks (started → finished).\n"
    "floor s: best of two plain INSERT INTO t SELECT * of the rows that task wrote, into t\n"
    "created LIKE the table with all its indexes (PostgreSQL; SQLite: the same DDL without\n"
    "foreign keys), committed. copy/fl, price/fl: targets <= 1.5x. process s: RQ enqueue →\n"
    "Completed; proc/fl: over both floors together, target <= 3x. bookkeep: share of the\n"
    "batches' time spent neither in their INSERT … SELECT nor in their commit (finding the\n"
    "range, progress, heartbeat, cancel check), target < 10 %. old floor: the app's own\n"
    "statement over the whole list at once."
)


def missed(results: list[DatabaseResult]) -> list[str]:
    """One line per target that does not hold."""
    lines = []
    for result in results:
        for run in result.runs:
            where = f"{result.label} N={run.n:,}"
            if not copy_target_holds(run):
                lines.append(f"{where}: copy task {run.ratio:.2f}x its floor (<= 1.5x)")
            if not price_target_holds(run):
                lines.append(f"{where}: price list task {run.price_ratio:.2f}x its floor (<= 1.5x)")
            if not process_target_holds(run):
                lines.append(f"{where}: whole process {run.process_ratio:.2f}x the floors (<= 3x)")
            if not bookkeeping_target_holds(run):
                lines.append(f"{where}: bookkeeping {run.bookkeeping_share:.1%} (< 10 %)")
        for smaller, larger, grew in growth_lines(result):
            if grew > MAX_GROWTH:
                lines.append(
                    f"{result.label}: {larger.n:,} took {grew * larger.n / smaller.n:.2f}x "
                    f"{smaller.n:,} (<= {MAX_GROWTH * larger.n / smaller.n:.2f}x)"
                )
    return lines


def write_json(results: list[DatabaseResult], machine: dict) -> Path:
    """bench-results/creation.json: every number, with the targets and their verdicts."""
    databases = []
    for result in results:
        data = result.as_dict()
        for run, row in zip(result.runs, data["runs"], strict=True):
            row["copy_target_holds"] = copy_target_holds(run)
            row["process_target_holds"] = process_target_holds(run)
            row["price_list_target_holds"] = price_target_holds(run)
            row["bookkeeping_target_holds"] = bookkeeping_target_holds(run)
        databases.append(data)
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "targets": {
            "max_copy_over_floor": MAX_COPY_OVER_FLOOR,
            "max_price_list_over_floor": MAX_PRICE_LIST_OVER_FLOOR,
            "max_process_over_floor": MAX_PROCESS_OVER_FLOOR,
            "max_growth": MAX_GROWTH,
            "max_bookkeeping_share": MAX_BOOKKEEPING_SHARE,
        },
        "databases": databases,
    }
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(document, indent=2) + "\n")
    return RESULTS_FILE
