"""``python app.py`` as a server for the tests, the benchmarks and the Space rehearsal.

``start`` launches the app on a free loopback port, waits until its page answers and returns an
``AppServer`` (process, url, seconds to answer, log); ``stop`` ends it (terminate, then kill).
``colorize_endpoint`` and ``endpoint_arguments`` find an endpoint and make the keyword arguments
to call it through gradio_client. Standard library only at import (gradio_client is imported
where it is used), so a benchmark's start-up stays light.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILE_INPUTS = ("file", "image", "imageeditor", "imageslider")
EMPTY = {"checkboxgroup": [], "number": 1, "slider": 0, "checkbox": False, "dropdown": None, "radio": None}


class LaunchError(RuntimeError):
    """The app exited or did not answer; the message ends with the tail of its log."""


@dataclass
class AppServer:
    proc: subprocess.Popen
    url: str            # http://127.0.0.1:PORT/
    seconds: float      # from launch until the page answered
    log_path: Path

    def stop(self, timeout: float = 30) -> None:
        stop(self.proc, timeout)


def proc_status_mb(pid: int, key: str) -> float | None:
    """A memory line of /proc/PID/status (``VmRSS``, ``VmHWM`` the peak) in MiB; None once the
    process is gone (or off Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n    ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(app_dir: Path | str = ROOT, *, log_path: Path, weights: Path | None = None, data_dir: Path | None = None,
          env: dict[str, str | None] | None = None, clean: bool = False, timeout: float = 180) -> AppServer:
    """``python app.py`` in ``app_dir`` on a free loopback port, once its page answers.

    ``weights`` / ``data_dir`` set COLORLAB_WEIGHTS / COLORLAB_DATA (the Gradio temp folder goes
    beside ``data_dir``); ``env`` adds variables (None removes one); ``clean`` starts from the
    environment a fresh Space has: no COLORLAB_* variable, no PYTHONPATH. Raises LaunchError if
    the app exits first or does not answer within ``timeout`` seconds (it is then killed)."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = {k: v for k, v in os.environ.items()
            if not clean or not (k.startswith("COLORLAB_") or k == "PYTHONPATH")}
    tmp_root = Path(data_dir).parent if data_dir is not None else log_path.parent
    base.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
                GRADIO_TEMP_DIR=str(tmp_root / f"gradio-tmp-{port}"), PYTHONDONTWRITEBYTECODE="1")
    if weights is not None:
        base["COLORLAB_WEIGHTS"] = str(weights)
    if data_dir is not None:
        base["COLORLAB_DATA"] = str(data_dir)
    for k, v in (env or {}).items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    t0 = time.perf_counter()
    with open(log_path, "wb") as log:     # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=app_dir, env=base, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise LaunchError(f"app.py exited with code {proc.returncode} before serving:\n    {_log_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return AppServer(proc, url, time.perf_counter() - t0, log_path)
        except OSError:
            time.sleep(0.3)
    stop(proc, 5)
    raise LaunchError(f"app.py did not answer on {url} within {timeout:.0f} s:\n    {_log_tail(log_path)}")


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a launched app; kill it if it has not exited within ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


@contextlib.contextmanager
def running(app_dir: Path | str = ROOT, **kwargs):
    """``start`` as a context manager: yields the AppServer and stops it on the way out."""
    server = start(app_dir, **kwargs)
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- calling it

def colorize_endpoint(client) -> tuple[str, list[dict]]:
    """The api_name of the app's colorize endpoint and its parameters (gradio_client's ``view_api``)."""
    api = client.view_api(print_info=False, return_format="dict")
    named = api.get("named_endpoints", {})
    names = [n for n in named if "colori" in n.lower()] or list(named)
    if not names:
        raise RuntimeError(f"the app exposes no named endpoint: {api}")
    name = min(names, key=lambda n: (n.lower().strip("/") != "colorize", len(n)))
    return name, named[name].get("parameters", [])


def endpoint_arguments(params: list[dict], photo: Path, meta: dict | None = None) -> dict:
    """Keyword arguments for one endpoint (``params`` from ``view_api``): ``photo`` for each image or
    file input; the model's name, space and category (``meta``, a sidecar) where a choice asks for
    them; nothing where there is a default; otherwise the first allowed value or an empty one of
    the component's kind."""
    from gradio_client import handle_file
    kwargs = {}
    for p in params:
        name = p.get("parameter_name") or p.get("label") or ""
        comp = str(p.get("component", "")).lower()
        typ = p.get("type") or {}
        has_default = p.get("parameter_has_default")
        wanted = next((meta[k] for k, word in (("name", "model"), ("space", "space"), ("category", "category"))
                       if meta and k in meta and word in name.lower()), None)
        if comp in FILE_INPUTS or ("image" in name.lower() and not has_default):
            kwargs[name] = [handle_file(str(photo))] if typ.get("type") == "array" else handle_file(str(photo))
        elif wanted is not None and comp in ("dropdown", "radio", "textbox"):
            kwargs[name] = wanted
        elif not has_default:
            enum = typ.get("enum") or (typ.get("items") or {}).get("enum")
            kwargs[name] = (enum[:1] if comp == "checkboxgroup" else enum[0]) if enum else EMPTY.get(comp, "")
    return kwargs
