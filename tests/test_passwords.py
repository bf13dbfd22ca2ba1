"""PASSWORD_HASH_PROFILE: the tests hash cheaply, production hashes are unaffected, and either
profile verifies the other's hashes (each hash carries its own parameters)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from webapp.services import passwords


@pytest.fixture
def profile(monkeypatch):
    def use(name: str | None):
        if name is None:
            monkeypatch.delenv("PASSWORD_HASH_PROFILE", raising=False)
        else:
            monkeypatch.setenv("PASSWORD_HASH_PROFILE", name)
        passwords._hasher.cache_clear()
        passwords._dummy_hash.cache_clear()

    yield use
    passwords._hasher.cache_clear()
    passwords._dummy_hash.cache_clear()


def test_the_suite_hashes_with_the_cheap_profile():
    assert "$m=1024,t=1,p=1$" in passwords.hash_password("a-long-password")


def test_without_a_profile_hashes_use_argon2_recommended_costs(profile):
    profile(None)
    recommended = PasswordHasher()
    made = passwords.hash_password("a-long-password")
    assert f"$m={recommended.memory_cost},t={recommended.time_cost},p=" in made
    assert not recommended.check_needs_rehash(made)


def test_either_profile_verifies_the_others_hashes(profile):
    profile("default")
    strong = passwords.hash_password("a-long-password")
    profile("cheap")
    cheap = passwords.hash_password("a-long-password")
    assert passwords.verify_password(strong, "a-long-password")
    assert not passwords.verify_password(strong, "another-password")
    profile("default")
    assert passwords.verify_password(cheap, "a-long-password")
    assert not passwords.verify_password(None, "a-long-password")


def test_an_unknown_profile_is_refused(profile):
    profile("fast")
    with pytest.raises(ValueError, match="PASSWORD_HASH_PROFILE"):
        passwords.hash_password("a-long-password")
