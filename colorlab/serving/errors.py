"""What a client is told when a request fails: short, and never the server's insides.

``public_message(exc)`` is the one place that decides (the UI's error wrapper, used by every
handler, calls it). A failure the user can act on (an unreadable photo, bad hints, a
missing model: a ``ValueError`` raised by colorlab itself) keeps its message; anything else
(a bug, a full disk, an index out of range inside torch) is logged in full under a short
random error id, and the client gets only that id. Either way no server path and no
exception class name reaches the client: paths are cut to their last component.
"""
from __future__ import annotations

import logging
import re
import secrets

log = logging.getLogger("colorlab.errors")
MAX_MESSAGE = 400          # characters of a user-facing message
# An absolute path (two or more components), POSIX or Windows: replaced by its last component.
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.\-@+~%]+){2,}[\\/]?")
# Exception class names (``SomethingError:``, ``(RuntimeError)``) that a message may quote.
_CLASS = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning)\b:?\s*")


def scrub(text: str) -> str:
    """``text`` with every absolute path cut to its last component and exception class names
    removed, at most ``MAX_MESSAGE`` characters."""
    text = _PATH.sub(lambda m: re.split(r"[\\/]", m.group(0).rstrip("\\/"))[-1], str(text))
    text = _CLASS.sub("", text).strip()
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def _raised_by_colorlab(exc: BaseException) -> bool:
    """Whether the innermost Python frame of ``exc``'s traceback is colorlab's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).startswith("colorlab")


def for_the_user(exc: BaseException) -> bool:
    """A failure whose message is meant for the user: a ValueError (ImageError, CheckpointError,
    bad hints, ...) or a LookupError raised by colorlab's own code, or a refusal colorlab
    defines as a PermissionError (``studies.AccessDenied``: a wrong organiser token). KeyError
    and IndexError are always bugs, whoever raised them; the builtin PermissionError (a file
    the server may not open) is not for the user."""
    if isinstance(exc, (KeyError, IndexError)):
        return False
    ours = isinstance(exc, PermissionError) and type(exc).__module__.startswith("colorlab")
    if not (ours or isinstance(exc, (ValueError, LookupError))):
        return False
    return _raised_by_colorlab(exc)


def new_error_id() -> str:
    return secrets.token_hex(4)


def public_message(exc: BaseException, where: str = "") -> str:
    """The message for the client about ``exc``; an unexpected one is logged in full (with the
    traceback) under a fresh error id, which is all the client is given."""
    if for_the_user(exc):
        return scrub(str(exc)) or "That input could not be used."
    error_id = new_error_id()
    log.error("error id %s in %s", error_id, where or "a request", exc_info=(type(exc), exc, exc.__traceback__))
    return (f"Something went wrong on the server (error id {error_id}). Please try again, or try another "
            "image; if it keeps happening, report the error id.")


__all__ = ["MAX_MESSAGE", "for_the_user", "new_error_id", "public_message", "scrub"]
