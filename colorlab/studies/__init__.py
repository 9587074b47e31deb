"""Perceptual (Turing) studies of the colorizations: the photo pool and picture cache
(``pool``), counterbalanced session plans (``plan``) seeded from the server's secret
(``secret``), the SQLite store and its answer protocol (``store``), the served pictures
(``pictures``), statistics (``stats``), organiser access (``access``) and running
sessions (``session``). docs/studies.md has the threat model."""
from .access import TOKEN_ENV, AccessDenied, check_token
from .pictures import Shelf, fresh_png
from .plan import (
    COLORIZED,
    INVITE,
    LEFT,
    OPEN,
    PROTOCOLS,
    RIGHT,
    SINGLE,
    TWO_AFC,
    Settings,
    Study,
    Trial,
    conditions,
    parse_study_id,
    plan_session,
    session_lengths,
)
from .pool import (
    CATCH,
    CATEGORIES,
    IMAGE_SIZE,
    POOL_DIR,
    REAL,
    Photo,
    Preparer,
    folder_pool,
    shipped_pool,
)
from .secret import SECRET_ENV, load_secret
from .session import Lab, Session, Shown, matrix_design, plural
from .store import Answer, Refused, StudyStore, data_dir

__all__ = [
                   "CATCH",
                   "CATEGORIES",
                   "COLORIZED",
                   "IMAGE_SIZE",
                   "INVITE",
                   "LEFT",
                   "OPEN",
                   "POOL_DIR",
                   "PROTOCOLS",
                   "REAL",
                   "RIGHT",
                   "SECRET_ENV",
                   "SINGLE",
                   "TOKEN_ENV",
                   "TWO_AFC",
                   "AccessDenied",
                   "Answer",
                   "Lab",
                   "Photo",
                   "Preparer",
                   "Refused",
                   "Session",
                   "Settings",
                   "Shelf",
                   "Shown",
                   "Study",
                   "StudyStore",
                   "Trial",
                   "check_token",
                   "conditions",
                   "data_dir",
                   "folder_pool",
                   "fresh_png",
                   "load_secret", "matrix_design",
                   "parse_study_id",
                   "plan_session",
                   "plural",
                   "session_lengths",
                   "shipped_pool",
]
