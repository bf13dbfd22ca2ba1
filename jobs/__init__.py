"""RQ: connection and queues, the creation pipeline and its steps, the reaper, the worker."""
