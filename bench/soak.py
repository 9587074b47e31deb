"""Long-run memory of the app: mixed Turing-study and colorize traffic on loopback.

    python -m bench.soak --minutes 15                       # writes bench/soak.md (+ .json)
    python -m bench.soak --minutes 3 --env MALLOC_ARENA_MAX=  # compare allocator settings

``python app.py`` is started on a free loopback port (colorlab.tools.appserver) with a
temporary data folder and an organiser token; a side-by-side study is published; then
``--raters`` gradio_client raters play sessions while ``--colorizers`` users send photos
to Colorize, all for ``--minutes``. The server's resident memory is sampled every
``--every`` seconds together with the number of requests served so far, and the slope is
fitted (scipy.stats.linregress) after the first ``--warmup`` share of the run, per minute
and per 1000 requests. ``--env K=V`` sets (``K=`` unsets) a variable for the server only.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

from colorlab.tools import appserver
from colorlab.tools.appserver import proc_status_mb

ROOT = Path(__file__).resolve().parent.parent


def soak(minutes: float, raters: int, colorizers: int, every: float, warmup: float, weights: Path | None,
         env: dict[str, str | None], models: list[str] | None) -> dict:
    from gradio_client import Client
    from scipy.stats import linregress

    from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints

    weights = Path(weights or WEIGHTS_DIR)
    names = models or [m.name for m in list_checkpoints(weights)][:3]
    tmp = Path(tempfile.mkdtemp(prefix="colorlab-soak-"))
    token = "soak-token"
    server = appserver.start(log_path=tmp / "app.log", weights=weights, data_dir=tmp / "data",
                             env={**env, "COLORLAB_ORGANISER_TOKEN": token})
    proc, url = server.proc, server.url
    photos = sorted((ROOT / "examples").rglob("*.jpg"))
    counts = {"rater": 0, "colorize": 0, "errors": 0}
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    try:
        admin = Client(url, verbose=False, download_files=str(tmp / "dl-admin"))
        note = admin.predict(token, "2afc", names, False, ["faces", "landscapes", "general"], 20, 10, 0, True,
                             "open", 30, 0, None, api_name="/turing_publish")[0]
        study_id = re.search(r"Study \*\*(\d+)\*\*", note).group(1)

        def count(kind, exc=None):
            with lock:
                if exc is None:
                    counts[kind] += 1
                else:
                    counts["errors"] += 1
                    errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])

        def rater(k):
            c, rng = Client(url, verbose=False, download_files=str(tmp / f"dl-r{k}"),
                       httpx_kwargs={"timeout": 300}), random.Random(k)
            while not stop.is_set():
                try:
                    out = c.predict(study_id, "", api_name="/turing_start")
                    count("rater")
                    # out: progress, trial, token, exposure, score, end (the end screen once finished)
                    while not stop.is_set() and not out[-1]:
                        time.sleep(0.3)   # the server refuses answers sooner than 200 ms after the trial
                        out = c.predict(out[2], api_name=rng.choice(["/turing_answer_left", "/turing_answer_right"]))
                        if not isinstance(out[0], str):
                            raise RuntimeError(f"answer refused: {out[-1]}")
                        count("rater")
                except Exception as exc:   # noqa: BLE001 - counted and reported
                    count("rater", exc)
                    time.sleep(1)

        def colorizer(k):
            c = Client(url, verbose=False, download_files=str(tmp / f"dl-c{k}"), httpx_kwargs={"timeout": 300})
            api, params = appserver.colorize_endpoint(c)
            i = k
            while not stop.is_set():
                try:
                    c.predict(api_name=api, **appserver.endpoint_arguments(params, photos[i % len(photos)]))
                    count("colorize")
                except Exception as exc:   # noqa: BLE001
                    count("colorize", exc)
                    time.sleep(1)
                i += 1

        threads = [threading.Thread(target=rater, args=(k,), daemon=True) for k in range(raters)]
        threads += [threading.Thread(target=colorizer, args=(k,), daemon=True) for k in range(colorizers)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        samples = []
        while time.monotonic() - t0 < minutes * 60:
            with lock:
                n = counts["rater"] + counts["colorize"]
            samples.append((time.monotonic() - t0, n, proc_status_mb(proc.pid, "VmRSS")))
            time.sleep(every)
        stop.set()
        for t in threads:
            t.join(120)
    finally:
        server.stop()
    fit = [s for s in samples if s[0] >= warmup * minutes * 60]
    by_time = linregress([s[0] / 60 for s in fit], [s[2] for s in fit])
    by_req = linregress([s[1] for s in fit], [s[2] for s in fit])
    return {"minutes": minutes, "raters": raters, "colorizers": colorizers, "models": names,
            "env": env, "counts": counts, "errors": errors[:10], "samples": samples,
            "warmup_share": warmup, "rss_start_mb": samples[0][2], "rss_end_mb": samples[-1][2],
            "rss_max_mb": max(s[2] for s in samples),
            "slope_mb_per_min": by_time.slope, "slope_mb_per_1000_requests": by_req.slope * 1000,
            "slope_per_1000_stderr": by_req.stderr * 1000, "requests_in_fit": fit[-1][1] - fit[0][1]}


def render(res: dict) -> str:
    env = ", ".join(f"{k}={'(unset)' if v is None else v}" for k, v in res["env"].items()) or "as the app sets it"
    c = res["counts"]
    every = max(1, len(res["samples"]) // 20)
    rows = "\n".join(f"| {t / 60:.1f} | {n} | {rss:.0f} |" for t, n, rss in res["samples"][::every])
    return (f"# Soak: {res['minutes']:.0f} minutes of mixed traffic\n\n"
            f"{res['raters']} raters (side by side, models {', '.join(res['models'])}) and {res['colorizers']} "
            f"Colorize users on loopback; allocator environment: {env}. Requests: {c['rater']} study, "
            f"{c['colorize']} colorize, {c['errors']} errors.\n\n"
            f"Server RSS {res['rss_start_mb']:.0f} MB at the start, {res['rss_end_mb']:.0f} MB at the end "
            f"(max {res['rss_max_mb']:.0f}). Slope after the first {res['warmup_share']:.0%} of the run: "
            f"**{res['slope_mb_per_min']:.2f} MB/min, {res['slope_mb_per_1000_requests']:.1f} ± "
            f"{res['slope_per_1000_stderr']:.1f} MB per 1000 requests** ({res['requests_in_fit']} requests fitted).\n\n"
            f"| minute | requests | RSS MB |\n|---|---|---|\n{rows}\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Soak the app with mixed traffic; report server RSS and its slope.")
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--raters", type=int, default=4)
    ap.add_argument("--colorizers", type=int, default=2)
    ap.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the run left out of the fit")
    ap.add_argument("--weights", type=Path)
    ap.add_argument("--models", nargs="+")
    ap.add_argument("--env", action="append", default=[], metavar="K=V", help="for the server; K= unsets K")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "soak.md")
    args = ap.parse_args(argv)
    env = {k: (v or None) for k, v in (e.split("=", 1) for e in args.env)}
    res = soak(args.minutes, args.raters, args.colorizers, args.every, args.warmup, args.weights, env, args.models)
    text = render(res)
    print(text)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
