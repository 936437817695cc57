"""Status-page passwords: stored only as a salted scrypt hash, checked in constant time.

The API hashes the password a page is given; the status-page service checks a visitor's password against
it. Both functions are synchronous and CPU-bound (tens of milliseconds): on an event loop, call them with
``await asyncio.to_thread(hash_password, password)``.

Stored form: ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (salt and hash in unpadded URL-safe base64), so the cost
can be raised later without invalidating the hashes already stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
# 16 MiB of memory per hash (128 * r * n bytes): slow to brute-force, quick enough for a login.
COST_N = 2**14
BLOCK_SIZE_R = 8
PARALLELISM_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# Refuse to verify against parameters that would make one check a denial of service.
MAX_COST_N = 2**20
MAX_MEMORY = 256 * 1024 * 1024
MAX_PASSWORD_BYTES = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, *, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=MAX_MEMORY)


def hash_password(password: str) -> str:
    """A new salted hash of ``password`` in the stored form (CPU-bound: use ``asyncio.to_thread``)."""
    if not password:
        raise ValueError("the password must not be empty")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValueError(f"the password must be at most {MAX_PASSWORD_BYTES} bytes")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, n=COST_N, r=BLOCK_SIZE_R, p=PARALLELISM_P, length=KEY_BYTES)
    return f"{SCHEME}${COST_N}${BLOCK_SIZE_R}${PARALLELISM_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; False for a missing or malformed hash (never raises).

    CPU-bound like :func:`hash_password`: use ``asyncio.to_thread`` on an event loop.
    """
    if not stored or not password or len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return False
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return False
    try:
        n, r, p = (int(value) for value in parts[1:4])
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        return False
    if not (1 < n <= MAX_COST_N and n & (n - 1) == 0 and 0 < r <= 32 and 0 < p <= 16 and expected):
        return False
    try:
        actual = _derive(password, salt, n=n, r=r, p=p, length=len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)
