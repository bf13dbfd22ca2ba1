"""Client IDs: unique, unguessable, and easy to read aloud."""

import secrets

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Organization

# No 0/O or 1/I: they are misread when a Client ID is dictated or copied by hand.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 10  # 32**10 ≈ 1.1e15 values; sign-in is throttled, so guessing is hopeless.


def normalise_client_id(raw: str) -> str:
    """What people type ("abcde-fghjk ") to the stored form ("ABCDEFGHJK")."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def new_client_id() -> str:
    """A fresh Client ID that no organization has yet."""
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        taken = db.session.scalar(
            select(Organization.id).where(Organization.client_id == candidate)
        )
        if taken is None:
            return candidate
