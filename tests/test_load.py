"""Load: 20 concurrent gradio_client users against ``python app.py`` on loopback for a
bounded 60 s. Every call must succeed or be refused with a clear queue-full message,
and the server's resident memory, sampled every 2 s, must not grow with the number of
requests served: the slope of a robust (Theil-Sen) line fit of RSS against the request
count is bounded, not the level, so allocator arenas settling after warm-up do not pass for
a leak and a leak of 1 MB per request does not hide in a margin. A second run has every user upload the
same photo at once.

The app is launched exactly as a user would (a subprocess, ``python app.py``) with the
tiny test checkpoints as its weights and a temporary data directory; the launcher and
endpoint discovery are colorlab.tools.appserver's, as in the benchmarks.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorlab.tools import appserver
from colorlab.tools.appserver import proc_status_mb

ROOT = Path(__file__).resolve().parent.parent
USERS = 20
SECONDS = 60
MAX_CALLS_PER_USER = 500           # a second bound on the work, whatever the speed
CALL_TIMEOUT = 120                 # one call may wait in the queue, but not forever
MAX_MB_PER_REQUEST = 0.5          # slope of server RSS against requests served (a leak of 1 MB each: ~1)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    if not (ROOT / "app.py").is_file():
        pytest.skip("app.py does not exist yet: the load test drives `python app.py`")
    pytest.importorskip("gradio_client")
    tmp = tmp_path_factory.mktemp("load")
    # the users come "through a proxy" on loopback, each with its own X-Forwarded-For address, so that
    # the fair-share caps (colorlab.serving.limits) see 20 clients, as they would on a Space
    with appserver.running(log_path=tmp / "app.log", weights=weights_dir, data_dir=tmp / "data",
                           env={"COLORLAB_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        yield server.proc, server.url, tmp


def _photos(directory: Path, user: int) -> list[tuple[Path, tuple[int, int]]]:
    """User ``user``'s own grey photos (written once, reused)."""
    out = []
    for i, (w, h) in enumerate([(320, 240), (200, 300), (640, 480), (97, 61)]):
        path = directory / f"user{user}-photo{i}.png"
        if not path.exists():
            y, x = np.mgrid[0:h, 0:w]
            Image.fromarray(((x * (i + 1) + y * (user + 2) + user * 37) % 256).astype(np.uint8), "L").save(path)
        out.append((path, (w, h)))
    return out


def _image_paths(result) -> list[str]:
    """File paths of images anywhere in an endpoint's result."""
    if isinstance(result, (list, tuple)):
        return [p for r in result for p in _image_paths(r)]
    if isinstance(result, dict):
        return [p for r in result.values() for p in _image_paths(r)]
    if isinstance(result, str) and Path(result).suffix.lower() in (".png", ".jpg", ".jpeg", ".webp") \
            and Path(result).is_file():
        return [result]
    return []


def _is_queue_full(exc: Exception) -> bool:
    return type(exc).__name__ == "QueueError" or "queue is full" in str(exc).lower()


