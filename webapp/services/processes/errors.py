"""The exceptions of the process engine: one for refusals, three for a running step."""

from __future__ import annotations


class ProcessRefused(Exception):
    """A launch or a staff action that does not apply now; the message says why and what to
    do. `busy` is the unfinished process in the way, when that is the reason."""

    def __init__(self, message: str, busy=None):
        super().__init__(message)
        self.busy = busy


class StepFailure(Exception):
    """A failure a person can act on; its message is shown on the process page."""


class LostClaim(Exception):
    """Another job now owns this process (ours was presumed dead); stop without writing."""


class CancelRequested(Exception):
    """Staff asked to stop this process; raised at the next safe point."""
