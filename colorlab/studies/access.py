"""Organiser access: publishing and closing a study needs the token in
``$COLORLAB_ORGANISER_TOKEN``, compared in constant time. Unset (or empty), publishing
is refused with a message that says how to turn it on."""
from __future__ import annotations

import hmac
import os

TOKEN_ENV = "COLORLAB_ORGANISER_TOKEN"


class AccessDenied(PermissionError):
    """Refused organiser action; the message is meant for the user."""


def check_token(given: str | None) -> None:
    """Raise ``AccessDenied`` unless ``given`` is the organiser token."""
    expected = os.environ.get(TOKEN_ENV, "")
    if not expected:
        raise AccessDenied(f"Publishing studies is turned off: start the app with the environment variable "
                           f"{TOKEN_ENV} set to a secret token (on a Hugging Face Space: add it as a "
                           f"secret in the Space's settings), then enter that token here.")
    if not hmac.compare_digest((given or "").encode("utf-8"), expected.encode("utf-8")):
        raise AccessDenied("Wrong organiser token.")


__all__ = ["TOKEN_ENV", "AccessDenied", "check_token"]
