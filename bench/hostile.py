"""Hostile traffic (issue 20): one client floods while honest raters and visitors use the app.

    python -m bench.run --hostile --minutes 15      # the same as: python -m bench.hostile --minutes 15

``python app.py`` runs on a free loopback port (``colorlab.tools.appserver``) with a temporary data
folder, an organiser token and ``COLORLAB_TRUSTED_PROXIES=127.0.0.1``: every simulated client
sends its own ``X-Forwarded-For`` address, as a Space's proxy would, so the server tells them
apart. After one warm-up Compare (every model loaded, as in a server that has been up a while),
for ``--minutes``:

* the flooder (one address, ``--flood-threads`` connections, retrying at once when refused)
  sends Compare jobs with 256 point hints at render size 1024 on a 12-MP photo, Colorize with
  the same hints, uploads of a 40-MP photo (within the limits) and of a 60 MB file (over them);
* ``--raters`` raters (each its own address) play side-by-side Turing sessions, 1-3 s per answer;
* ``--visitors`` visitors (each its own address) colorize a 1-MP photo every 2-6 s.

Reported: the honest users' latency (p50, p95, max), their refusals and errors, the flood's
outcomes, lost answers (answers the server acknowledged minus answers in the database: must
be 0), the server's resident memory over time (peak; slope over the last two thirds and over the
last third: growth or warm-up) and, from the server's log, each kind of job's time at the CPU gate.
All traffic is on loopback; every loop ends at the deadline; the flood's requests still running a
minute after it are counted as unfinished, not waited for.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from colorlab.tools import appserver, docblocks

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "hostile-token"
FLOOD_IP = "10.66.0.1"


def make_photos(tmp: Path) -> dict[str, Path]:
    """A 1-MP colour JPEG (honest), a 12-MP one (flood), a 40-MP one and a 60 MB file (big uploads)."""
    from PIL import Image
    src = sorted((ROOT / "examples").rglob("*.jpg"))[0]
    base = Image.open(src).convert("RGB")
    out = {}
    for name, size in (("1mp", (1155, 866)), ("12mp", (4000, 3000)), ("40mp", (7300, 5470))):
        p = tmp / f"{name}.jpg"
        base.resize(size, Image.Resampling.BICUBIC).save(p, quality=85)
        out[name] = p
    junk = tmp / "junk-60mb.png"
    junk.write_bytes(np.random.default_rng(0).integers(0, 255, 60 * 1024 ** 2, dtype=np.uint8).tobytes())
    out["junk"] = junk
    return out


def flood_hints(n: int = 256, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    pts = [[round(float(x), 4), round(float(y), 4), "#" + "".join(f"{int(v):02x}" for v in rng.integers(0, 255, 3))]
           for x, y in rng.random((n, 2))]
    return json.dumps({"points": pts})


def percentile(xs: list[float], q: float) -> float | None:
    return float(np.percentile(xs, q)) if xs else None


class Tally:
    """Thread-safe counters and latency lists by kind."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lat: dict[str, list[float]] = {}
        self.count: dict[str, int] = {}
        self.samples: dict[str, list[str]] = {}

    def add(self, kind: str, seconds: float | None = None, note: str | None = None) -> None:
        with self.lock:
            self.count[kind] = self.count.get(kind, 0) + 1
            if seconds is not None:
                self.lat.setdefault(kind, []).append(seconds)
            if note is not None and len(self.samples.setdefault(kind, [])) < 5:
                self.samples[kind].append(note[:300])


def outcome(exc: Exception) -> str:
    """'refused' (HTTP 429/503/413: the server said no, with a reason) or 'error'."""
    text = str(exc)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (413, 429, 503) or "Queue is full" in text or "429" in text or "413" in text:
        return "refused"
    return "error"


def client_for(url: str, ip: str, tmp: Path, tag: str):
    from gradio_client import Client
    return Client(url, verbose=False, headers={"X-Forwarded-For": ip}, download_files=str(tmp / f"dl-{tag}"),
                  httpx_kwargs={"timeout": 600})


