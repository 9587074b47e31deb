"""Perceptual (Turing) studies of the colorizations: the photo pool and picture cache
(``pool``), counterbalanced session plans (``plan``), the SQLite store (``store``),
statistics (``stats``), organiser access (``access``) and running sessions (``session``)."""
from .access import TOKEN_ENV, AccessDenied, check_token
from .plan import (COLORIZED, LEFT, PROTOCOLS, RIGHT, SINGLE, TWO_AFC, Settings, Study, Trial, conditions,
                   plan_session, session_lengths)
from .pool import CATCH, CATEGORIES, IMAGE_SIZE, POOL_DIR, REAL, Photo, Preparer, folder_pool, shipped_pool
from .session import Lab, Session
from .store import Answer, StudyStore, data_dir

__all__ = ["AccessDenied", "Answer", "CATCH", "CATEGORIES", "COLORIZED", "IMAGE_SIZE", "LEFT", "Lab", "PROTOCOLS",
           "POOL_DIR", "Photo", "Preparer", "REAL", "RIGHT", "SINGLE", "Session", "Settings", "Study", "StudyStore",
           "TOKEN_ENV", "TWO_AFC", "Trial", "check_token", "conditions", "data_dir", "folder_pool", "plan_session",
           "session_lengths", "shipped_pool"]
