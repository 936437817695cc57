"""Status-page passwords: salted scrypt hashes, verified in constant time, never the plaintext."""

from __future__ import annotations

import pytest

from openstatus_common.pages.passwords import hash_password, verify_password


def test_a_password_verifies_against_its_hash_and_nothing_else() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    assert not verify_password("", stored)


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second
    assert verify_password("same", first) and verify_password("same", second)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "plain",
        "bcrypt$x",
        "scrypt$16384$8$1$!!$!!",
        "scrypt$3$8$1$AAAA$AAAA",
        "scrypt$1073741824$8$1$AA$AA",
    ],
)
def test_missing_or_malformed_hashes_never_verify(stored: str | None) -> None:
    assert not verify_password("anything", stored)


def test_empty_passwords_cannot_be_hashed() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_password("")
