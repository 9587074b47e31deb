"""Studies, sessions and answers in SQLite: safe under concurrent raters and crashes.

The database (``$COLORLAB_DATA/studies.sqlite3``) runs in WAL mode with
``synchronous=FULL``; every write is one ``BEGIN IMMEDIATE ... COMMIT`` transaction, so
an answer the rater was told is saved survives the process being killed the next
instant, readers never block writers, and ``busy_timeout`` makes concurrent writers
(threads or processes) wait their turn. ``(session_id, trial)`` is unique: a
double-submitted answer is stored once. A study's settings and photo list are written
once, when it is published; the only later change is closing it.
"""
from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .access import check_token
from .plan import (COLORIZED, LEFT, PROTOCOLS, REAL, RIGHT, Settings, Study, make_session_id, order_pool,
                   session_lengths)
from .pool import Photo

DATA_ENV = "COLORLAB_DATA"
DB_NAME = "studies.sqlite3"
BUSY_TIMEOUT_MS = 30_000
ANSWERS = (REAL, COLORIZED, LEFT, RIGHT)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    protocol    TEXT NOT NULL,
    settings    TEXT NOT NULL,
    photos      TEXT NOT NULL,
    app_version TEXT NOT NULL,
    created_at  REAL NOT NULL,
    closed_at   REAL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id  TEXT PRIMARY KEY,
    study_id    INTEGER NOT NULL REFERENCES studies(id),
    idx         INTEGER NOT NULL,
    started_at  REAL NOT NULL,
    UNIQUE (study_id, idx)
);
CREATE TABLE IF NOT EXISTS answers (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id          INTEGER NOT NULL REFERENCES studies(id),
    session_id        TEXT    NOT NULL REFERENCES sessions(session_id),
    trial             INTEGER NOT NULL,
    photo             TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    condition         TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('main', 'catch')),
    checkpoint_sha256 TEXT    NOT NULL DEFAULT '',
    shown_order       TEXT    NOT NULL DEFAULT '',
    truth             TEXT    NOT NULL CHECK (truth IN ('real', 'colorized', 'left', 'right')),
    answer            TEXT    NOT NULL CHECK (answer IN ('real', 'colorized', 'left', 'right')),
    score             INTEGER CHECK (score IS NULL OR score BETWEEN 1 AND 5),
    response_ms       INTEGER NOT NULL CHECK (response_ms >= 0),
    app_version       TEXT    NOT NULL,
    created_at        REAL    NOT NULL,
    UNIQUE (session_id, trial)
);
CREATE INDEX IF NOT EXISTS answers_study ON answers (study_id);
"""


def data_dir() -> Path:
    """Where the app keeps its data: ``$COLORLAB_DATA``, default ``./data``."""
    return Path(os.environ.get(DATA_ENV, "data"))


@dataclass(frozen=True)
class Answer:
    study_id: int
    session_id: str
    trial: int
    photo: str
    category: str
    condition: str          # "real", a model name or "catch"
    kind: str               # "main" or "catch"
    truth: str              # single: real/colorized; side by side: the side of the real photo
    answer: str
    response_ms: int
    app_version: str
    checkpoint_sha256: str = ""
    shown_order: str = ""   # side by side: "left|right" conditions
    score: int | None = None

    def validate(self) -> None:
        for name in ("truth", "answer"):
            if getattr(self, name) not in ANSWERS:
                raise ValueError(f"{name} must be one of {ANSWERS}, got {getattr(self, name)!r}")
        if (self.truth in (LEFT, RIGHT)) != (self.answer in (LEFT, RIGHT)):
            raise ValueError(f"answer {self.answer!r} does not fit a trial whose truth is {self.truth!r}")
        if self.score is not None and not (isinstance(self.score, int) and 1 <= self.score <= 5):
            raise ValueError(f"score must be an integer 1-5 or None, got {self.score!r}")
        if not self.session_id:
            raise ValueError("session_id is required")
        if self.response_ms < 0:
            raise ValueError("response_ms must be >= 0")


class StudyStore:
    """The studies database in ``directory`` (created if needed); one connection per thread."""

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory) if directory is not None else data_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / DB_NAME
        self._local = threading.local()
        with self._write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def _write(self) -> "_Transaction":
        return _Transaction(self._conn())

    def close_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ studies
    def publish(self, token: str | None, settings: Settings, photos: list[Photo], app_version: str) -> Study:
        """Check the organiser ``token`` (``AccessDenied`` if wrong), then store a new study
        with ``settings`` and its photo list (ordered once for the plan); returns it."""
        check_token(token)
        settings.validate()
        if not photos:
            raise ValueError("the study has no photos: the chosen categories or folder are empty")
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO studies (protocol, settings, photos, app_version, created_at) VALUES (?, ?, ?, ?, ?)",
                (settings.protocol, json.dumps(settings.as_dict(), sort_keys=True), "[]", app_version, time.time()))
            study_id = int(cur.lastrowid)
            ordered = order_pool(photos, settings.categories, f"study-{study_id}")
            conn.execute("UPDATE studies SET photos = ? WHERE id = ?",
                         (json.dumps([p.as_dict() for p in ordered]), study_id))
        return self.study(study_id)

    def close(self, token: str | None, study_id: int) -> Study:
        check_token(token)
        with self._write() as conn:
            cur = conn.execute("UPDATE studies SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                               (time.time(), int(study_id)))
            if cur.rowcount != 1:
                raise LookupError(f"no open study {study_id}")
        return self.study(study_id)

    @staticmethod
    def _study(row) -> Study:
        photos = tuple(Photo.from_dict(d) for d in json.loads(row["photos"]))
        return Study(int(row["id"]), Settings.from_dict(json.loads(row["settings"])), photos,
                     row["closed_at"] is not None)

    def study(self, study_id) -> Study | None:
        try:
            sid = int(study_id)
        except (TypeError, ValueError):
            return None
        row = self._conn().execute("SELECT * FROM studies WHERE id = ?", (sid,)).fetchone()
        return self._study(row) if row else None

    def latest_open(self) -> Study | None:
        row = self._conn().execute(
            "SELECT * FROM studies WHERE closed_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()
        return self._study(row) if row else None

    def studies(self) -> list[dict]:
        """Every study: id, protocol, created/closed, sessions and answers so far."""
        rows = self._conn().execute(
            "SELECT s.id, s.protocol, s.created_at, s.closed_at,"
            " (SELECT COUNT(*) FROM sessions WHERE study_id = s.id) AS sessions,"
            " (SELECT COUNT(*) FROM answers WHERE study_id = s.id) AS answers"
            " FROM studies s ORDER BY s.id DESC").fetchall()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ sessions and answers
    def start_session(self, study_id: int) -> str:
        """Register a new session of an open study; its index (0, 1, ...) is its place in
        the counterbalancing rotation and part of its id."""
        with self._write() as conn:
            row = conn.execute("SELECT closed_at FROM studies WHERE id = ?", (int(study_id),)).fetchone()
            if row is None:
                raise LookupError(f"no study {study_id}")
            if row["closed_at"] is not None:
                raise LookupError(f"study {study_id} is closed")
            idx = conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM sessions WHERE study_id = ?",
                               (int(study_id),)).fetchone()[0]
            session_id = make_session_id(int(study_id), int(idx), secrets.token_hex(4))
            conn.execute("INSERT INTO sessions (session_id, study_id, idx, started_at) VALUES (?, ?, ?, ?)",
                         (session_id, int(study_id), int(idx), time.time()))
        return session_id

    def add_answer(self, a: Answer) -> bool:
        """Store one answer in its own transaction. True if stored, False if the session had
        already answered this trial (the first answer stands). A closed study takes none."""
        a.validate()
        with self._write() as conn:
            row = conn.execute("SELECT closed_at FROM studies WHERE id = ?", (int(a.study_id),)).fetchone()
            if row is None or row["closed_at"] is not None:
                raise LookupError(f"study {a.study_id} is closed: the answer was not recorded")
            cur = conn.execute(
                "INSERT OR IGNORE INTO answers (study_id, session_id, trial, photo, category, condition, kind,"
                " checkpoint_sha256, shown_order, truth, answer, score, response_ms, app_version, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (int(a.study_id), a.session_id, int(a.trial), a.photo, a.category, a.condition, a.kind,
                 a.checkpoint_sha256, a.shown_order, a.truth, a.answer, a.score, int(a.response_ms),
                 a.app_version, time.time()))
            return cur.rowcount == 1

    def answers(self, study_id: int | None = None, session_id: str | None = None) -> list[dict]:
        sql, where, args = ("SELECT a.*, s.protocol FROM answers a JOIN studies s ON s.id = a.study_id", [], [])
        if study_id is not None:
            where.append("a.study_id = ?")
            args.append(int(study_id))
        if session_id is not None:
            where.append("a.session_id = ?")
            args.append(session_id)
        sql += (" WHERE " + " AND ".join(where)) if where else ""
        return [dict(r) for r in self._conn().execute(sql + " ORDER BY a.id", args)]

    def count(self, study_id: int | None = None) -> int:
        if study_id is None:
            return int(self._conn().execute("SELECT COUNT(*) FROM answers").fetchone()[0])
        return int(self._conn().execute("SELECT COUNT(*) FROM answers WHERE study_id = ?",
                                        (int(study_id),)).fetchone()[0])

    def integrity_ok(self) -> bool:
        return self._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class _Transaction:
    """``with`` a connection: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


__all__ = ["ANSWERS", "Answer", "DB_NAME", "StudyStore", "data_dir", "session_lengths", "PROTOCOLS"]
