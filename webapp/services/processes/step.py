"""A step: one named, idempotent piece of a process, run by the runner in task order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webapp.services.processes.context import StepContext


@dataclass(frozen=True)
class Step:
    key: str  # stored on the task row: never rename one that processes in the database use
    title: str
    run: Callable[[StepContext], str]  # returns the message shown on the task
    # Works through the process's `expected_items` (set at launch), which lets the estimate
    # of time remaining weigh this task before it starts.
    per_item: bool = False
