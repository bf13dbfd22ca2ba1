"""Copying a big price list into a new one: keyset batches of items, each committed with
its cursor, so a copy resumed after a crash continues where it stopped and never doubles."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app

from webapp.extensions import db
from webapp.models import PriceList
from webapp.services import catalog
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step


def copy_prices(ctx: StepContext) -> str:
    """Every item of the source list at price × the typed rate, rounded by the chosen rule."""
    params = ctx.params
    source = db.session.get(PriceList, params["source_id"])
    target = db.session.get(PriceList, params["target_id"])
    if source is None or target is None:
        raise StepFailure("The price list to copy from or to no longer exists.")
    rate, rounding = Decimal(params["rate"]), params["rounding"]
    size = current_app.config["COPY_BATCH_SIZE"]
    state = ctx.state
    total = state.get("total") or catalog.items_to_copy(source)
    last, done = state.get("last_id", 0), state.get("done", 0)
    while True:
        last_read, inserted = catalog.copy_batch(source, target, rate, rounding, last, size)
        if last_read is None:
            break
        last, done = last_read, done + inserted
        ctx.progress(min(done, total), total, f"{done:,} of {total:,} prices copied")
        ctx.save_state(total=total, last_id=last, done=done)
        ctx.checkpoint()
    ctx.progress(total, total)
    return f"{done:,} prices copied from {source.name} into {target.name} at {rate}."


PRICE_LIST_COPY_STEPS = [Step("copy_price_list", "Copy prices", copy_prices, per_item=True)]
