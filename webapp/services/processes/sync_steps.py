"""Syncing an account with a provisioning platform: one step, through the platform's adapter
(services/provisioning.py). A failure fails the process with the platform's reason; Retry on
the process page runs it again."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import Account, ProvisioningPlatform, User
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step


def sync_with_platform(ctx: StepContext) -> str:
    """Create the reseller on the platform and record the remote id it returns."""
    from webapp.services import provisioning

    account = db.session.get(Account, ctx.params.get("account_id"))
    platform = db.session.get(ProvisioningPlatform, ctx.params.get("platform_id"))
    if account is None or platform is None:
        raise StepFailure("The account or the platform no longer exists.")
    try:
        remote_id = provisioning.adapter_for(platform).create_reseller(account)
    except provisioning.AdapterError as error:
        raise StepFailure(f"{platform.name}: {error}") from error
    actor = db.session.get(User, ctx.process.created_by_id) if ctx.process.created_by_id else None
    provisioning.record(account, platform, remote_id, provisioning.ADAPTER, actor)
    ctx.commit()
    return f"{account.name} is synced as reseller on {platform.name}: remote id {remote_id}."


SYNC_STEPS = [Step("sync_with_platform", "Sync with the platform", sync_with_platform)]
