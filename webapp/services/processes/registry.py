"""Every step of every kind of process, by key, built from explicit lists: no registration
at import time, no import cycle. A task row names its step by this key."""

from __future__ import annotations

from webapp.services.processes.activation_steps import ACTIVATION_STEPS
from webapp.services.processes.creation_steps import CREATION_STEPS
from webapp.services.processes.invoice_steps import ISSUE_STEPS, REPAIR_STEPS, RUN_STEPS
from webapp.services.processes.kinds import ProcessKind
from webapp.services.processes.price_list_steps import PRICE_LIST_COPY_STEPS
from webapp.services.processes.pricing_steps import CURRENCY_STEPS, MARKUP_STEPS
from webapp.services.processes.purge_steps import PURGE_STEPS
from webapp.services.processes.step import Step
from webapp.services.processes.sync_steps import SYNC_STEPS
from webapp.services.processes.update_steps import UPDATE_STEPS
from webapp.services.processes.upgrade_steps import UPGRADE_STEPS

# The steps a kind runs, in order (a launch may run a subset, as Update Tenant does).
STEPS_OF_KIND: dict[ProcessKind, list[Step]] = {
    ProcessKind.CREATION: CREATION_STEPS,
    ProcessKind.UPDATE: UPDATE_STEPS,
    ProcessKind.LITE_UPGRADE: UPGRADE_STEPS,
    ProcessKind.BACK_ORDERING_ACTIVATION: ACTIVATION_STEPS,
    ProcessKind.INVOICE_RUN: RUN_STEPS,
    ProcessKind.INVOICE_ISSUE: ISSUE_STEPS,
    ProcessKind.BILLING_REPAIR: REPAIR_STEPS,
    ProcessKind.PRICE_MARKUP: MARKUP_STEPS,
    ProcessKind.CURRENCY_CHANGE: CURRENCY_STEPS,
    ProcessKind.PRICE_LIST_COPY: PRICE_LIST_COPY_STEPS,
    ProcessKind.TENANT_PURGE: PURGE_STEPS,
    ProcessKind.PLATFORM_SYNC: SYNC_STEPS,
}


def _by_key(lists) -> dict[str, Step]:
    steps: dict[str, Step] = {}
    for step in (s for steps_of_kind in lists for s in steps_of_kind):
        if steps.get(step.key, step) is not step:
            raise ValueError(f"two steps are named {step.key!r}")
        steps[step.key] = step
    return steps


STEPS: dict[str, Step] = _by_key(STEPS_OF_KIND.values())


def steps_of(kind: ProcessKind | str) -> list[Step]:
    return STEPS_OF_KIND[ProcessKind(kind)]
