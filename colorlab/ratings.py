"""Turing-test ratings in SQLite: safe under concurrent raters and process crashes.

The store runs in WAL mode with ``synchronous=FULL``: each rating is one
``BEGIN IMMEDIATE ... COMMIT`` transaction, so a rating the caller was told is saved
survives the process being killed the next instant, and readers never block the
writers. ``busy_timeout`` makes concurrent writers (threads or processes) wait their
turn instead of failing. ``(session_id, image_id)`` is unique, so a double-submitted
answer is stored once.

Aggregation gives, per model and category, the share of images judged "real" with a
Wilson score interval: for colorized images that is the fooling rate; real photos are
reported alongside as the reference (a perfect colorizer is judged real as often).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "COLORLAB_DATA"
DB_NAME = "ratings.sqlite3"
BUSY_TIMEOUT_MS = 30_000
REAL = "real"
COLORIZED = "colorized"
GUESSES = (REAL, COLORIZED)

COLUMNS = ("id", "session_id", "image_id", "category", "model", "checkpoint_sha256", "truth",
           "guess", "score", "response_ms", "app_version", "study_id", "created_at")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id        TEXT    NOT NULL,
    image_id          TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    checkpoint_sha256 TEXT    NOT NULL DEFAULT '',
    truth             TEXT    NOT NULL CHECK (truth IN ('real', 'colorized')),
    guess             TEXT    NOT NULL CHECK (guess IN ('real', 'colorized')),
    score             INTEGER CHECK (score IS NULL OR score BETWEEN 1 AND 5),
    response_ms       INTEGER NOT NULL CHECK (response_ms >= 0),
    app_version       TEXT    NOT NULL,
    study_id          TEXT    NOT NULL DEFAULT '',
    created_at        REAL    NOT NULL,
    UNIQUE (session_id, image_id)
);
CREATE TABLE IF NOT EXISTS studies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    config     TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


def data_dir() -> Path:
    """Where the app keeps its data: ``$COLORLAB_DATA``, default ``./data``."""
    return Path(os.environ.get(DATA_ENV, "data"))


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default); (0, 1) when n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rating:
    session_id: str
    image_id: str
    category: str
    model: str            # "real" for a real photo
    truth: str            # "real" or "colorized"
    guess: str            # "real" or "colorized"
    response_ms: int
    app_version: str
    checkpoint_sha256: str = ""
    score: int | None = None   # optional realism score 1..5
    study_id: str = ""

    def validate(self) -> None:
        for field, value in (("truth", self.truth), ("guess", self.guess)):
            if value not in GUESSES:
                raise ValueError(f"{field} must be one of {GUESSES}, got {value!r}")
        if self.score is not None and not (isinstance(self.score, int) and 1 <= self.score <= 5):
            raise ValueError(f"score must be an integer 1-5 or None, got {self.score!r}")
        if not self.session_id or not self.image_id:
            raise ValueError("session_id and image_id are required")
        if self.response_ms < 0:
            raise ValueError("response_ms must be >= 0")


class RatingStore:
    """The ratings database in ``directory`` (created if needed); one connection per thread."""

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory) if directory is not None else data_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / DB_NAME
        self._local = threading.local()
        with self._write() as conn:   # schema once, in its own transaction
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=True)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def _write(self) -> "_Transaction":
        return _Transaction(self._conn())

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ writing
    def add(self, rating: Rating) -> bool:
        """Store one rating in its own transaction. True if stored, False if this session
        had already answered this image (the first answer is kept)."""
        rating.validate()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO ratings (session_id, image_id, category, model, checkpoint_sha256,"
                " truth, guess, score, response_ms, app_version, study_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rating.session_id, rating.image_id, rating.category, rating.model,
                 rating.checkpoint_sha256, rating.truth, rating.guess, rating.score,
                 int(rating.response_ms), rating.app_version, rating.study_id, time.time()))
            return cur.rowcount == 1

    def publish_study(self, config: dict) -> int:
        """Record an organiser's study settings; the newest is what new sessions use."""
        with self._write() as conn:
            cur = conn.execute("INSERT INTO studies (config, created_at) VALUES (?, ?)",
                               (json.dumps(config, sort_keys=True), time.time()))
            return int(cur.lastrowid)

    # ------------------------------------------------------------------ reading
    def latest_study(self) -> tuple[int, dict] | None:
        row = self._conn().execute("SELECT id, config FROM studies ORDER BY id DESC LIMIT 1").fetchone()
        return (int(row["id"]), json.loads(row["config"])) if row else None

    def rows(self, session_id: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM ratings", ()
        if session_id is not None:
            sql, args = sql + " WHERE session_id = ?", (session_id,)
        return [dict(r) for r in self._conn().execute(sql + " ORDER BY id", args)]

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM ratings").fetchone()[0])

    def fooling_rates(self, by: tuple[str, ...] = ("model", "category")) -> list[dict]:
        """Per group: n, how many were judged real, that rate, its Wilson 95% interval,
        the mean realism score, the truth ("real" rows are the reference) and mean response."""
        allowed = {"model", "category", "truth", "study_id", "app_version"}
        if not set(by) <= allowed:
            raise ValueError(f"can group by {sorted(allowed)}, got {by}")
        keys = ", ".join(by)
        rows = self._conn().execute(
            f"SELECT {keys}, truth, COUNT(*) AS n, SUM(guess = 'real') AS judged_real,"
            f" AVG(score) AS mean_score, AVG(response_ms) AS mean_response_ms"
            f" FROM ratings GROUP BY {keys}, truth ORDER BY truth DESC, {keys}").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            low, high = wilson_interval(int(d["judged_real"]), int(d["n"]))
            d.update(rate=d["judged_real"] / d["n"], ci_low=low, ci_high=high)
            out.append(d)
        return out

    def export_csv(self, path: Path | str | None = None) -> str:
        """Every rating as CSV (header included); written to ``path`` too if given."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in self.rows():
            writer.writerow([r[c] for c in COLUMNS])
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    def integrity_ok(self) -> bool:
        return self._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class _Transaction:
    """``with`` a connection: BEGIN IMMEDIATE (take the write lock up front, waiting up to
    busy_timeout), COMMIT on success, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def plot_rates(rows: list[dict], title: str = "Judged real (95% Wilson interval)"):
    """A horizontal bar chart of ``RatingStore.fooling_rates()`` rows -> matplotlib Figure.

    Colorized groups are the fooling rate; real photos (grey bars) are the reference."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = [f"{r['model']} / {r['category']}" + (" (real photos)" if r["truth"] == REAL else "")
              for r in rows]
    fig = Figure(figsize=(7, 0.45 * max(len(rows), 2) + 1.2))
    ax = fig.add_subplot()
    if not rows:
        ax.text(0.5, 0.5, "no ratings yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    y = list(range(len(rows)))[::-1]
    rates = [r["rate"] for r in rows]
    err = [[r["rate"] - r["ci_low"] for r in rows], [r["ci_high"] - r["rate"] for r in rows]]
    colours = ["#999999" if r["truth"] == REAL else "#d9632b" for r in rows]
    ax.barh(y, rates, xerr=err, color=colours, capsize=3)
    for yi, r in zip(y, rows):
        ax.text(min(r["ci_high"] + 0.02, 0.9), yi, f"{r['rate']:.0%}  n={r['n']}", va="center", fontsize=8)
    ax.axvline(0.5, ls="--", color="black", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share judged real (colorized: fooling rate)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["COLORIZED", "GUESSES", "REAL", "Rating", "RatingStore", "data_dir", "plot_rates", "wilson_interval"]
