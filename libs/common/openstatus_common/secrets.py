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
        # Written whole under a temporary name, then linked into place: a reader never sees a partial key,
        # and of two processes racing, the first link wins and the other reads it.
        temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_bytes().strip()
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as error:
        # A read-only container: sessions last as long as this process. Set OPENSTATUS_SECRET_KEY.
        log.warning("secret_key.ephemeral", path=str(path), error=repr(error))
    return key
