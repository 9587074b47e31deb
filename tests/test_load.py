"""Load: 20 concurrent gradio_client users against ``python app.py`` on loopback for a
bounded 60 s. Every call must succeed or be refused with a clear queue-full message,
and the server's resident memory at the end must be close to what it was after
warm-up (no leak per request).

The app is launched exactly as a user would (a subprocess, ``python app.py``) with the
tiny test checkpoints as its weights and a temporary data directory; the launcher and
endpoint discovery are shared with ``bench/run.py``.
"""
from __future__ import annotations

import contextlib
import importlib.util
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
USERS = 20
SECONDS = 60
MAX_CALLS_PER_USER = 500           # a second bound on the work, whatever the speed
CALL_TIMEOUT = 120                 # one call may wait in the queue, but not forever
RSS_MARGIN = (1.3, 150)            # end <= after-warm-up * 1.3 + 150 MB
SAME_PHOTOS = 4                    # users 0..3 upload identical files, as when several pick one example

pytestmark = pytest.mark.slow


def _bench():
    spec = importlib.util.spec_from_file_location("colorlab_bench_run", ROOT / "bench" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    if not (ROOT / "app.py").is_file():
        pytest.skip("app.py does not exist yet: the load test drives `python app.py`")
    pytest.importorskip("gradio_client")
    bench = _bench()
    tmp = tmp_path_factory.mktemp("load")
    proc, url = bench.start_app(weights_dir, tmp / "data", tmp / "app.log")
    try:
        yield bench, proc, url, tmp
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except Exception:
            proc.kill()


def _photos(directory: Path, user: int) -> list[tuple[Path, tuple[int, int]]]:
    """A user's grey photos: their own, except that the first SAME_PHOTOS users share one set."""
    user = 0 if user < SAME_PHOTOS else user
    out = []
    for i, (w, h) in enumerate([(320, 240), (200, 300), (640, 480), (97, 61)]):
        y, x = np.mgrid[0:h, 0:w]
        arr = ((x * (i + 1) + y * (user + 2) + user * 37) % 256).astype(np.uint8)
        path = directory / f"user{user}-photo{i}.png"
        if not path.exists():
            Image.fromarray(arr, "L").save(path)
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


def test_twenty_concurrent_users(app):
    from gradio_client import Client
    bench, proc, url, tmp = app
    photos = [_photos(tmp, i) for i in range(USERS)]
    clients = [Client(url, verbose=False, download_files=str(tmp / f"downloads{i}"),
                      httpx_kwargs={"timeout": CALL_TIMEOUT}) for i in range(USERS)]
    api_name, params = bench.find_colorize_endpoint(clients[0])
    model = None   # the app's default model

    def call(user, k):
        path, size = photos[user][k % len(photos[user])]
        out = clients[user].predict(api_name=api_name, **bench.call_arguments(params, path, model))
        paths = _image_paths(out)
        with Image.open(paths[0]) if paths else contextlib.nullcontext() as img:
            return size, out, (img.size if img else None)

    # Warm-up: one call, then one concurrent round, so that lazily loaded models, thread
    # pools and allocator arenas exist before the baseline is taken.
    size, out, got = call(0, 0)
    assert got == size, f"the colorize endpoint returned no image of the input's size: {out!r}"

    warm_errors = []

    def warm(user):
        try:
            call(user, 1)
        except Exception as exc:   # noqa: BLE001 - judged below
            if not _is_queue_full(exc):
                warm_errors.append(f"{type(exc).__name__}: {exc}")
    warm_threads = [threading.Thread(target=warm, args=(i,)) for i in range(USERS)]
    for t in warm_threads:
        t.start()
    for t in warm_threads:
        t.join(CALL_TIMEOUT)
    assert not warm_errors, f"failures other than queue-full during warm-up: {warm_errors[:5]}"
    time.sleep(2)
    rss_warm = bench.proc_status_mb(proc.pid, "VmRSS")

    ok, wrong, refused, errors, samples = [], [], [], [], []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def user(i):
        for n in range(MAX_CALLS_PER_USER):
            if time.monotonic() >= deadline:
                return
            t0 = time.monotonic()
            try:
                size, out, got = call(i, n)
            except Exception as exc:   # noqa: BLE001 - every failure is recorded and judged below
                with lock:
                    (refused if _is_queue_full(exc) else errors).append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                if got == size:
                    ok.append(time.monotonic() - t0)
                else:
                    wrong.append(repr(out))

    def sample():
        while time.monotonic() < deadline:
            samples.append(bench.proc_status_mb(proc.pid, "VmRSS"))
            time.sleep(2)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(USERS)]
    threads.append(threading.Thread(target=sample, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, deadline - time.monotonic()) + CALL_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "calls still hanging long after the deadline"
    assert proc.poll() is None, "the server died under load"
    time.sleep(3)
    rss_end = bench.proc_status_mb(proc.pid, "VmRSS")

    summary = (f"{len(ok)} ok (median {np.median(ok) if ok else float('nan'):.2f} s), {len(refused)} queue-full, "
               f"{len(errors)} errors, {len(wrong)} wrong outputs; RSS after warm-up {rss_warm:.0f} MB, "
               f"peak during load {max(samples, default=0):.0f} MB, end {rss_end:.0f} MB; "
               f"samples every 2 s: {' '.join(f'{x:.0f}' for x in samples)}")
    print(summary)
    assert not errors, f"failures other than queue-full: {errors[:5]}\n{summary}"
    assert not wrong, f"outputs missing or of the wrong size: {wrong[:3]}\n{summary}"
    assert len(ok) >= USERS, f"too few calls completed under load\n{summary}"
    assert rss_end <= rss_warm * RSS_MARGIN[0] + RSS_MARGIN[1], f"server memory grew under load\n{summary}"