def hostile(minutes: float, raters: int, visitors: int, flood_threads: int, every: float,
            weights: Path | None) -> dict:
    import httpx
    from gradio_client import handle_file

    from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints
    weights = Path(weights or WEIGHTS_DIR)
    names = [m.name for m in list_checkpoints(weights)][:3]
    tmp = Path(tempfile.mkdtemp(prefix="colorlab-hostile-"))
    photos = make_photos(tmp)
    server = appserver.start(log_path=tmp / "app.log", weights=weights, data_dir=tmp / "data",
                             env={"COLORLAB_ORGANISER_TOKEN": TOKEN, "COLORLAB_TRUSTED_PROXIES": "127.0.0.1",
                                  "COLORLAB_GATE_LOG": "1"})
    proc, url = server.proc, server.url
    tally, stop, closing = Tally(), threading.Event(), threading.Event()
    warm_log = 0
    acked = {"answers": 0}
    hints = flood_hints()
    try:
        admin = client_for(url, "10.0.0.1", tmp, "admin")
        note = admin.predict(TOKEN, "2afc", names, False, ["faces", "landscapes", "general"], 20, 10, 0, True,
                             "open", 30, 0, None, api_name="/turing_publish")[0]
        study_id = re.search(r"Study \*\*(\d+)\*\*", note).group(1)
        # Warm-up: one Compare loads every model, as in a server that has been up a while; otherwise
        # the flood's first Compare loads them one by one through the run (~120 MB), which reads as growth.
        admin.predict(handle_file(str(photos["1mp"])), 0, 1.0, "", api_name="/compare")
        warm_log = (tmp / "app.log").stat().st_size    # the gate's log of the run starts here
        deadline = time.monotonic() + minutes * 60

        def timed(kind, call):
            t = time.monotonic()
            try:
                out = call()
                tally.add(kind, time.monotonic() - t)
                return out
            except Exception as exc:   # noqa: BLE001 - counted and reported
                cut = closing.is_set() and kind.startswith("flood")   # the server stopped under it
                tally.add(f"{kind} {'unfinished' if cut else outcome(exc)}", note=f"{type(exc).__name__}: {exc}")
                return None

        def flooder(k):
            c = client_for(url, FLOOD_IP, tmp, f"f{k}")
            big = handle_file(str(photos["12mp"]))
            i = k
            while not stop.is_set() and time.monotonic() < deadline:
                kind = ("compare", "colorize256", "upload40", "upload60")[i % 4]
                if kind == "compare":
                    timed("flood compare", lambda: c.predict(big, 1024, 1.0, hints, api_name="/compare"))
                elif kind == "colorize256":
                    timed("flood colorize", lambda: c.predict(big, "lab", "general", 1024, 1.0, hints,
                                                              api_name="/colorize"))
                else:
                    path = photos["40mp" if kind == "upload40" else "junk"]

                    def upload(path=path):
                        with open(path, "rb") as f:
                            r = httpx.post(url + "gradio_api/upload", files={"files": (path.name, f)},
                                           headers={"X-Forwarded-For": FLOOD_IP}, timeout=600)
                        r.raise_for_status()
                        return r
                    timed(f"flood {kind}", upload)
                i += 1
                time.sleep(0.2)   # bounded loop: at most 5 tries a second per connection

        def visitor(k):
            c = client_for(url, f"10.2.0.{k + 1}", tmp, f"v{k}")
            rng, photo = random.Random(k), handle_file(str(photos["1mp"]))
            while not stop.is_set() and time.monotonic() < deadline:
                timed("visitor colorize", lambda: c.predict(photo, "lab", "general", 0, 1.0, "",
                                                            api_name="/colorize"))
                time.sleep(rng.uniform(2, 6))

        def rater(k):
            c = client_for(url, f"10.1.0.{k + 1}", tmp, f"r{k}")
            rng = random.Random(100 + k)
            while not stop.is_set() and time.monotonic() < deadline:
                out = timed("rater start", lambda: c.predict(study_id, "", api_name="/turing_start"))
                if out is None:
                    time.sleep(2)
                    continue
                # out: progress, trial, token, exposure, score, end (the end screen once finished)
                while not stop.is_set() and time.monotonic() < deadline and not out[-1]:
                    time.sleep(rng.uniform(1, 3))
                    new = timed("rater answer", lambda out=out: c.predict(
                        out[2], api_name=rng.choice(["/turing_answer_left", "/turing_answer_right"])))
                    if new is None or not isinstance(new[0], str):
                        break           # a refused or failed answer: start a new session
                    with tally.lock:
                        acked["answers"] += 1
                    out = new

        threads = [threading.Thread(target=flooder, args=(k,), daemon=True) for k in range(flood_threads)]
        threads += [threading.Thread(target=rater, args=(k,), daemon=True) for k in range(raters)]
        threads += [threading.Thread(target=visitor, args=(k,), daemon=True) for k in range(visitors)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        samples = []
        while time.monotonic() < deadline:
            samples.append((time.monotonic() - t0, appserver.proc_status_mb(proc.pid, "VmRSS")))
            time.sleep(every)
        stop.set()
        for t in threads[flood_threads:]:     # the honest users' last requests finish...
            t.join(900)
        for t in threads[:flood_threads]:     # ...the flood's are given a minute (not counted if unfinished)
            t.join(max(0.0, 60 - (time.monotonic() - deadline)))
        peak = appserver.proc_status_mb(proc.pid, "VmHWM")
        cpu = _cpu_seconds(proc.pid)
    finally:
        closing.set()
        server.stop()
    stored = _answers_in(tmp / "data")
    log = (tmp / "app.log").read_bytes()[warm_log:] if (tmp / "app.log").is_file() else b""
    gate = gate_summary(log.decode(errors="replace"))
    shutil.rmtree(tmp, ignore_errors=True)    # the photos, the 60 MB file, the downloads
    lat = {k: {"n": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95), "max": max(v)}
           for k, v in tally.lat.items()}
    return {"minutes": minutes, "raters": raters, "visitors": visitors, "flood_threads": flood_threads,
            "models": names, "latency": lat, "counts": tally.count, "notes": tally.samples,
            "answers_acknowledged": acked["answers"], "answers_stored": stored,
            "lost_answers": acked["answers"] - stored if stored is not None else None,
            "rss_samples": samples, "rss_peak_mb": peak, "rss_max_sampled_mb": max(s[1] for s in samples if s[1]),
            **rss_slopes(samples), "load_average": os.getloadavg(), "gate": gate,
            "server_cpu_seconds": cpu, "warmed": True}


