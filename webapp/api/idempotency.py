"""Idempotency-Key: the first response to a key is stored and replayed for the same body.

Only a hash of the request body is kept (an HMAC-SHA-256 keyed with the app's secret, since
the body holds the new administrator's password), never the body itself; the stored response
holds no password."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from webapp.api.problems import dumps
from webapp.extensions import db
from webapp.models import IdempotencyRecord, utcnow

MAX_KEY_LENGTH = 200
# A claimed key whose answer is not stored yet (the work is running): status_code 0.
PENDING = 0
# How long a second request with a key waits for the first one's answer, and after how long a
# claim that never got its answer (its process died) is abandoned.
WAIT_SECONDS = 20.0
ABANDONED_AFTER = timedelta(minutes=2)
# A client retries within minutes; a day covers any outage of theirs. After that a key may be
# used afresh, and the stored answers do not pile up for ever.
RETENTION = timedelta(hours=24)  # the default of IDEMPOTENCY_RETENTION_HOURS


def retention() -> timedelta:
    """How long a key answers with its first response (IDEMPOTENCY_RETENTION_HOURS)."""
    hours = current_app.config.get("IDEMPOTENCY_RETENTION_HOURS")
    return RETENTION if hours is None else timedelta(hours=hours)


def parse_key(header: str | None) -> str | None:
    """The key of an Idempotency-Key header (plain, or a quoted structured-field string);
    None when absent; ValueError when it is not 1–200 visible ASCII characters."""
    if header is None:
        return None
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise ValueError("The Idempotency-Key must be 1 to 200 visible ASCII characters.")
    return key


def request_hash(body: Any) -> str:
    """A keyed hash of the canonical JSON body: equal bodies hash equal, whatever the key
    order or spacing they were sent with."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, dumps(body).encode(), hashlib.sha256).hexdigest()


@dataclass
class Stored:
    status_code: int
    body: dict
    request_hash: str

    def matches(self, rhash: str) -> bool:
        return hmac.compare_digest(self.request_hash, rhash)


def purge_expired(organization_id: int | None = None, key: str | None = None) -> int:
    """Delete the records older than retention() (of one key, or all of them); commits."""
    statement = delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < utcnow() - retention()
    )
    if organization_id is not None:
        statement = statement.where(IdempotencyRecord.organization_id == organization_id)
    if key is not None:
        statement = statement.where(IdempotencyRecord.key == key)
    deleted = db.session.execute(statement).rowcount
    db.session.commit()
    return deleted


def lookup(organization_id: int, key: str) -> Stored | None:
    # An expired record must not answer, nor block saving this request's answer.
    purge_expired(organization_id, key)
    row = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.organization_id == organization_id, IdempotencyRecord.key == key
        )
    )
    if row is None:
        return None
    return Stored(row.status_code, dict(row.body), row.request_hash)


def save(organization_id: int, key: str, rhash: str, status_code: int, body: dict) -> Stored:
    """Store the response for the key and return what is stored for it.

    Two requests with one key can race: the unique (organization_id, key) constraint lets
    one insert win; the other re-reads the winner's record. If the winner stored the
    "already a tenant reseller" answer of a duplicate while this request is the one that
    created it, this request's 202 replaces it, so later replays report the creation."""
    db.session.add(
        IdempotencyRecord(
            organization_id=organization_id,
            key=key,
            request_hash=rhash,
            status_code=status_code,
            body=body,
        )
    )
    try:
        db.session.commit()
        return Stored(status_code, body, rhash)
    except IntegrityError:
        db.session.rollback()
    row = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.organization_id == organization_id, IdempotencyRecord.key == key
        )
    )
    if row is None:  # pragma: no cover - the conflicting row cannot vanish; be safe anyway
        return Stored(status_code, body, rhash)
    same_body = hmac.compare_digest(row.request_hash, rhash)
    if same_body and status_code == 202 and row.status_code != 202:
        row.status_code = status_code
        row.body = body
        db.session.commit()
        return Stored(status_code, body, rhash)
    return Stored(row.status_code, dict(row.body), row.request_hash)


def _row(organization_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.organization_id == organization_id, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )


def claim(organization_id: int, key: str, rhash: str) -> Stored | None:
    """Claim the key before doing the work: None when this request owns it (it then calls
    finish() or release()); otherwise the answer stored for it, waiting for a claim in
    progress, so concurrent identical requests get one result, replayed. A claim in progress
    with another body is answered at once (the caller's 409 for a reused key)."""
    purge_expired(organization_id, key)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        db.session.add(
            IdempotencyRecord(
                organization_id=organization_id,
                key=key,
                request_hash=rhash,
                status_code=PENDING,
                body={},
            )
        )
        try:
            db.session.commit()
            return None
        except IntegrityError:
            db.session.rollback()
        row = _row(organization_id, key)
        while row is not None and row.status_code == PENDING:
            if not hmac.compare_digest(row.request_hash, rhash):
                return Stored(row.status_code, {}, row.request_hash)
            if row.created_at < utcnow() - ABANDONED_AFTER:
                db.session.delete(row)
                db.session.commit()
                row = None
                break
            if time.monotonic() > deadline:
                return Stored(PENDING, {}, row.request_hash)
            db.session.rollback()  # a fresh snapshot for the next look
            time.sleep(0.05)
            row = _row(organization_id, key)
        if row is not None:
            return Stored(row.status_code, dict(row.body), row.request_hash)
        # The owner released its claim (its request was refused): try to claim it again.


def finish(organization_id: int, key: str, status_code: int, body: dict) -> None:
    """Store the owner's answer on its claim."""
    row = _row(organization_id, key)
    row.status_code = status_code
    row.body = body
    db.session.commit()


def release(organization_id: int, key: str) -> None:
    """Give a claim up without an answer (the request failed): the key may be used again."""
    db.session.rollback()
    row = _row(organization_id, key)
    if row is not None and row.status_code == PENDING:
        db.session.delete(row)
        db.session.commit()
