"""Turing studies against the real server (``python app.py`` on loopback, tiny test
checkpoints, a temporary data folder), driven through gradio_client as raters would:

* 30 concurrent raters for 60 s lose no answer: every answer the server acknowledged is in
  the database exactly once, and nothing else is. Raters follow the answer protocol: each
  answer names the trial token it was given and comes at least ``THINK`` seconds after
  the trial (the server refuses answers sooner than 200 ms after serving);
* a SIGKILL of the server mid-study loses no acknowledged answer and the database passes
  ``PRAGMA integrity_check``; publishing without the right token is refused first.
"""
from __future__ import annotations

import contextlib
import random
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from colorlab.studies import TOKEN_ENV, StudyStore
from colorlab.tools import appserver
from colorlab.tools.appserver import proc_status_mb

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")

TOKEN = "organiser-test-token"
RATERS = 30
SECONDS = 60
CALL_TIMEOUT = 180
THINK = 0.25          # seconds between a trial arriving and its answer


@contextlib.contextmanager
def server(weights: Path, tmp: Path):
    """``python app.py`` with the organiser token set; yields (process, url, data folder)."""
    # the raters come "through a proxy" on loopback, each with its own X-Forwarded-For address, so
    # that the fair-share queue and the study's per-client cap see 30 clients, as on a Space
    with appserver.running(log_path=tmp / "app.log", weights=weights, data_dir=tmp / "data",
                           env={TOKEN_ENV: TOKEN, "COLORLAB_TRUSTED_PROXIES": "127.0.0.1"}) as app:
        yield app.proc, app.url, tmp / "data"


def client(url: str, tmp: Path, k: int):
    """A rater at its own address (10.0.x.y, passed on by the trusted loopback "proxy")."""
    return gradio_client.Client(url, verbose=False, download_files=str(tmp / f"dl{k}"),
                                headers={"X-Forwarded-For": f"10.0.{k // 250}.{k % 250 + 1}"},
                                httpx_kwargs={"timeout": CALL_TIMEOUT})


def publish(c, token=TOKEN, trials=6, catch=20):
    """Publish a side-by-side study (every model on every category); returns its id."""
    note = c.predict(token, "2afc", ["lab-general", "rgb-general"], False, ["faces", "landscapes", "general"], trials,
                     catch, 0, True, "open", 30, 0, None, api_name="/turing_publish")[0]
    return re.search(r"Study \*\*(\d+)\*\*", note).group(1)


class Raters:
    """Raters answering side-by-side trials at random; ``acked[(rater, session)]`` counts the
    answers the server acknowledged (the call returned the next trial or the result) and
    ``tokens`` holds their trial tokens, which the database stores with each answer."""

    def __init__(self, url, tmp, n, study_id):
        self.clients = [client(url, tmp, k) for k in range(n)]
        self.study_id = study_id
        self.acked, self.errors, self.sessions = Counter(), [], 0
        self.tokens: set[str] = set()   # the trial tokens of acknowledged answers
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def rater(self, k: int, deadline: float):
        c, rng = self.clients[k], random.Random(k)
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                progress, _, token, _, _, end = c.predict(self.study_id, "", api_name="/turing_start")
                with self.lock:
                    self.sessions += 1
                    n = self.sessions
                while not end and not self.stop.is_set() and time.monotonic() < deadline:
                    time.sleep(THINK)
                    sent = token
                    progress, _, token, _, _, end = c.predict(
                        sent, api_name=rng.choice(["/turing_answer_left", "/turing_answer_right"]))
                    if not isinstance(progress, str):   # refused: nothing changed, the reason is in `end`
                        raise RuntimeError(f"answer refused: {end}")
                    with self.lock:
                        self.acked[(k, n)] += 1
                        self.tokens.add(sent)
            except Exception as exc:   # noqa: BLE001 - collected and judged by the test
                if not self.stop.is_set():
                    with self.lock:
                        self.errors.append(f"{type(exc).__name__}: {exc}")
                return

    def run(self, seconds: float, until=lambda: False):
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=self.rater, args=(k, deadline), daemon=True)
                   for k in range(len(self.clients))]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads) and not until():
            time.sleep(0.2)
        return threads


def db_answers(data: Path) -> Counter:
    """Answers per session in the database (each (session, trial) once)."""
    store = StudyStore(data)
    assert store.integrity_ok()
    rows = store.answers()
    keys = [(r["session_id"], r["trial"]) for r in rows]
    assert len(keys) == len(set(keys))
    return Counter(r["session_id"] for r in rows)


def db_tokens(data: Path) -> set[str]:
    return {r["trial_token"] for r in StudyStore(data).answers()}


def test_thirty_concurrent_raters_lose_no_answer(weights_dir, tmp_path):
    with server(weights_dir, tmp_path) as (proc, url, data):
        c = client(url, tmp_path, 99)
        study_id = publish(c)
        rss0 = proc_status_mb(proc.pid, "VmRSS")
        raters = Raters(url, tmp_path, RATERS, study_id)
        t0 = time.monotonic()
        threads = raters.run(SECONDS)
        for t in threads:
            t.join(CALL_TIMEOUT)
        elapsed = time.monotonic() - t0
        assert not any(t.is_alive() for t in threads), "raters still hanging long after the deadline"
        assert proc.poll() is None, "the server died under load"
        rss1 = proc_status_mb(proc.pid, "VmRSS")
        stored = db_answers(data)
        total = sum(raters.acked.values())
        print(f"{RATERS} raters, {elapsed:.0f} s: {raters.sessions} sessions, {total} answers acknowledged "
              f"({total / elapsed:.1f}/s), {sum(stored.values())} stored; server RSS {rss0:.0f} -> {rss1:.0f} MB")
        assert not raters.errors, raters.errors[:5]
        assert total >= RATERS, "too few answers got through"
        assert sum(stored.values()) == total and db_tokens(data) == raters.tokens, \
            "stored answers differ from the acknowledged ones"


def test_sigkill_mid_study_loses_no_acknowledged_answer(weights_dir, tmp_path):
    with server(weights_dir, tmp_path) as (proc, url, data):
        c = client(url, tmp_path, 99)
        for bad in ("", "wrong-token"):   # refused, and nothing stored
            with pytest.raises(Exception, match="token"):
                publish(c, token=bad)
        assert StudyStore(data).studies() == []
        study_id = publish(c, trials=30, catch=10)
        raters = Raters(url, tmp_path, 6, study_id)
        threads = raters.run(120, until=lambda: sum(raters.acked.values()) >= 60)
        with raters.lock:   # no answer is acknowledged after this snapshot ...
            raters.stop.set()
            proc.send_signal(signal.SIGKILL)   # ... while others are in flight
            acked = set(raters.tokens)
        proc.wait(10)
        for t in threads:
            t.join(CALL_TIMEOUT)
        assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 60, f"the raters did not get going: {raters.errors[:3]}"
    conn = sqlite3.connect(data / "studies.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    db_answers(data)
    lost = acked - db_tokens(data)   # an answer in flight may be stored without its reply: a superset is fine
    assert not lost, f"{len(lost)} acknowledged answers lost"
    store = StudyStore(data)   # usable after the crash
    st = store.studies()[0]
    _, idx = store.start_session(st["id"])
    assert idx >= 6
