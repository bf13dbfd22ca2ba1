"""argon2id password hashing, with the same cost for unknown users as for wrong passwords.

PASSWORD_HASH_PROFILE=cheap (the test suite sets it) hashes with argon2's smallest costs: a
hash then takes milliseconds instead of most of a second on a busy 2-core machine. Hashes
carry their own parameters, so either profile verifies the other's; never set it in
production."""

import os
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PROFILES = {
    # argon2id with the library's current recommended parameters
    "default": {},
    "cheap": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


@cache
def _hasher() -> PasswordHasher:
    profile = os.environ.get("PASSWORD_HASH_PROFILE", "").strip() or "default"
    if profile not in PROFILES:
        raise ValueError(
            f"PASSWORD_HASH_PROFILE must be one of {sorted(PROFILES)}, got {profile!r}"
        )
    return PasswordHasher(**PROFILES[profile])


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so both paths cost one argon2 verify."""
    return _hasher().hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; always spends one argon2 verification."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
