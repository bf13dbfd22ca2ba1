"""TOTP two-factor authentication (RFC 6238, any authenticator app) with recovery codes.

A code is accepted once: the last accepted time step is kept, so a code seen over someone's
shoulder cannot be replayed. Recovery codes are random, shown once, stored as SHA-256 and
used up one at a time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import RecoveryCode, Role, User, utcnow
from webapp.services import audit

ISSUER = "Tenant Reseller BSS"
RECOVERY_CODE_COUNT = 10
# Lower case letters and digits without 0/o, 1/l/i: easy to copy from paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10  # 31**10 ≈ 8e14 per code


def new_secret() -> str:
    """A new shared secret (160 bits, base32) for enrolment."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address that authenticator apps read from the QR code."""
    label = f"{user.username} ({user.organization.display_client_id})"
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=ISSUER)


def qr_code_data_uri(uri: str) -> str:
    """The otpauth address as an SVG QR code in a data: URI (the CSP allows data: images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4)


def required_for(user: User) -> bool:
    """Two-factor is required for the distributor's administrators when it turned it on."""
    org = user.organization
    return user.role == Role.ADMIN and org.is_root and org.require_admin_two_factor


def must_enrol(user: User) -> bool:
    return required_for(user) and not user.two_factor_enabled


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace())


def _accepted_step(secret: str, code: str, after_step: int | None) -> int | None:
    """The time step whose code this is (the current one, or one either side for clocks a
    little off), if it is later than `after_step`."""
    code = _digits(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(utcnow())
    for step in (now_step - 1, now_step, now_step + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _recovery_hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_normalise_recovery(code)}".encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, raw)))
    return codes


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn two-factor on once the code from the app proves it has the secret; returns the
    new recovery codes (to show once), or None if the code is wrong."""
    step = _accepted_step(secret, code, None)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit.record(
        organization_id=user.organization_id,
        actor=user,
        action="user.two_factor_enable",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.username} turned on two-factor authentication",
    )
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    audit.record(
        organization_id=user.organization_id,
        actor=user,
        action="user.recovery_codes",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.username} made new recovery codes",
    )
    return codes


def disable(user: User) -> None:
    from webapp.services.accounts import clear_two_factor

    clear_two_factor(user)
    audit.record(
        organization_id=user.organization_id,
        actor=user,
        action="user.two_factor_disable",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.username} turned off two-factor authentication",
    )


def verify(user: User, code: str) -> str | None:
    """'app' or 'recovery code' when the code is good (and now used), else None."""
    if not user.two_factor_enabled:
        return None
    step = _accepted_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        # Conditional, so two requests racing with the same code cannot both pass.
        done = db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
            )
            .values(totp_last_step=step)
        ).rowcount
        return "app" if done == 1 else None
    if len(_normalise_recovery(code)) != RECOVERY_LENGTH:
        return None
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(user.id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    ).rowcount
    return "recovery code" if used == 1 else None


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def current_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows now (or at `at`): for tests and the CLI."""
    return pyotp.TOTP(secret).at(at if at is not None else time.time())
