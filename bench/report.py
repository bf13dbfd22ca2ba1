"""The targets, the printed table and the JSON file of a creation bench run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bench.creation import DatabaseResult, SizeResult

MAX_COPY_OVER_FLOOR = 2.0
PROCESS_TARGET_N = 10_000
MAX_PROCESS_SECONDS = 2.0
RESULTS_FILE = Path(__file__).resolve().parent.parent / "bench-results" / "creation.json"


def copy_target_holds(run: SizeResult) -> bool:
    """The copy step stays within 2× of one INSERT … SELECT of the same rows."""
    return run.ratio <= MAX_COPY_OVER_FLOOR


def process_target_holds(run: SizeResult) -> bool | None:
    """10,000 products go from enqueue to Completed in under 2 s; None for other sizes."""
    if run.n != PROCESS_TARGET_N:
        return None
    return run.process_seconds < MAX_PROCESS_SECONDS


def verdict(holds: bool | None) -> str:
    """ok, MISSED, or - where the target does not apply."""
    if holds is None:
        return "-"
    return "ok" if holds else "MISSED"


def table(result: DatabaseResult) -> str:
    """A readable table of one database's runs."""
    header = (
        f"{'N':>9}  {'copy s':>8}  {'floor s':>8}  {'copy/floor':>10}  {'process s':>9}  "
        f"{'worker s':>8}  {'copy<=2x floor':>14}  {'10k process<2s':>14}"
    )
    lines = [
        f"{result.label} {result.version} (COPY_BATCH_SIZE {result.batch_size:,})",
        header,
        "-" * len(header),
    ]
    for run in result.runs:
        lines.append(
            f"{run.n:>9,}  {run.copy_seconds:>8.3f}  {run.floor_seconds:>8.3f}  "
            f"{run.ratio:>9.2f}x  {run.process_seconds:>9.3f}  {run.worker_wall_seconds:>8.3f}  "
            f"{verdict(copy_target_holds(run)):>14}  {verdict(process_target_holds(run)):>14}"
        )
    return "\n".join(lines)


LEGEND = (
    "copy s: the copy_products task (started_at → finished_at). floor s: best of two single\n"
    "INSERT … SELECT of the same rows into a scratch organization, committed. process s: RQ\n"
    "enqueue → process Completed. worker s: wall clock of the in-process burst worker,\n"
    "including RQ's own start-up and shut-down."
)


def missed(results: list[DatabaseResult]) -> list[str]:
    """One line per target that does not hold."""
    lines = []
    for result in results:
        for run in result.runs:
            if not copy_target_holds(run):
                lines.append(
                    f"{result.label} N={run.n:,}: copy step {run.ratio:.2f}x the floor "
                    f"(target <= {MAX_COPY_OVER_FLOOR:.0f}x)"
                )
            if process_target_holds(run) is False:
                lines.append(
                    f"{result.label} N={run.n:,}: whole process {run.process_seconds:.3f} s "
                    f"(target < {MAX_PROCESS_SECONDS:.0f} s)"
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
        databases.append(data)
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "targets": {
            "max_copy_over_floor": MAX_COPY_OVER_FLOOR,
            "process_target_n": PROCESS_TARGET_N,
            "max_process_seconds": MAX_PROCESS_SECONDS,
        },
        "databases": databases,
    }
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(document, indent=2) + "\n")
    return RESULTS_FILE
