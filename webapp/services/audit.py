"""Audit records: one row per update action, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import AuditLog, User


def record(
    *,
    organization_id: int,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    process_id: int | None = None,
) -> AuditLog:
    """Add an audit row to the current transaction; the caller commits it with the change."""
    row = AuditLog(
        organization_id=organization_id,
        actor_user_id=actor.id if actor else None,
        actor_label=actor.username if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        summary=summary,
        before=before,
        after=after,
        process_id=process_id,
    )
    db.session.add(row)
    return row


def entries_for(organization_id: int, *entities: tuple[str, int], limit: int = 200):
    """Audit rows of this organization about any of the given (entity_type, entity_id)."""
    if not entities:
        return []
    conditions = [
        (AuditLog.entity_type == etype) & (AuditLog.entity_id == eid) for etype, eid in entities
    ]
    return db.session.scalars(
        select(AuditLog)
        .where(AuditLog.organization_id == organization_id, or_(*conditions))
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(limit)
    ).all()
