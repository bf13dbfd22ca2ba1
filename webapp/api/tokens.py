"""API tokens: created and revoked by an organization's administrators, shown once, stored
only as a SHA-256 hash; a request presents one as `Authorization: Bearer <token>`."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiToken, User, utcnow
from webapp.services import audit

TOKEN_PREFIX = "trbss_"  # noqa: S105 - a marker, not a secret
DISPLAY_PREFIX_LENGTH = 12  # "trbss_" and six random characters: enough to tell tokens apart
MAX_TOKEN_LENGTH = 200
# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(organization_id: int, actor: User | None, name: str) -> tuple[ApiToken, str]:
    """Make a token for the organization; returns the row and the token, which is never
    stored and cannot be shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        organization_id=organization_id,
        name=name.strip(),
        prefix=raw[:DISPLAY_PREFIX_LENGTH],
        token_hash=hash_token(raw),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="api_token.create",
        entity_type="api_token",
        entity_id=row.id,
        summary=f"API token {row.name} ({row.prefix}…) created",
        after={"name": row.name, "prefix": row.prefix},
    )
    db.session.commit()
    return row, raw


def revoke_token(row: ApiToken, actor: User | None) -> bool:
    """Revoke the token at once; False if it already was revoked."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    audit.record(
        organization_id=row.organization_id,
        actor=actor,
        action="api_token.revoke",
        entity_type="api_token",
        entity_id=row.id,
        summary=f"API token {row.name} ({row.prefix}…) revoked",
        before={"revoked_at": None},
        after={"revoked_at": row.revoked_at.isoformat()},
    )
    db.session.commit()
    return True


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    return value


def authenticate(raw: str) -> ApiToken | None:
    """The live (not revoked) token with this value, its last use recorded; or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        db.session.commit()
    return row
