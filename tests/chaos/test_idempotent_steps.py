"""Every step run twice leaves exactly what running it once left."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.chaos.conftest import expected_snapshot, submit_northwind, tenant_snapshot
from webapp.extensions import db
from webapp.models import Process, ProcessTask
from webapp.services.processes.context import StepContext
from webapp.services.processes.creation_steps import CREATION_STEPS


@pytest.mark.parametrize("step", CREATION_STEPS, ids=[s.key for s in CREATION_STEPS])
def test_running_a_step_again_changes_nothing(app, demo, run_jobs, step):
    """After an undisturbed run, running `step` once more (from scratch) adds no row."""
    process_id = submit_northwind(app)
    run_jobs()
    once = tenant_snapshot(app, process_id)
    expected_snapshot(once)
    with app.app_context():
        process = db.session.get(Process, process_id)
        task = db.session.scalar(
            select(ProcessTask).where(
                ProcessTask.process_id == process_id, ProcessTask.step == step.key
            )
        )
        task.items_done = 0  # forget the progress too: the rows alone must stop duplicates
        process.runner_token = "test-runner"
        db.session.commit()
        ctx = StepContext(process=process, task=task, runner_token="test-runner")
        step.run(ctx)
        ctx.commit()
    twice = tenant_snapshot(app, process_id)
    assert twice == once


def test_database_constraints_refuse_a_duplicate_copy(app, demo, run_jobs):
    """The unique key (organization, source product) rejects a second copy of a product."""
    from sqlalchemy.exc import IntegrityError

    from webapp.models import Product

    submit_northwind(app)
    run_jobs()
    with app.app_context():
        copy = db.session.scalar(select(Product).where(Product.source_product_id.is_not(None)))
        db.session.add(
            Product(
                organization_id=copy.organization_id,
                platform_id=copy.platform_id,
                sku=copy.sku + "-again",
                name=copy.name,
                source_product_id=copy.source_product_id,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
