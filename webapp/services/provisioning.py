"""Syncing a reseller account with a provisioning platform, through one adapter per platform.

An adapter creates (or finds) the reseller on its platform and returns the remote reseller
id, or raises AdapterError with a message a person can act on. The shipped adapter is the
local sandbox: it records the remote id it would create, and fails on demand (its settings
on the account page) so that a failure and a retry can be tried end to end. A sync runs as a
queued process (sync_steps.py); "Record sync" by hand stays possible with a reference and is
marked manual."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    Process,
    ProvisioningPlatform,
    SandboxAdapterSetting,
    SyncStatus,
    User,
    utcnow,
)
from webapp.services import audit
from webapp.services.processes import ProcessKind, lifecycle
from webapp.services.processes.sync_steps import SYNC_STEPS

MANUAL, ADAPTER = "manual", "adapter"

# What the sandbox can be told to do on the next syncs, as a real platform would fail.
SANDBOX_FAILURES = {
    "timeout": "The platform did not answer within 30 seconds. Retry later.",
    "rejected": "The platform refused the reseller: its company details are incomplete.",
    "unauthorized": "The platform refused our credentials (HTTP 401). Check the API key.",
}


class AdapterError(Exception):
    """The platform did not create the reseller; the message says why."""


class PlatformAdapter(Protocol):
    def create_reseller(self, account: Account) -> str:
        """The remote reseller id of this account on the platform (created if needed)."""


class SandboxAdapter:
    """A local stand-in for a platform: deterministic remote ids, failures on demand."""

    def __init__(self, platform: ProvisioningPlatform):
        self.platform = platform

    def create_reseller(self, account: Account) -> str:
        setting = sandbox_setting(account.organization_id, self.platform.id)
        if setting is not None and setting.failures_left > 0 and setting.failure:
            setting.failures_left -= 1
            db.session.commit()  # the failure is used up even though the step fails
            raise AdapterError(SANDBOX_FAILURES.get(setting.failure, setting.failure))
        return f"SBX-{self.platform.code.upper()}-{account.id:06d}"


def adapter_for(platform: ProvisioningPlatform) -> PlatformAdapter:
    """One adapter per platform; every platform uses the sandbox until a real one exists."""
    return SandboxAdapter(platform)


def sandbox_setting(organization_id: int, platform_id: int) -> SandboxAdapterSetting | None:
    return db.session.scalar(
        SandboxAdapterSetting.in_org(organization_id).where(
            SandboxAdapterSetting.platform_id == platform_id
        )
    )


def set_sandbox_failure(
    organization_id: int, platform_id: int, failure: str, times: int, actor: User | None
) -> None:
    """The next `times` sandbox syncs on this platform fail with `failure` ("" for none)."""
    if failure and failure not in SANDBOX_FAILURES:
        raise ValueError(failure)
    setting = sandbox_setting(organization_id, platform_id)
    if setting is None:
        setting = SandboxAdapterSetting(organization_id=organization_id, platform_id=platform_id)
        db.session.add(setting)
    setting.failure = failure
    setting.failures_left = max(0, times) if failure else 0
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="sandbox.settings",
        entity_type="provisioning_platform",
        entity_id=platform_id,
        summary=f"Sandbox: next {setting.failures_left} sync(s) fail ({failure or 'none'})",
    )
    db.session.commit()


def _sync_row(account: Account, platform_id: int) -> AccountPlatformSync:
    sync = db.session.scalar(
        select(AccountPlatformSync).where(
            AccountPlatformSync.account_id == account.id,
            AccountPlatformSync.platform_id == platform_id,
            AccountPlatformSync.organization_id == account.organization_id,
        )
    )
    if sync is None:
        sync = AccountPlatformSync(
            organization_id=account.organization_id, account_id=account.id, platform_id=platform_id
        )
        db.session.add(sync)
    return sync


def record(
    account: Account,
    platform: ProvisioningPlatform,
    reference: str,
    method: str,
    actor: User | None,
) -> AccountPlatformSync:
    """Synced as reseller with this reference, by this method and person (audited, not
    committed)."""
    sync = _sync_row(account, platform.id)
    before = {"status": sync.status, "external_reference": sync.external_reference}
    sync.status = SyncStatus.SYNCED_AS_RESELLER
    sync.external_reference = reference
    sync.synced_at = utcnow()
    sync.method = method
    sync.synced_by_id = actor.id if actor is not None else None
    how = "recorded manually" if method == MANUAL else "synced by the platform adapter"
    audit.record(
        organization_id=account.organization_id,
        actor=actor,
        action="account.platform_sync",
        entity_type="account",
        entity_id=account.id,
        summary=f"{platform.name}: Synced as reseller ({how}, reference {reference})",
        before=before,
        after={"status": sync.status, "external_reference": reference, "method": method},
    )
    return sync


def start_sync(account: Account, platform: ProvisioningPlatform, actor: User | None):
    """Queue the sync of this account on this platform (one at a time per pair)."""
    process = lifecycle.prepare(
        ProcessKind.PLATFORM_SYNC,
        organization_id=account.organization_id,
        name=f"Sync {account.name} with {platform.name}",
        steps=SYNC_STEPS,
        actor=actor,
        lock_key=f"sync:{account.id}:{platform.id}",
        params={"account_id": account.id, "platform_id": platform.id},
    )
    audit.record(
        organization_id=account.organization_id,
        actor=actor,
        action="account.platform_sync_requested",
        entity_type="account",
        entity_id=account.id,
        summary=f"{platform.name}: sync requested",
        process_id=process.id,
    )
    return lifecycle.start(process)


def unfinished_sync(account: Account, platform_id: int) -> Process | None:
    return lifecycle.unfinished(f"sync:{account.id}:{platform_id}")