GATE_LINE = re.compile(r"^(small|big|step) (\S*) waited ([\d.]+) held ([\d.]+) paused ([\d.]+) pauses (\d+) "
                       r"longest ([\d.]+) to (\S+)", re.M)


def gate_summary(log: str) -> dict:
    """The server's CPU-gate log (``colorlab.serving.scheduling``, ``COLORLAB_GATE_LOG=1``) by
    kind and handler: how many, seconds waiting for the gate / holding it / paused (p50, p95,
    max) and, for big jobs, the longest stretch between pause points and where it ended."""
    rows: dict[str, dict[str, list]] = {}
    for kind, name, *nums, where in GATE_LINE.findall(log):
        key = "step compare-model" if kind == "step" and ":" not in name else f"{kind} {name}"
        row = rows.setdefault(key, {"waited": [], "held": [], "paused": [], "longest": [], "to": []})
        for field, value in zip(("waited", "held", "paused", "pauses", "longest"), nums):
            if field != "pauses":
                row[field].append(float(value))
        row["to"].append(where)

    def stats(xs):
        return {"p50": percentile(xs, 50), "p95": percentile(xs, 95), "max": max(xs)} if xs else None
    out = {}
    for key, row in rows.items():
        worst = sorted(zip(row["longest"], row["to"]), reverse=True)[:5]
        out[key] = {"n": len(row["held"]), **{f: stats(row[f]) for f in ("waited", "held", "paused", "longest")},
                    "longest_at": [[round(t, 2), w] for t, w in worst]}
    return out


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, every thread) process ``pid`` has used; None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def rss_slopes(samples: list) -> dict:
    """The server's RSS slope (MB/min, least squares) over the run's last two thirds (after the
    warm-up: models loaded, caches filled, malloc's arenas grown) and over its last third alone:
    a leak keeps both up; warm-up or noise leaves the last third's near 0. None: too few samples."""
    from scipy.stats import linregress
    samples = [(t, m) for t, m in samples if m is not None]
    end = samples[-1][0] if samples else 0

    def slope(after):
        fit = [(t / 60, m) for t, m in samples if t >= after * end]
        return float(linregress(*zip(*fit)).slope) if len(fit) > 2 else None
    return {"rss_slope_mb_per_min": slope(1 / 3), "rss_slope_last_third_mb_per_min": slope(2 / 3)}


def _answers_in(data: Path) -> int | None:
    db = data / "studies.sqlite3"
    if not db.is_file():
        return None
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])


def _f(x, fmt=".1f") -> str:
    return "-" if x is None else format(x, fmt)


