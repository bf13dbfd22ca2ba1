"""Password rules for staff, tenant administrators and end customers."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
COMMON_LIST = Path(__file__).resolve().parent.parent / "data" / "common-passwords-10k.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def password_problem(password: str, username: str = "") -> str | None:
    """Why this password is not acceptable, or None when it is."""
    if len(password or "") < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    lowered = password.strip().lower()
    if lowered in common_passwords():
        return "This password is one of the 10,000 most common ones. Choose another."
    if username and lowered == username.strip().lower():
        return "Choose a password that is not the username."
    return None
