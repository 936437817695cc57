"""The deployment's signing key: ``OPENSTATUS_SECRET_KEY``, or a random key kept in ``var_dir/secret-key``.

Every replica of a service must sign with the same key, so a real deployment sets the variable; the file is
for ``make run`` and tests, created once with mode 0600.
"""

from __future__ import annotations

import os
import secrets

import structlog

from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)

KEY_FILE = "secret-key"


def signing_key(settings: Settings) -> bytes:
    """Read once at start-up (small blocking file I/O, never on a request path)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.var_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes().strip()
    except OSError as error:
        # A read-only container: sessions last as long as this process. Set OPENSTATUS_SECRET_KEY.
        log.warning("secret_key.ephemeral", path=str(path), error=repr(error))
        return key
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