class Load:
    """USERS gradio_client users, each with its own client, download folder and photos
    (``owner(user)`` says whose photos a user uploads), calling the colorize endpoint."""

    def __init__(self, app, tag: str, owner=lambda user: user):
        from gradio_client import Client
        self.proc, url, tmp = app
        self.photos = [_photos(tmp, owner(u)) for u in range(USERS)]
        self.clients = [Client(url, verbose=False, download_files=str(tmp / f"{tag}-downloads{u}"),
                               headers={"X-Forwarded-For": f"10.1.0.{u + 1}"},
                               httpx_kwargs={"timeout": CALL_TIMEOUT}) for u in range(USERS)]
        self.api_name, self.params = appserver.colorize_endpoint(self.clients[0])
        self.ok, self.wrong, self.refused, self.errors, self.rss, self.served = [], [], [], [], [], []
        self.lock = threading.Lock()

    def call(self, user: int, k: int) -> None:
        """One call, recorded as ok (an image of the input's size came back), wrong, refused or an error."""
        path, size = self.photos[user][k % len(self.photos[user])]
        t0 = time.monotonic()
        try:
            out = self.clients[user].predict(api_name=self.api_name,
                                             **appserver.endpoint_arguments(self.params, path))
            paths, got = _image_paths(out), None
            if paths:
                with Image.open(paths[0]) as img:
                    got = img.size
        except Exception as exc:   # noqa: BLE001 - every failure is recorded and judged by the test
            with self.lock:
                (self.refused if _is_queue_full(exc) else self.errors).append(f"{type(exc).__name__}: {exc}")
            return
        with self.lock:
            if got == size:
                self.ok.append(time.monotonic() - t0)
            else:
                self.wrong.append(repr(out))

    def run(self, seconds: float, calls_per_user: int = MAX_CALLS_PER_USER) -> None:
        """Every user calls in a loop until ``seconds`` have passed; RSS sampled every 2 s."""
        deadline = time.monotonic() + seconds

        def user(u):
            for k in range(calls_per_user):
                if time.monotonic() >= deadline:
                    return
                self.call(u, k)

        def sample():
            while time.monotonic() < deadline:
                with self.lock:
                    served = len(self.ok) + len(self.wrong) + len(self.errors)
                self.rss.append(self.server_rss())
                self.served.append(served)
                time.sleep(2)

        threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(USERS)]
        threads.append(threading.Thread(target=sample, daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, deadline - time.monotonic()) + CALL_TIMEOUT)
        assert not any(t.is_alive() for t in threads), "calls still hanging long after the deadline"
        assert self.proc.poll() is None, "the server died under load"

    def server_rss(self) -> float:
        return proc_status_mb(self.proc.pid, "VmRSS")

    def reset(self) -> None:
        self.ok, self.wrong, self.refused, self.errors, self.rss, self.served = [], [], [], [], [], []

    def mb_per_request(self) -> float:
        """Theil-Sen slope of RSS (MB) against requests served: the median of the pairwise slopes."""
        x, y = np.array(self.served, float), np.array(self.rss, float)
        i, j = np.triu_indices(len(x), 1)
        keep = x[j] > x[i]
        return float(np.median((y[j] - y[i])[keep] / (x[j] - x[i])[keep])) if keep.any() else float("nan")

    def summary(self) -> str:
        med = np.median(self.ok) if self.ok else float("nan")
        return (f"{len(self.ok)} ok (median {med:.2f} s), {len(self.refused)} queue-full, {len(self.errors)} errors, "
                f"{len(self.wrong)} wrong outputs; server RSS every 2 s: {' '.join(f'{x:.0f}' for x in self.rss)}")

    def assert_clean(self) -> None:
        assert not self.errors, f"failures other than queue-full: {self.errors[:5]}\n{self.summary()}"
        assert not self.wrong, f"outputs missing or of the wrong size: {self.wrong[:3]}\n{self.summary()}"


def test_twenty_concurrent_users(app):
    load = Load(app, "distinct")
    # Warm-up: one call, then one concurrent round, so that lazily loaded models, thread
    # pools and allocator arenas exist before the baseline is taken.
    load.call(0, 0)
    assert load.ok, f"the colorize endpoint did not return an image of the input's size\n{load.summary()}"
    warm = [threading.Thread(target=load.call, args=(u, 1)) for u in range(USERS)]
    for t in warm:
        t.start()
    for t in warm:
        t.join(CALL_TIMEOUT)
    load.assert_clean()
    time.sleep(2)
    rss_warm = load.server_rss()
    load.reset()

    load.run(SECONDS)
    time.sleep(3)
    rss_end = load.server_rss()
    summary = (f"{load.summary()}; after warm-up {rss_warm:.0f} MB, end {rss_end:.0f} MB; requests served at "
               f"each sample: {' '.join(map(str, load.served))}; slope {load.mb_per_request():.3f} MB/request")
    print(summary)
    load.assert_clean()
    assert len(load.ok) >= USERS, f"too few calls completed under load\n{summary}"
    slope = load.mb_per_request()
    assert len(load.served) >= 10 and load.served[-1] - load.served[0] >= USERS // 2, f"too few samples\n{summary}"
    assert slope <= MAX_MB_PER_REQUEST, f"server memory grows {slope:.2f} MB per request\n{summary}"


def test_users_uploading_the_same_photo_at_once(app):
    """Identical results at once (e.g. everyone clicks the same example): every download whole.

    Gradio rewrites an image returned as an array or PIL image in place in its cache
    (``<content hash>/image.png``) for every identical result, cutting short a concurrent
    download of it (empty or truncated images, RemoteProtocolError); the app therefore
    returns PNG files that Gradio copies into its cache atomically, once."""
    load = Load(app, "same", owner=lambda user: 0)
    load.run(seconds=30)
    print(load.summary())
    load.assert_clean()
