"""Fault-injection points for the chaos tests; inert unless TRBSS_CHAOS_PAUSE_AT is set.

At the named point the work-horse writes its pid to TRBSS_CHAOS_MARKER and then waits, so a
test can SIGKILL the worker and its horse at exactly that moment (a real crash, not a mock)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def point(name: str) -> None:
    """Pause here forever if this is the point the chaos test asked for."""
    if os.environ.get("TRBSS_CHAOS_PAUSE_AT") != name:
        return
    marker = os.environ.get("TRBSS_CHAOS_MARKER")
    if marker:
        Path(marker).write_text(str(os.getpid()))
    while True:  # the test kills us here
        time.sleep(0.2)
