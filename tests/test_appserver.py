"""colorlab.tools.appserver: start, readiness, stop and the endpoint arguments, on stand-in apps
(a tiny HTTP server, an app that crashes) so that it runs in the fast suite; the real app is
launched through it by the app, load, bench and Space tests."""
from __future__ import annotations

import textwrap
import urllib.request

import pytest

from colorlab.tools import appserver

SERVE = textwrap.dedent("""
    import http.server, os
    print("token:", os.environ.get("TOKEN"), "colorlab:", sorted(k for k in os.environ if k.startswith("COLORLAB_")),
          flush=True)
    port = int(os.environ["GRADIO_SERVER_PORT"])
    handler = http.server.SimpleHTTPRequestHandler
    http.server.HTTPServer((os.environ["GRADIO_SERVER_NAME"], port), handler).serve_forever()
""")


def test_start_waits_for_the_page_and_stop_ends_the_process(tmp_path, monkeypatch):
    (tmp_path / "app.py").write_text(SERVE)
    monkeypatch.setenv("COLORLAB_CONCURRENCY", "3")
    with appserver.running(tmp_path, log_path=tmp_path / "app.log", weights="W", env={"TOKEN": "t"}) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.proc.poll() is None
        with urllib.request.urlopen(server.url, timeout=5) as r:    # answering as soon as start returns
            assert r.status == 200
        proc = server.proc
    assert proc.poll() is not None                          # stopped on the way out
    log = (tmp_path / "app.log").read_text()
    assert "token: t" in log and "COLORLAB_CONCURRENCY" in log and "COLORLAB_WEIGHTS" in log

    clean = appserver.start(tmp_path, log_path=tmp_path / "clean.log", clean=True, env={"TOKEN": None})
    clean.stop()
    assert "token: None colorlab: []" in (tmp_path / "clean.log").read_text()   # as a fresh Space
    clean.stop()                                            # stopping twice is harmless


def test_an_app_that_dies_is_reported_with_its_log(tmp_path):
    (tmp_path / "app.py").write_text("raise SystemExit('no weights here')\n")
    with pytest.raises(appserver.LaunchError, match="(?s)exited with code 1.*no weights here"):
        appserver.start(tmp_path, log_path=tmp_path / "app.log", timeout=60)


def test_an_app_that_never_answers_is_killed(tmp_path):
    (tmp_path / "app.py").write_text("import time\nprint('thinking', flush=True)\ntime.sleep(600)\n")
    with pytest.raises(appserver.LaunchError, match="(?s)did not answer.*thinking"):
        appserver.start(tmp_path, log_path=tmp_path / "app.log", timeout=2)


def test_free_port_is_free():
    import socket
    port = appserver.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_endpoint_arguments(tmp_path):
    pytest.importorskip("gradio_client")
    photo = tmp_path / "p.png"
    photo.write_bytes(b"x")
    params = [
        {"parameter_name": "image", "component": "Image"},
        {"parameter_name": "photos", "component": "File", "type": {"type": "array"}},
        {"parameter_name": "model_name", "component": "Dropdown"},
        {"parameter_name": "space", "component": "Radio", "parameter_has_default": True},
        {"parameter_name": "category", "component": "Radio", "type": {"enum": ["faces", "general"]}},
        {"parameter_name": "size", "component": "Slider", "parameter_has_default": True},
        {"parameter_name": "models", "component": "CheckboxGroup", "type": {"items": {"enum": ["a", "b"]}}},
        {"parameter_name": "count", "component": "Number"},
    ]
    kw = appserver.endpoint_arguments(params, photo, {"name": "lab-faces", "space": "lab", "category": "faces"})
    assert kw["image"]["path"] == str(photo) and [f["path"] for f in kw["photos"]] == [str(photo)]
    assert (kw["model_name"], kw["space"], kw["category"]) == ("lab-faces", "lab", "faces")   # what was asked
    assert "size" not in kw and kw["models"] == ["a"] and kw["count"] == 1                   # defaults, first, empty
    plain = appserver.endpoint_arguments(params, photo)
    assert "space" not in plain and plain["category"] == "faces" and plain["model_name"] is None


def test_colorize_endpoint_prefers_the_one_named_colorize():
    class Client:
        def __init__(self, named):
            self.named = named

        def view_api(self, print_info, return_format):
            return {"named_endpoints": self.named}
    ep = {"/colorize_batch": {"parameters": [1]}, "/colorize": {"parameters": [2]}, "/compare": {}}
    assert appserver.colorize_endpoint(Client(ep)) == ("/colorize", [2])
    with pytest.raises(RuntimeError, match="no named endpoint"):
        appserver.colorize_endpoint(Client({}))


def test_proc_status_mb_reads_this_process_and_not_a_gone_one(tmp_path):
    import os
    import subprocess
    import sys
    assert appserver.proc_status_mb(os.getpid(), "VmRSS") > 10          # MiB: python + numpy at least
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert appserver.proc_status_mb(done.pid, "VmRSS") is None
