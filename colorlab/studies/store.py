"""Studies, sessions and answers in SQLite: safe under concurrent raters and crashes.

The database (``$COLORLAB_DATA/studies.sqlite3``) runs in WAL mode with
``synchronous=FULL``; every write is one ``BEGIN IMMEDIATE ... COMMIT`` transaction, so
an answer the rater was told is saved survives the process being killed the next
instant, readers never block writers, and ``busy_timeout`` makes concurrent writers
(threads or processes) wait their turn. A study's settings and photo list are written
once, when it is published; the only later change is closing it.

The answer protocol (``serve`` and ``answer``). A session row holds the position of the
trial on screen, that trial's random token and when its pictures were served. An answer
names a token; in one transaction the store checks that it is the token of the trial
on screen, stores the answer, and moves the session on. So one session's answers are
serialised (two clicks at once: the first to take the write lock is stored, the other
is refused), a repeat or an answer for a trial that was never served is refused with
``Refused`` and changes nothing, and ``(session_id, trial)`` stays unique. The response
time is measured on the server (answer received minus pictures served); an answer more
than ``grace_ms`` after a study's exposure limit is stored flagged ``late``, an answer
sooner than ``MIN_ANSWER_MS`` after serving is refused (nobody has seen the pictures yet:
this is the second click of a double click that arrived after the next trial was sent).

Raters: per study an open link or invite codes (each good for one session, consumed in
the transaction that starts it), and a cap on sessions per client and hour (the client
is a keyed hash of the network address the app saw; the address itself is not stored).
"""
from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .access import check_token
from .plan import (
    COLORIZED,
    INVITE,
    LEFT,
    PROTOCOLS,
    REAL,
    RIGHT,
    Settings,
    Study,
    Trial,
    new_session_id,
    order_pool,
    session_lengths,
)
from .pool import Photo
from .secret import derive_int, load_secret

