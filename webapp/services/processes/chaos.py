"""Fault-injection points for the chaos tests; inert unless TRBSS_CHAOS_PAUSE_AT is set.

At the named point the work-horse writes its pid to the file TRBSS_CHAOS_MARKER and waits
while that file exists: the test either SIGKILLs the worker and its horse at exactly that
moment (a real crash, not a mock) or removes the file to let the job go on. A worker pauses
once: when the job goes on, a later run of the same process passes the point. It lives with
the engine (not in jobs/) because the runner and the batch engine call it."""

from __future__ import annotations

import os
import time
from pathlib import Path


def point(name: str) -> None:
    """Pause here if this is the point the chaos test asked for."""
    if os.environ.get("TRBSS_CHAOS_PAUSE_AT") != name:
        return
    marker = Path(os.environ["TRBSS_CHAOS_MARKER"])
    passed = marker.with_name(f"{marker.name}.{name.replace(':', '-')}.passed")
    if passed.exists():
        return
    marker.write_text(str(os.getpid()))
    while marker.exists():
        time.sleep(0.05)
    passed.touch()


def slow_batch() -> None:
    """Each batch takes TRBSS_CHAOS_BATCH_SECONDS longer: a steady, known pace for the test
    of the time-remaining estimate, whatever else the machine is doing."""
    seconds = os.environ.get("TRBSS_CHAOS_BATCH_SECONDS")
    if seconds:
        time.sleep(float(seconds))
