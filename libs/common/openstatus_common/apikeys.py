"""API keys: ``os_`` + 32 random characters, shown once, stored as a SHA-256 digest.

The keys carry 190 bits of entropy, so a fast digest is safe to store (nothing to brute-force) and lets
every request be authenticated with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from enum import StrEnum

KEY_PREFIX = "os_"
_ALPHABET = string.ascii_letters + string.digits
_BODY_LENGTH = 32
SHOWN_PREFIX_LENGTH = 7  # "os_" and four characters: enough to recognise a key in a list


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class NewKey:
    plaintext: str
    prefix: str
    digest: str


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_key() -> NewKey:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LENGTH))
    return key_from_plaintext(KEY_PREFIX + body)


def key_from_plaintext(plaintext: str) -> NewKey:
    """For a key chosen by the operator (OPENSTATUS_BOOTSTRAP_API_KEY)."""
    if not plaintext.startswith(KEY_PREFIX) or len(plaintext) < len(KEY_PREFIX) + 16:
        raise ValueError(f"an API key must start with {KEY_PREFIX!r} and have at least 16 more characters")
    if any(ch.isspace() for ch in plaintext):
        raise ValueError("an API key must not contain whitespace")
    return NewKey(plaintext=plaintext, prefix=plaintext[:SHOWN_PREFIX_LENGTH], digest=hash_key(plaintext))


def can_write(scopes: list[str] | tuple[str, ...]) -> bool:
    # Keys created before scopes existed (empty list) behave as read & write, as in openstatus.
    return not scopes or Scope.WRITE.value in scopes