DATA_ENV = "COLORLAB_DATA"
DB_NAME = "studies.sqlite3"
BUSY_TIMEOUT_MS = 30_000
ANSWERS = (REAL, COLORIZED, LEFT, RIGHT)
MIN_ANSWER_MS = 200          # sooner than this after serving, an answer is refused (see the docstring)
HOUR = 3600.0
INVITE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"   # no 0/O, 1/I: codes are typed by hand
INVITE_CHARS = 10

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
CREATE TABLE IF NOT EXISTS invites (
    code        TEXT    NOT NULL,
    study_id    INTEGER NOT NULL REFERENCES studies(id),
    session_id  TEXT,
    used_at     REAL,
    PRIMARY KEY (study_id, code)
);
"""
# columns added since the first schema: an older database gets them on opening
_ADDED = {
    "sessions": (("client", "TEXT"), ("invite", "TEXT"), ("position", "INTEGER NOT NULL DEFAULT 0"),
                 ("total", "INTEGER"), ("trial_token", "TEXT"), ("served_at", "REAL"), ("finished_at", "REAL")),
    "answers": (("trial_token", "TEXT"), ("served_at", "REAL"), ("late", "INTEGER NOT NULL DEFAULT 0")),
}


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


class Refused(ValueError):
    """An answer or a session start the store turned down; nothing was changed. The
    message is meant for the rater; ``reason`` is one of "repeat", "unseen", "early",
    "finished", "unknown", "invite", "cap"."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class StudyStore:
    """The studies database in ``directory`` (created if needed); one connection per thread.
    ``secret`` (the study secret, ``colorlab.studies.secret``) is read or created beside it."""

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory) if directory is not None else data_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / DB_NAME
        self.secret = load_secret(self.directory)
        self._local = threading.local()
        with self._write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for table, columns in _ADDED.items():
                have = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
                for name, decl in columns:
                    if name not in have:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

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

    def _write(self) -> _Transaction:
        return _Transaction(self._conn())

    def close_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ studies
    def publish(self, token: str | None, settings: Settings, photos: list[Photo], app_version: str) -> Study:
        """Check the organiser ``token`` (``AccessDenied`` if wrong), then store a new study
        with ``settings``, its photo list (ordered once, with a seed from the secret) and,
        for an invite-only study, its invite codes; returns it."""
        check_token(token)
        settings.validate()
        if not photos:
            raise ValueError("the study has no photos: the chosen categories or folder are empty")
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO studies (protocol, settings, photos, app_version, created_at) VALUES (?, ?, ?, ?, ?)",
                (settings.protocol, json.dumps(settings.as_dict(), sort_keys=True), "[]", app_version, time.time()))
            study_id = int(cur.lastrowid)
            ordered = order_pool(photos, settings.categories, derive_int(self.secret, "photo-order", study_id),
                                 settings.pairs)
            if not ordered:
                raise ValueError("the study has no photos: no chosen model is judged on their categories")
            conn.execute("UPDATE studies SET photos = ? WHERE id = ?",
                         (json.dumps([p.as_dict() for p in ordered]), study_id))
            if settings.access == INVITE:
                codes: set[str] = set()
                while len(codes) < int(settings.invites):
                    codes.add(_new_code())
                conn.executemany("INSERT INTO invites (code, study_id) VALUES (?, ?)",
                                 [(c, study_id) for c in sorted(codes)])
        return self.study(study_id)

    def invites(self, token: str | None, study_id: int) -> list[dict]:
        """The invite codes of a study: code, used (bool), used_at. Organiser only."""
        check_token(token)
        rows = self._conn().execute("SELECT code, session_id IS NOT NULL AS used, used_at FROM invites "
                                    "WHERE study_id = ? ORDER BY rowid", (int(study_id),)).fetchall()
        return [dict(r) for r in rows]

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
    def start_session(self, study_id: int, client: str | None = None, invite: str | None = None,
                      total: int | None = None) -> tuple[str, int]:
        """Register a new session of an open study: checks (and uses up) the invite code of an
        invite-only study and the cap on sessions per ``client`` and hour (no cap for a client
        of None). Returns (random session id, index); the index is its place in the
        counterbalancing rotation. ``Refused`` or ``LookupError`` when it may not start."""
        now = time.time()
        with self._write() as conn:
            row = conn.execute("SELECT closed_at, settings FROM studies WHERE id = ?", (int(study_id),)).fetchone()
            if row is None:
                raise LookupError(f"There is no study {int(study_id)}.")
            if row["closed_at"] is not None:
                raise LookupError(f"Study {int(study_id)} is closed.")
            settings = Settings.from_dict(json.loads(row["settings"]))
            cap = int(settings.sessions_per_hour)
            if cap and client is not None:
                recent = conn.execute("SELECT COUNT(*) FROM sessions WHERE study_id = ? AND client = ? AND "
                                      "started_at > ?", (int(study_id), client, now - HOUR)).fetchone()[0]
                if recent >= cap:
                    raise Refused(f"This study takes at most {cap} session{'s' if cap != 1 else ''} per hour "
                                  f"from one network address; please try again later.", "cap")
            session_id = new_session_id()
            code = None
            if settings.access == INVITE:
                code = normalise_code(invite)
                cur = conn.execute("UPDATE invites SET session_id = ?, used_at = ? WHERE study_id = ? AND code = ? "
                                   "AND session_id IS NULL", (session_id, now, int(study_id), code or ""))
                if cur.rowcount != 1:
                    raise Refused("This study needs an invite code, and the one given is not valid or has "
                                  "already been used.", "invite")
            idx = conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM sessions WHERE study_id = ?",
                               (int(study_id),)).fetchone()[0]
            conn.execute("INSERT INTO sessions (session_id, study_id, idx, started_at, client, invite, total) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (session_id, int(study_id), int(idx), now, client, code, total))
        return session_id, int(idx)

    def serve(self, session_id: str, position: int) -> str:
        """Record that the trial at ``position`` is being served now; returns its new random
        token (the only one the next answer is accepted with)."""
        token = secrets.token_urlsafe(16)
        with self._write() as conn:
            cur = conn.execute("UPDATE sessions SET trial_token = ?, served_at = ? WHERE session_id = ? "
                               "AND position = ? AND finished_at IS NULL",
                               (token, time.time(), session_id, int(position)))
            if cur.rowcount != 1:
                raise Refused("This trial is not the one this session is on.", "unseen")
        return token

    def answer(self, session_id: str, token: str, trials: list[Trial], choice: str, score: int | None,
               app_version: str, settings: Settings, checkpoints: dict[str, str] | None = None) -> tuple[dict, int]:
        """The answer protocol (module docstring): store ``choice`` for the trial on screen if
        ``token`` is its token. Returns (the stored row, the next position). ``Refused``
        (nothing changed) for a repeat, an unseen trial, a finished session or an answer
        sooner than ``MIN_ANSWER_MS`` after serving; ``LookupError`` if the study is closed."""
        now = time.time()
        with self._write() as conn:
            s = conn.execute("SELECT s.*, st.closed_at FROM sessions s JOIN studies st ON st.id = s.study_id "
                             "WHERE s.session_id = ?", (session_id,)).fetchone()
            if s is None:
                raise Refused("This session is unknown: press Start to begin one.", "unknown")
            if s["closed_at"] is not None:
                raise LookupError(f"Study {s['study_id']} is closed: the answer was not recorded.")
            current = s["trial_token"]
            if not current or not hmac.compare_digest(str(token or "").encode(), current.encode()):
                seen = token and conn.execute("SELECT 1 FROM answers WHERE session_id = ? AND trial_token = ?",
                                              (session_id, str(token))).fetchone()
                if seen:
                    raise Refused("This trial was already answered: your first answer stands.", "repeat")
                if s["finished_at"] is not None:
                    raise Refused("This session is finished: press Start for a new one.", "finished")
                raise Refused("This answer is for a trial that is not on screen: nothing was recorded.", "unseen")
            elapsed_ms = round((now - float(s["served_at"])) * 1000)
            if elapsed_ms < MIN_ANSWER_MS:
                raise Refused("That answer came before the pictures could be seen: nothing was recorded, "
                              "please answer again.", "early")
            position = int(s["position"])
            trial = trials[position]
            late = int(settings.exposure_ms) > 0 and elapsed_ms > int(settings.exposure_ms) + int(settings.grace_ms)
            a = Answer(int(s["study_id"]), session_id, trial.index, trial.photo.photo_id, trial.photo.category,
                       trial.condition, trial.kind, trial.truth, choice, elapsed_ms, app_version,
                       (checkpoints or {}).get(trial.condition, ""), trial.shown_order, score)
            a.validate()
            conn.execute(
                "INSERT INTO answers (study_id, session_id, trial, photo, category, condition, kind,"
                " checkpoint_sha256, shown_order, truth, answer, score, response_ms, app_version, created_at,"
                " trial_token, served_at, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (a.study_id, session_id, a.trial, a.photo, a.category, a.condition, a.kind, a.checkpoint_sha256,
                 a.shown_order, a.truth, a.answer, a.score, a.response_ms, a.app_version, now, current,
                 float(s["served_at"]), int(late)))
            nxt = position + 1
            conn.execute("UPDATE sessions SET position = ?, trial_token = NULL, served_at = NULL, finished_at = ? "
                         "WHERE session_id = ?", (nxt, now if nxt >= len(trials) else None, session_id))
            row = conn.execute("SELECT * FROM answers WHERE session_id = ? AND trial = ?",
                               (session_id, a.trial)).fetchone()
        return dict(row), nxt

    def session(self, session_id: str) -> dict | None:
        row = self._conn().execute("SELECT * FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
        return dict(row) if row else None

    def sessions(self, study_id: int) -> list[dict]:
        return [dict(r) for r in self._conn().execute("SELECT * FROM sessions WHERE study_id = ? ORDER BY idx",
                                                      (int(study_id),))]

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


def _new_code() -> str:
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CHARS))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(code: str | None) -> str | None:
    """An invite code as typed (any case, spaces or dashes) in its stored form, else None."""
    raw = re.sub(r"[\s-]", "", str(code or "")).upper()
    if len(raw) != INVITE_CHARS or any(ch not in INVITE_ALPHABET for ch in raw):
        return None
    return f"{raw[:5]}-{raw[5:]}"


class _Transaction:
    """``with`` a connection: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


__all__ = [
    "ANSWERS",
    "DB_NAME",
    "MIN_ANSWER_MS",
    "PROTOCOLS",
    "Answer",
    "Refused",
    "StudyStore",
    "data_dir",
    "normalise_code",
    "session_lengths",
]
