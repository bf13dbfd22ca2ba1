"""The process engine: everything a process is. `lifecycle` starts and ends processes,
`runner` runs them, `registry` knows every step of every kind, `batches` is the one batch
engine, `actions` the staff actions, `serializer` the one JSON shape, `estimate` the time
remaining. `jobs/` is only the RQ adapter around it."""

from webapp.services.processes.errors import ProcessRefused, StepFailure
from webapp.services.processes.kinds import ProcessKind

__all__ = ["ProcessKind", "ProcessRefused", "StepFailure"]
