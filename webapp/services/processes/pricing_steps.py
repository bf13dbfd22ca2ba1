"""Price work that touches a whole list, as processes: a markup over cost, and a change of the
tenant's currency together with a list priced in the new one.

Both go product by product id in batches, each committed with its cursor (ctx.checkpoint), so a
300,000-product list never holds the database's write lock for longer than one batch, other
requests write in between, and a crash resumes after the last committed batch."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Organization, PriceList, ProcessTask, Product, User
from webapp.services import audit, pricing
from webapp.services.processes import chaos
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step


def _actor(ctx: StepContext) -> User | None:
    if ctx.process.created_by_id is None:
        return None
    return db.session.get(User, ctx.process.created_by_id)


def _markup_terms(ctx: StepContext) -> tuple[Decimal, str, Decimal | None]:
    params = ctx.params
    rate = params.get("exchange_rate")
    return (
        Decimal(params["markup_percent"]),
        params["rounding"],
        Decimal(rate) if rate else None,
    )


def _price_list(ctx: StepContext, price_list_id: int | None) -> PriceList:
    price_list = db.session.get(PriceList, price_list_id) if price_list_id else None
    if price_list is None or price_list.organization_id != ctx.process.organization_id:
        raise StepFailure("The price list no longer exists.")
    return price_list


def _markup_in_batches(ctx: StepContext, price_list: PriceList) -> dict:
    """Every product's sell price in the list from its cost; returns the counts of the whole
    task (this run and any earlier, interrupted one)."""
    markup, rule, rate = _markup_terms(ctx)
    org_pk = ctx.process.organization_id
    size = current_app.config["COPY_BATCH_SIZE"]
    state = ctx.state
    if "total" not in state:  # first start of the task: count the work once
        total = db.session.scalar(
            select(func.count()).select_from(Product).where(Product.organization_id == org_pk)
        )
        state = {"total": total, "done": 0, "after": 0, "updated": 0, "created": 0, "skipped": 0}
    while True:
        try:
            batch = pricing.markup_batch(
                org_pk, price_list, markup, rule, rate, state["after"], size
            )
        except pricing.AmountError as exc:
            raise StepFailure(str(exc)) from exc
        if batch.last_id is None:
            break
        state.update(
            after=batch.last_id,
            done=state["done"] + batch.found,
            updated=state["updated"] + batch.updated,
            created=state["created"] + batch.created,
            skipped=state["skipped"] + batch.skipped,
        )
        total = max(state["total"], state["done"])
        ctx.progress(state["done"], total, f"{state['done']:,} of {total:,} products priced")
        ctx.save_state(**state)
        chaos.slow_batch()
        ctx.checkpoint()
    ctx.progress(state["done"], state["done"])
    ctx.save_state(**state)
    return state


def _markup_message(state: dict, markup: Decimal) -> str:
    priced = state["updated"] + state["created"]
    skipped = state["skipped"]
    message = f"{priced:,} sell prices set to cost plus {markup.normalize():f} %."
    if skipped:
        message += f" {skipped:,} products have no cost price and were left alone."
    return message


def apply_markup(ctx: StepContext) -> str:
    price_list = _price_list(ctx, ctx.params.get("price_list_id"))
    state = _markup_in_batches(ctx, price_list)
    markup, rule, rate = _markup_terms(ctx)
    if not state.get("audited"):
        rate_words = ""
        if rate is not None:
            rate_words = f", 1 {ctx.params.get('cost_currency')} = {rate} {price_list.currency}"
        audit.record(
            organization_id=price_list.organization_id,
            actor=_actor(ctx),
            action="price_list.markup",
            entity_type="price_list",
            entity_id=price_list.id,
            summary=f"Markup {markup} % over cost, {pricing.ROUNDING_RULES[rule]}{rate_words}: "
            f"{state['updated'] + state['created']} prices set",
            after={
                "markup_percent": str(markup),
                "rounding": rule,
                "exchange_rate": str(rate) if rate is not None else None,
                "updated": state["updated"],
                "created": state["created"],
            },
            process_id=ctx.process.id,
        )
        ctx.save_state(audited=True)
    return _markup_message(state, markup)


def create_currency_list(ctx: StepContext) -> str:
    """The price list in the new currency: the one named at launch, created once (a re-run
    finds it by name)."""
    params = ctx.params
    org_pk = ctx.process.organization_id
    name = params["price_list_name"]
    price_list = db.session.scalar(PriceList.in_org(org_pk).where(PriceList.name == name))
    if price_list is None:
        price_list = PriceList(
            organization_id=org_pk, name=name, currency=params["currency"], active=True
        )
        db.session.add(price_list)
        db.session.flush()
        audit.record(
            organization_id=org_pk,
            actor=_actor(ctx),
            action="price_list.create",
            entity_type="price_list",
            entity_id=price_list.id,
            summary=f"Price list {name} ({price_list.currency}) created for the currency change",
            process_id=ctx.process.id,
        )
    elif price_list.currency != params["currency"]:
        raise StepFailure(
            f"A price list named {name} exists in {price_list.currency}, not "
            f"{params['currency']}. Rename it, then retry the process."
        )
    ctx.save_state(price_list_id=price_list.id)
    ctx.progress(1, 1)
    return f"Price list {name} in {price_list.currency}."


def _currency_list_id(ctx: StepContext) -> int | None:
    """The list the first step created, from that step's committed state."""
    task = db.session.scalar(
        select(ProcessTask).where(
            ProcessTask.process_id == ctx.process.id, ProcessTask.step == "create_currency_list"
        )
    )
    return (task.state or {}).get("price_list_id") if task is not None else None


def price_currency_list(ctx: StepContext) -> str:
    price_list = _price_list(ctx, _currency_list_id(ctx))
    state = _markup_in_batches(ctx, price_list)
    markup, _rule, _rate = _markup_terms(ctx)
    return _markup_message(state, markup)


def switch_currency(ctx: StepContext) -> str:
    """Last, once the storefront has prices in it: the tenant bills in the new currency."""
    params = ctx.params
    org = db.session.get(Organization, ctx.process.organization_id)
    chosen = params["currency"]
    if org.currency != chosen:
        audit.record(
            organization_id=org.id,
            actor=_actor(ctx),
            action="organization.currency",
            entity_type="organization",
            entity_id=org.id,
            summary=f"Currency: {org.currency} → {chosen}",
            before={"currency": org.currency},
            after={"currency": chosen},
            process_id=ctx.process.id,
        )
        org.currency = chosen
    ctx.progress(1, 1)
    return f"Your currency is now {chosen}; your storefront sells from {params['price_list_name']}."


MARKUP_STEPS = [Step("apply_markup", "Apply the markup", apply_markup, per_item=True)]

CURRENCY_STEPS = [
    Step("create_currency_list", "Create the price list in the new currency", create_currency_list),
    Step("price_currency_list", "Price it from cost", price_currency_list, per_item=True),
    Step("switch_currency", "Switch the currency", switch_currency),
]
