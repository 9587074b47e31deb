"""The server's limits without a server (issue 20): body limit, fair share, errors, scratch."""
from __future__ import annotations

import logging
import os
import time
from types import SimpleNamespace

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from colorlab.imaging import ImageError, load_image
from colorlab.serving import limits
from colorlab.serving.admission import BodyLimit, Refused, check_share, client_key, fair_position
from colorlab.serving.errors import public_message, scrub
from colorlab.serving.scratch import Scratch, clean_stale, private_dir

# ---------------------------------------------------------------- request bodies


@pytest.fixture
def echo():
    async def size(request):
        return JSONResponse({"got": len(await request.body())})
    app = Starlette(routes=[Route("/gradio_api/queue/join", size, methods=["POST"]),
                            Route("/gradio_api/upload", size, methods=["POST"])],
                    middleware=[Middleware(BodyLimit)])
    return TestClient(app)


def test_a_body_over_the_limit_is_refused_with_a_reason(echo):
    ok = echo.post("/gradio_api/queue/join", content=b"x" * 1000)
    assert ok.status_code == 200 and ok.json() == {"got": 1000}
    big = echo.post("/gradio_api/queue/join", content=b"x" * (limits.MAX_BODY_BYTES + 1))
    assert big.status_code == 413 and "limit is 1 MB" in big.json()["detail"]


