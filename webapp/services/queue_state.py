"""What operators read about the queues: Redis reachable, workers, jobs waiting and failed,
whether a job is still alive. Pages read it through here, never from jobs/ directly."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.exceptions import RedisError
from rq import Worker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from jobs.connection import RedisNotConfigured, all_queues, get_redis
from jobs.queueing import job_is_live

__all__ = ["QUEUE_ERRORS", "QueueState", "job_is_live", "ping", "read"]

QUEUE_ERRORS = (RedisError, RedisNotConfigured, OSError)


@dataclass
class QueueCounts:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int


@dataclass
class QueueState:
    workers: list = field(default_factory=list)
    queues: list[QueueCounts] = field(default_factory=list)
    error: str | None = None

    def total(self, attribute: str) -> int:
        return sum(getattr(q, attribute) for q in self.queues)


def ping() -> None:
    """Raises one of QUEUE_ERRORS when Redis does not answer."""
    get_redis().ping()


def read() -> QueueState:
    state = QueueState()
    try:
        state.workers = Worker.all(connection=get_redis())
        for queue in all_queues():
            state.queues.append(
                QueueCounts(
                    name=queue.name,
                    queued=queue.count,
                    started=StartedJobRegistry(queue=queue).count,
                    scheduled=ScheduledJobRegistry(queue=queue).count,
                    failed=FailedJobRegistry(queue=queue).count,
                )
            )
    except QUEUE_ERRORS as exc:
        state.error = str(exc)
    return state
