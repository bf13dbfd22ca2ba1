"""RQ entry point of the process queue: the job carries only the process id."""

from __future__ import annotations

from rq import get_current_job

from webapp.extensions import db
from webapp.services.processes.runner import ProcessRunner


def run_process(process_id: int) -> str:
    """Run (or resume) one process. The worker command gives jobs their app context."""
    job = get_current_job()
    try:
        return ProcessRunner(process_id, job_id=job.id if job else "-").run()
    finally:
        db.session.remove()
