"""The server's study secret: what every plan is seeded from, never sent to a rater.

A rater sees a trial number, pictures under random names and a random trial token;
none of them is a seed. The plans (which photo in which condition, the order of the
trials, which side the real photo is on) come from HMAC-SHA256 of this secret and
the session's random id, which the rater is never shown either.

Where the secret comes from, first match wins:

* ``$COLORLAB_STUDY_SECRET`` (at least 32 characters): on a Hugging Face Space, add it
  as a *secret* in the Space's settings, so that it survives a restart even without
  persistent storage and is never in the repository;
* ``<data folder>/study-secret``: 32 random bytes (``secrets.token_bytes``) written,
  hex-encoded, on the first start next to the ratings database, with permissions 0600
  (created with ``O_EXCL``, so two processes starting at once agree on one secret).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

SECRET_ENV = "COLORLAB_STUDY_SECRET"
SECRET_FILE = "study-secret"
SECRET_BYTES = 32
MIN_ENV_CHARS = 32


def load_secret(directory: Path | str) -> bytes:
    """The study secret for the database in ``directory`` (see the module docstring)."""
    env = os.environ.get(SECRET_ENV, "")
    if env:
        if len(env) < MIN_ENV_CHARS:
            raise ValueError(f"{SECRET_ENV} is set but shorter than {MIN_ENV_CHARS} characters: use e.g. "
                             f"python -c \"import secrets; print(secrets.token_hex(32))\"")
        return env.encode("utf-8")
    path = Path(directory) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(SECRET_BYTES))
        f.flush()
        os.fsync(f.fileno())
    return _read(path)


def _read(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:   # readable by others: tighten, it is ours
        os.chmod(path, 0o600)
    for _ in range(50):   # another process may be between O_EXCL and its write
        text = path.read_text().strip()
        if len(text) >= 2 * SECRET_BYTES:
            return bytes.fromhex(text)
        time.sleep(0.01)
    raise ValueError(f"{path} does not hold a study secret: delete it and restart (old plans stay stored)")


def derive(secret: bytes, *parts: object) -> bytes:
    """HMAC-SHA256 of ``parts`` (joined unambiguously) under ``secret``: 32 bytes."""
    msg = b"\x00".join(str(p).encode("utf-8") for p in parts)
    return hmac.new(secret, msg, hashlib.sha256).digest()


def derive_int(secret: bytes, *parts: object) -> int:
    """A 64-bit seed from ``derive``."""
    return int.from_bytes(derive(secret, *parts)[:8], "big")


__all__ = ["SECRET_ENV", "SECRET_FILE", "derive", "derive_int", "load_secret"]
