"""The rating store: exactly-once under concurrent raters, durable across SIGKILL,
Wilson intervals and the CSV export."""
from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from colorlab.ratings import COLORIZED, REAL, Rating, RatingStore, data_dir, plot_rates, wilson_interval

ROOT = Path(__file__).resolve().parent.parent


def rating(session="s", image="faces/a:real", truth=REAL, guess=REAL, model="real", score=None, ms=800):
    return Rating(session, image, "faces", model, truth, guess, ms, "test", "" if model == "real" else "f" * 64,
                  score)


def test_wal_busy_timeout_and_schema(tmp_path):
    store = RatingStore(tmp_path)
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2   # FULL
    assert store.path == tmp_path / "ratings.sqlite3" and store.integrity_ok()


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COLORLAB_DATA", str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x"
    monkeypatch.delenv("COLORLAB_DATA")
    assert data_dir() == Path("data")


def test_double_submit_is_stored_once(tmp_path):
    store = RatingStore(tmp_path)
    assert store.add(rating(guess=REAL))
    assert not store.add(rating(guess=COLORIZED))       # same session and image: the first answer stands
    assert store.add(rating(session="other"))
    rows = store.rows("s")
    assert len(rows) == 1 and rows[0]["guess"] == REAL and store.count() == 2


@pytest.mark.parametrize("bad", [dict(truth="fake"), dict(guess="maybe"), dict(score=0), dict(score=6),
                                 dict(ms=-1), dict(session="")])
def test_invalid_ratings_are_refused(tmp_path, bad):
    store = RatingStore(tmp_path)
    with pytest.raises(ValueError):
        store.add(rating(**bad))
    assert store.count() == 0


def test_wilson_interval_known_values():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-4)


def test_fooling_rates_per_model_and_category(tmp_path):
    store = RatingStore(tmp_path)
    for i in range(10):   # lab-faces fools 3 of 10 raters; real photos are judged real 8 of 10 times
        store.add(rating(f"s{i}", "faces/a:lab-faces", COLORIZED, REAL if i < 3 else COLORIZED, "lab-faces", 4))
        store.add(rating(f"s{i}", "faces/a:real", REAL, REAL if i < 8 else COLORIZED))
    rows = {(r["model"], r["truth"]): r for r in store.fooling_rates()}
    lab = rows[("lab-faces", COLORIZED)]
    assert (lab["n"], lab["judged_real"], lab["rate"], lab["mean_score"]) == (10, 3, 0.3, 4.0)
    assert (lab["ci_low"], lab["ci_high"]) == pytest.approx(wilson_interval(3, 10))
    assert rows[("real", REAL)]["rate"] == 0.8
    assert plot_rates(store.fooling_rates()).axes and plot_rates([]).axes
    with pytest.raises(ValueError):
        store.fooling_rates(by=("guess; DROP TABLE ratings",))


def test_csv_export(tmp_path):
    store = RatingStore(tmp_path)
    store.add(rating(score=5))
    store.add(rating("t", "faces/b:lab", COLORIZED, REAL, "lab-faces"))
    text = store.export_csv(tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["session_id"] for r in rows] == ["s", "t"]
    assert rows[0]["score"] == "5" and rows[1]["score"] == ""
    assert {"session_id", "image_id", "model", "checkpoint_sha256", "truth", "guess", "score", "response_ms",
            "app_version"} <= set(rows[0])


def test_studies(tmp_path):
    store = RatingStore(tmp_path)
    assert store.latest_study() is None
    store.publish_study({"n_images": 20})
    sid = store.publish_study({"n_images": 5})
    assert store.latest_study() == (sid, {"n_images": 5})


def test_concurrent_raters_every_rating_exactly_once(tmp_path):
    """8 threads x 25 ratings on one store (and a second store object on the same file),
    each also re-submitting its previous answer: 200 rows, each once."""
    stores = [RatingStore(tmp_path), RatingStore(tmp_path)]
    errors, stored = [], []
    barrier = threading.Barrier(8)

    def rater(t):
        store = stores[t % 2]
        barrier.wait()
        for i in range(25):
            try:
                r = rating(f"session-{t}", f"img-{i}", COLORIZED, REAL if i % 3 else COLORIZED, "lab-faces",
                           i % 5 + 1, ms=i)
                stored.append(store.add(r))
                assert not store.add(r)          # double-submit
            except Exception as exc:   # noqa: BLE001 - collected and reported
                errors.append(repr(exc))
        store.close()

    threads = [threading.Thread(target=rater, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors[:3]
    assert stored.count(True) == 200
    rows = RatingStore(tmp_path).rows()
    keys = [(r["session_id"], r["image_id"]) for r in rows]
    assert len(keys) == 200 and set(keys) == {(f"session-{t}", f"img-{i}") for t in range(8) for i in range(25)}


_WRITER = """
import sys, threading
from colorlab.ratings import Rating, RatingStore
store = RatingStore(sys.argv[1])
lock = threading.Lock()
def writer(t):
    for i in range(100000):
        key = f"{t}-{i}"
        store.add(Rating(f"proc-{t}", key, "general", "rgb-general", "colorized", "real", i, "test"))
        with lock:   # reported only once committed
            print(key, flush=True)
threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
for th in threads: th.start()
for th in threads: th.join()
"""


def test_sigkill_during_concurrent_writes_loses_nothing_committed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    committed = []
    deadline = time.monotonic() + 60
    try:
        while len(committed) < 150 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            committed.append(line.strip())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        rest = proc.stdout.read().split()   # printed between our last read and the kill: committed too
        proc.stdout.close()
    committed += rest
    assert proc.returncode == -signal.SIGKILL
    assert len(committed) >= 150, "the writer did not get going"

    store = RatingStore(tmp_path)            # opens cleanly after the crash (WAL recovered)
    assert store.integrity_ok()
    stored = {r["image_id"] for r in store.rows()}
    missing = set(committed) - stored
    assert not missing, f"{len(missing)} committed ratings lost, e.g. {sorted(missing)[:3]}"
    assert store.add(rating("after-crash"))
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == len(stored) + 1
    conn.close()