def test_a_streamed_body_without_length_is_cut_at_the_limit(echo):
    def chunks():
        for _ in range(3):
            yield b"x" * (limits.MAX_BODY_BYTES // 2 + 1)
    r = echo.post("/gradio_api/queue/join", content=chunks())
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_uploads_may_be_larger_but_not_beyond_the_upload_limit(echo):
    assert echo.post("/gradio_api/upload", content=b"x" * (2 * limits.MAX_BODY_BYTES)).status_code == 200
    r = echo.post("/gradio_api/upload", content=b"x" * (limits.UPLOAD_BODY_BYTES + 1))
    assert r.status_code == 413 and "51 MB" in r.json()["detail"]


# ---------------------------------------------------------------- fair share

def ev(client, session="s", group="inference"):
    return SimpleNamespace(client=client, session_hash=session, concurrency_id=group)


def test_one_client_cannot_hold_more_than_its_share():
    mine = [ev("a", f"s{i}") for i in range(limits.PER_CLIENT_EVENTS)]
    with pytest.raises(Refused) as exc:
        check_share(mine, "new", "inference", total=len(mine))
    assert exc.value.status == 429 and f"{limits.RETRY_AFTER} s" in exc.value.message
    check_share(mine[:-1], "new", "inference", total=len(mine))           # one fewer: admitted
    with pytest.raises(Refused, match="This page"):
        check_share([ev("a", "s")] * limits.PER_SESSION_EVENTS, "s", "inference", total=2)
    with pytest.raises(Refused, match="one at a time"):
        check_share([ev("a", "s", "compare")] * limits.PER_CLIENT_COMPARES, "s2", "compare", total=1)
    with pytest.raises(Refused, match="busy") as full:
        check_share([], "s", "inference", total=limits.QUEUE_SIZE)
    assert full.value.status == 503


def test_quick_updates_and_jobs_are_counted_apart():
    jobs = [ev("a", "s")] * limits.PER_SESSION_EVENTS
    check_share(jobs, "s", "1234", total=len(jobs))          # a quick update beside a full page of jobs
    quick = [ev("a", "s", "1234")] * limits.PER_SESSION_QUICK
    check_share(quick, "s", "inference", total=len(quick))   # and a job beside a page of updates
    with pytest.raises(Refused, match="updates"):
        check_share(quick, "s", "5678", total=len(quick))


def test_a_newcomer_waits_for_one_job_of_each_other_client_not_a_flood():
    queue = [ev("flood") for _ in range(6)]
    key = lambda e: e.client   # noqa: E731
    assert fair_position(queue, key, "honest") == 1          # after the flood's first job only
    queue.insert(1, ev("honest"))
    assert fair_position(queue, key, "other") == 2           # round 0 of every client first
    assert fair_position(queue, key, "honest") == 3          # honest's second job: round 1
    assert fair_position(queue, key, "flood") == len(queue)  # the flood's next goes last


def test_the_client_is_its_address_unless_a_trusted_proxy_says_otherwise():
    def req(host, xff=""):
        return SimpleNamespace(client=SimpleNamespace(host=host), headers={"x-forwarded-for": xff} if xff else {})
    assert client_key(req("1.2.3.4", "9.9.9.9"), trusted=set()) == "1.2.3.4"          # not trusted: ignored
    assert client_key(req("127.0.0.1", "9.9.9.9"), trusted={"127.0.0.1"}) == "9.9.9.9"
    # what the client wrote left of the proxy's entry does not choose its identity
    assert client_key(req("127.0.0.1", "6.6.6.6, 9.9.9.9"), trusted={"127.0.0.1"}) == "9.9.9.9"
    assert client_key(req("10.0.0.5", "1.1.1.1, 8.8.8.8"), trusted="*") == "8.8.8.8"
    from colorlab.serving.admission import _trusted
    assert _trusted({"SPACE_ID": "u/colorlab"}) == "*" and _trusted({}) == set()   # a Space: behind its proxy


def test_a_big_job_gives_way_to_a_small_one_at_its_next_pause_point():
    import threading

    from colorlab.serving.scheduling import CpuGate, pause_point
    gate, order, started = CpuGate(1), [], threading.Event()

    def big(name, bands):
        with gate.quick(big=True):
            started.set()
            for i in range(bands):
                time.sleep(0.05)
                order.append(f"{name}{i}")
                pause_point()

    def small():
        with gate.quick():
            order.append("small")
    first = threading.Thread(target=big, args=("A", 6))
    first.start()
    started.wait(5)
    time.sleep(0.07)
    second = threading.Thread(target=big, args=("B", 2))   # another big job waits for A to finish
    second.start()
    time.sleep(0.02)
    tiny = threading.Thread(target=small)
    tiny.start()
    for t in (first, second, tiny):
        t.join(10)
    assert order.index("small") <= 3, order                 # after at most a band or two of A, not all 6
    assert order.index("A5") < order.index("B0"), order      # the paused A is not overtaken by B
    assert gate.pauses >= 1
    pause_point()                                           # no gate held: nothing happens


# ---------------------------------------------------------------- errors

def test_user_errors_keep_their_message_without_the_server_path(tmp_path):
    bad = tmp_path / "deep" / "holiday.png"
    bad.parent.mkdir()
    bad.write_text("not an image")
    with pytest.raises(ImageError) as exc:
        load_image(bad)
    msg = public_message(exc.value)
    assert "readable" in msg and str(tmp_path) not in msg and "/" not in msg and "Error" not in msg


def test_unexpected_errors_become_an_error_id_logged_in_full(caplog):
    try:
        [][1]
    except IndexError as exc:
        with caplog.at_level(logging.ERROR, logger="colorlab.errors"):
            msg = public_message(exc, "colorize")
    assert "error id" in msg and "index" not in msg and "IndexError" not in msg
    error_id = msg.split("error id ")[1].split(")")[0]
    assert error_id in caplog.text and "IndexError" in caplog.text     # the log has it all
    try:
        np.zeros(3) + np.zeros(4)          # a ValueError, but numpy's, not ours: not for the user
    except ValueError as exc:
        assert "error id" in public_message(exc)


def test_a_refused_organiser_action_keeps_its_message_and_a_server_permission_error_does_not(monkeypatch):
    from colorlab import studies
    monkeypatch.setenv(studies.TOKEN_ENV, "the-token")
    with pytest.raises(studies.AccessDenied) as refused:
        studies.check_token("not-the-token")
    assert "Wrong organiser token" in public_message(refused.value)
    try:
        raise PermissionError(13, "Permission denied", "/srv/data/ratings.db")
    except PermissionError as exc:
        assert "error id" in public_message(exc)


def test_scrub_cuts_paths_and_class_names():
    assert scrub("OverflowError: /srv/app/tmp/gradio/ab12/photo.png is bad") == "photo.png is bad"
    assert scrub("C:\\Users\\x\\pic.jpg: no such file") == "pic.jpg: no such file"


# ---------------------------------------------------------------- disk

def _fill(folder, name, size, age):
    d = folder / name
    d.mkdir(parents=True)
    (d / "f.bin").write_bytes(b"x" * size)
    t = time.time() - age
    os.utime(d / "f.bin", (t, t))
    os.utime(d, (t, t))
    return d


def test_scratch_is_pruned_by_age_then_by_total_size_oldest_first(tmp_path):
    cache = tmp_path / "gradio"
    s = Scratch(tmp_path, others=(cache,), ttl=100, max_bytes=2500, every=0)
    old = _fill(s.files, "old", 10, 1000)
    a = _fill(cache, "a", 1000, 50)
    b = _fill(s.files, "b", 1000, 40)
    c = _fill(cache, "c", 1000, 30)
    kept = s.prune()
    assert not old.exists() and not a.exists() and b.exists() and c.exists() and kept == 2000
    new = s.new_dir()
    assert new.parent == s.files and oct(new.stat().st_mode & 0o777) == "0o700"


def test_stale_instance_folders_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / "colorlab-999999999-abc"     # no such process
    live = tmp_path / f"colorlab-{os.getppid()}-abc"
    dead.mkdir()
    live.mkdir()
    assert clean_stale(tmp_path) == [dead] and live.exists() and not dead.exists()


def test_the_ratings_folder_is_private(tmp_path):
    d = tmp_path / "data"
    d.mkdir(mode=0o755)
    (d / "studies.sqlite3").write_bytes(b"")
    os.chmod(d / "studies.sqlite3", 0o644)
    private_dir(d)
    assert d.stat().st_mode & 0o777 == 0o700 and (d / "studies.sqlite3").stat().st_mode & 0o777 == 0o600
