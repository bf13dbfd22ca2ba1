"""Submitting a tenant reseller creation: validate, re-check readiness, save, launch."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import (
    Account,
    Process,
    TenantReseller,
    TenantStatus,
    User,
)
from webapp.services import audit, readiness
from webapp.services.catalog import range_count
from webapp.services.passwords import hash_password
from webapp.services.processes import lifecycle
from webapp.services.processes.creation_steps import CREATION_STEPS
from webapp.services.processes.kinds import ProcessKind


@dataclass
class CreationRequest:
    """What the form (or the CLI) asks for."""

    account_id: int
    price_list_id: int
    language: str
    timezone: str
    date_format: str
    edition: str
    separate_invoices: bool
    admin_username: str
    admin_email: str
    admin_password: str
    # Email the administrator an invitation to choose a password instead of setting one.
    invite_admin: bool = False
    # The range inherited (None: every platform / category of the price list).
    range_platform_ids: list[int] | None = None
    range_categories: list[str] | None = None


@dataclass
class CreationResult:
    tenant_reseller: TenantReseller | None = None
    process: Process | None = None
    enqueued: bool = False
    already_exists: TenantReseller | None = None
    not_ready: list[str] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.process is not None


def process_name(account: Account) -> str:
    return f"Create Tenant Reseller — {account.name}"


def existing_tenant(account: Account) -> TenantReseller | None:
    return db.session.scalar(
        select(TenantReseller).where(
            TenantReseller.account_id == account.id,
            TenantReseller.organization_id == account.organization_id,
        )
    )


def submit(organization_id: int, actor: User | None, req: CreationRequest) -> CreationResult:
    """Create the tenant reseller, its process and tasks in one transaction, then enqueue."""
    account = db.session.scalar(Account.in_org(organization_id).where(Account.id == req.account_id))
    if account is None:
        return CreationResult(not_ready=["The account does not exist."])
    if (found := existing_tenant(account)) is not None:
        return CreationResult(already_exists=found)

    problems = readiness.evaluate(account, req.price_list_id).problems_for(req.price_list_id)
    if problems:
        return CreationResult(not_ready=problems)

    tenant = TenantReseller(
        organization_id=organization_id,
        account_id=account.id,
        price_list_id=req.price_list_id,
        language=req.language,
        timezone=req.timezone,
        date_format=req.date_format,
        edition=req.edition,
        separate_invoices=req.separate_invoices,
        admin_username=req.admin_username.strip(),
        admin_email=req.admin_email.strip(),
        admin_password_hash=None if req.invite_admin else hash_password(req.admin_password),
        invite_admin=req.invite_admin,
        was_lite_reseller=account.is_lite_reseller,
        status=TenantStatus.IN_PROGRESS,
        created_by_id=actor.id if actor else None,
        range_platform_ids=req.range_platform_ids or None,
        range_categories=req.range_categories or None,
    )
    db.session.add(tenant)
    try:
        db.session.flush()  # the unique account_id is checked here: one tenant per account
    except IntegrityError:
        db.session.rollback()
        return CreationResult(already_exists=existing_tenant(account))

    # The number of products to copy lets the page weigh the copy before it starts.
    products = range_count(req.price_list_id, req.range_platform_ids, req.range_categories)
    process = lifecycle.prepare(
        ProcessKind.CREATION,
        organization_id=organization_id,
        name=process_name(account),
        steps=CREATION_STEPS,
        actor=actor,
        tenant=tenant,
        params={"expected_items": products},
    )
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="tenant_reseller.create",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary=f"Creation of tenant reseller {account.name} requested",
        after={
            "account": account.name,
            "price_list_id": req.price_list_id,
            "edition": req.edition,
            "language": req.language,
            "timezone": req.timezone,
            "date_format": req.date_format,
            "separate_invoices": req.separate_invoices,
            "admin_username": tenant.admin_username,
            "range_platform_ids": tenant.range_platform_ids,
            "range_categories": tenant.range_categories,
        },
        process_id=process.id,
    )
    try:
        launched = lifecycle.start(process)  # commit, then enqueue
    except IntegrityError:
        db.session.rollback()
        return CreationResult(already_exists=existing_tenant(account))
    return CreationResult(tenant_reseller=tenant, process=process, enqueued=launched.enqueued)


USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-")


def canonical_edition(raw: str) -> str:
    """ "basic", "BASIC" or "Basic" → "Basic": every entry point takes any case; anything
    else comes back unchanged for validate() to refuse."""
    from webapp.models import Edition

    for edition in Edition:
        if isinstance(raw, str) and raw.strip().casefold() == edition.value.casefold():
            return edition.value
    return raw


def validate(req: CreationRequest) -> dict[str, str]:
    """Field name → message for every field that is wrong; empty when all are right."""
    from email_validator import EmailNotValidError, validate_email

    from webapp.models import Edition
    from webapp.services import regional
    from webapp.services.password_rules import password_problem

    errors: dict[str, str] = {}
    if not regional.is_language(req.language):
        errors["language"] = "Choose a language from the list."
    if not regional.is_timezone(req.timezone):
        errors["timezone"] = "Choose a time zone from the list, for example Europe/Athens."
    if not regional.is_date_format(req.date_format):
        errors["date_format"] = "Choose a date format from the list."
    if req.edition not in {e.value for e in Edition}:
        errors["edition"] = "Choose Basic or Premium."
    username = (req.admin_username or "").strip()
    if not 3 <= len(username) <= 80:
        errors["admin_username"] = "The username must be 3 to 80 characters long."
    elif not set(username) <= USERNAME_CHARS:
        errors["admin_username"] = "Use only letters, digits and . _ @ - in the username."
    try:
        validate_email(req.admin_email or "", check_deliverability=False)
    except EmailNotValidError:
        errors["admin_email"] = "Enter a valid email address, for example admin@example.com."
    if not req.invite_admin:
        problem = password_problem(req.admin_password or "", username)
        if problem:
            errors["admin_password"] = problem
    return errors