def render(res: dict) -> str:
    lat, c = res["latency"], res["counts"]
    rows = []
    for kind in ("visitor colorize", "rater start", "rater answer", "flood colorize", "flood compare",
                 "flood upload40", "flood upload60"):
        n = lat.get(kind, {})
        rows.append(f"| {kind} | {n.get('n', 0)} | {_f(n.get('p50'), '.2f')} | {_f(n.get('p95'), '.2f')} | "
                    f"{_f(n.get('max'), '.2f')} | {c.get(kind + ' refused', 0)} | {c.get(kind + ' error', 0)} |")
    for kind in ("flood colorize", "flood compare"):
        if c.get(kind + " unfinished"):
            rows.append(f"| {kind}: still running when the server stopped (a minute after the end) | "
                        f"{c[kind + ' unfinished']} | | | | | |")
    slopes = rss_slopes(res["rss_samples"])   # from the samples: a stored run of any version renders alike
    every = max(1, len(res["rss_samples"]) // 15)
    rss = " · ".join(f"{t / 60:.1f} min {m:.0f} MB" for t, m in res["rss_samples"][::every] if m)
    return "\n".join([
        f"## Hostile traffic ({res['minutes']:.0f} minutes)", "",
        f"`python -m bench.run --hostile --minutes {res['minutes']:g}`: one client ({res['flood_threads']} "
        f"connections, one address) floods Compare jobs and Colorize with 256 point hints at render size 1024 "
        f"on a 12-MP photo, 40-MP uploads and 60 MB uploads, while {res['raters']} raters play side-by-side "
        f"sessions and {res['visitors']} visitors colorize a 1-MP photo (each its own address, "
        "`X-Forwarded-For` through a trusted loopback proxy)"
        + (", after one warm-up Compare that loads every model" if res.get("warmed") else "")
        + ". Seconds per request:", "",
        "| requests | done | p50 s | p95 s | max s | refused | errors |", "|---|---|---|---|---|---|---|", *rows, "",
        f"Lost answers: **{res['lost_answers']}** ({res['answers_acknowledged']} acknowledged, "
        f"{res['answers_stored']} in the database). Server RSS: peak **{_f(res['rss_peak_mb'], '.0f')} MB** "
        f"(VmHWM); slope over the last two thirds (after warm-up) {_f(slopes['rss_slope_mb_per_min'], '.1f')} "
        f"MB/min, over the last third {_f(slopes['rss_slope_last_third_mb_per_min'], '.1f')} MB/min. "
        f"Load average at the end {', '.join(f'{x:.1f}' for x in res['load_average'])} (2 cores, shared)"
        + (f"; the server used {res['server_cpu_seconds']:.0f} CPU s." if res.get("server_cpu_seconds") else "."), "",
        f"RSS over time: {rss}", "", *_gate_table(res.get("gate"))])


def _gate_table(gate: dict | None) -> list[str]:
    """The CPU gate's share of the wait (``gate_summary``), when the run logged it."""
    if not gate:
        return []

    def cell(row, field):
        v = row.get(field)
        return "-" if not v else f"{v['p50']:.2f} / {v['p95']:.2f}"
    rows = [f"| {key} | {row['n']} | {cell(row, 'waited')} | {cell(row, 'held')} | {cell(row, 'paused')} | "
            f"{cell(row, 'longest') if not key.startswith('small') else ''} |" for key, row in sorted(gate.items())]
    return ["Time at the CPU gate, from the server's log (seconds, p50 / p95): waiting for the CPU, holding it, "
            "paused for small jobs, and a big job's (or Compare model's) longest stretch between pause points "
            "(what a small job arriving then waits for). The rest of a visitor's time is Gradio's (upload, queue, "
            "files):", "",
            "| job | n | waiting | holding | paused | longest stretch |", "|---|---|---|---|---|---|", *rows, ""]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Hostile traffic against the app (issue 20).")
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--raters", type=int, default=20)
    ap.add_argument("--visitors", type=int, default=5)
    ap.add_argument("--flood-threads", type=int, default=8)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between RSS samples")
    ap.add_argument("--weights", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "hostile.json", help="the measurements (JSON)")
    ap.add_argument("--page", type=Path, help="page whose hostile block is filled (default docs/benchmarks.md)")
    args = ap.parse_args(argv)
    res = hostile(args.minutes, args.raters, args.visitors, args.flood_threads, args.every, args.weights)
    args.out.write_text(json.dumps(res, indent=1))
    text = render(json.loads(args.out.read_text()))
    print(text)
    page = args.page or docblocks.page("hostile")
    docblocks.write(page, "hostile", docblocks.demote_headings(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
