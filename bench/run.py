"""Benchmark colorlab on this machine: the measurements to bench/results.json, the report (also
printed) into docs/benchmarks.md between ``<!-- bench:start -->`` and ``<!-- bench:end -->``.

    python -m bench.run                 # everything: latency, training throughput, the app
    python -m bench.run --quick         # fewer runs and steps (for a smoke test, not for numbers)
    python -m bench.run --models lab-general rgb-general --no-app --no-train

Sections:
* Colorization latency of every shipped model (``list_checkpoints()``) on a grey photo at 256x256,
  1 megapixel and 12 megapixels: median of the timed runs after one warm-up, with the
  peak resident memory of the process. Each (model, size) runs in a fresh subprocess
  with 2 torch threads, so one configuration's memory cannot inflate another's.
  The input is a JPEG file, so decoding is part of the time, as in the CLI and the app.
* Training throughput (images/s) per architecture: optimizer steps on random batches
  at the training resolution with the config's loss, model settings and frozen layers.
* End-to-end latency of the app's colorize endpoint through gradio_client, with
  ``python app.py`` launched on a free loopback port.
* Big photos through the app: a 12-megapixel colour JPEG sent to Colorize, Channels and
  Compare (every model) on a fresh ``python app.py``, with the server's peak resident
  memory, and the latency of a 1-MP Colorize sent while that Compare is running (a short
  job must not wait for the long one).

Numbers are only meaningful on an otherwise idle machine: the load average at the
start is written into the report and a warning is added when it is high.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from colorlab.tools import appserver  # standard library only at import: keeps the workers' start-up light
from colorlab.tools.appserver import colorize_endpoint, endpoint_arguments, proc_status_mb

ROOT = Path(__file__).resolve().parent.parent

SIZES = {"256x256": (256, 256), "1 MP": (1155, 866), "12 MP": (4000, 3000)}
TARGETS = {"1 MP": 0.5, "12 MP": 5.0}   # seconds, median
APP_TARGETS = {"1 MP": 0.5}             # the app's Colorize round trip, median
BIG_TARGETS = {"/colorize": 3.0, "/channels": 3.0, "/compare": 15.0}   # 12-MP colour photo, seconds
BIG_PEAK_TARGET_MB = 1536               # server peak for the 12-MP session
PEAK_TARGET_MB = 2048                  # at 12 MP
THREADS = 2


# ---------------------------------------------------------------- helpers

def peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux


def synthetic_photo(w: int, h: int):
    """A deterministic photo-like greyscale image (stored as RGB): smooth fields, edges and
    fine texture. Grey, as the photos colorlab is for (a colour upload also gets scored)."""
    import numpy as np
    from PIL import Image, ImageFilter
    rng = np.random.default_rng(w * 7919 + h)
    low = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    img = low.filter(ImageFilter.GaussianBlur(max(1, min(w, h) // 100)))
    noise = Image.fromarray(rng.integers(0, 40, (h, w), dtype=np.uint8), "L").convert("RGB")
    return Image.blend(img, noise, 0.15).convert("L").convert("RGB")


def colour_photo(w: int, h: int):
    """A deterministic colourful photo-like image (smooth colour fields, edges, fine texture)."""
    import numpy as np
    from PIL import Image, ImageFilter
    rng = np.random.default_rng(w * 104729 + h)
    low = Image.fromarray(rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    img = low.filter(ImageFilter.GaussianBlur(max(1, min(w, h) // 100)))
    noise = Image.fromarray(rng.integers(0, 60, (h, w, 3), dtype=np.uint8))
    return Image.blend(img, noise, 0.12)


def median_seconds(times: list[float]) -> float:
    return statistics.median(times) if times else float("nan")


def run_worker(kind: str, spec: dict, timeout: float = 1800) -> dict:
    """Run one measurement in a fresh interpreter; returns its JSON result (or an error)."""
    cmd = [sys.executable, "-m", "bench.run", "--worker", kind, json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- workers (in a subprocess)

def worker_latency(spec: dict) -> dict:
    import torch
    torch.set_num_threads(spec["threads"])
    from colorlab.checkpoints import get_model
    from colorlab.hints import from_json
    from colorlab.pipeline import colorize
    model = get_model(spec["model"], spec["weights"])
    hints = from_json(spec.get("hints"))
    loaded_mb = peak_rss_mb()
    out = colorize(spec["image"], model, hints=hints)   # warm-up (kernel selection, allocator)
    # With hints, the same photo without them is timed too, in turn in this process: two processes
    # of the same configuration differ by up to 40% on a shared machine, more than the 10% asked of hints.
    plain = [] if spec.get("hints") else None
    times, cpu = [], []
    for _ in range(spec["runs"]):
        t0, c0 = time.perf_counter(), time.process_time()
        out = colorize(spec["image"], model, hints=hints)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if plain is not None:
            t0 = time.perf_counter()
            colorize(spec["image"], model)
            plain.append(time.perf_counter() - t0)
    res = {"times": times, "median": median_seconds(times), "cpu_median": median_seconds(cpu),
           "peak_mb": peak_rss_mb(), "loaded_mb": loaded_mb, "size": list(out.size)}
    if plain is not None:
        res.update(plain_times=plain, plain_median=median_seconds(plain))
    return res


def worker_train(spec: dict) -> dict:
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    from colorlab.colorspaces import get_space, rgb_to_grey
    from colorlab.losses import get_loss
    from colorlab.models import create_model
    space, loss_fn = get_space(spec["space"]), get_loss(spec["loss"])
    net = create_model(spec["architecture"], out_channels=space.chroma_channels, **spec["arch"]).train()
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    batch = torch.rand(spec["batch_size"], 3, spec["size"], spec["size"])

    def step():   # what one step of train/trainer.py does
        x, target = space.encode(batch)
        loss = loss_fn(net(x), target, rgb_to_grey(batch))
        aux = getattr(net, "aux", None)
        if aux is not None and spec["aux_weight"]:
            small = F.interpolate(batch, size=aux.shape[-2:], mode="area")
            loss = loss + spec["aux_weight"] * loss_fn(aux, space.target(small), rgb_to_grey(small))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()   # warm-up
    t0 = time.perf_counter()
    for _ in range(spec["steps"]):
        step()
    seconds = time.perf_counter() - t0
    return {"images_per_s": spec["batch_size"] * spec["steps"] / seconds, "step_s": seconds / spec["steps"],
            "peak_mb": peak_rss_mb(), "params": sum(p.numel() for p in net.parameters()),
            "trainable": sum(p.numel() for p in net.parameters() if p.requires_grad)}


WORKERS = {"latency": worker_latency, "train": worker_train}


# ---------------------------------------------------------------- sections (in the parent)

# Ten point hints spread over the photo (and no tint): what "1 MP + 10 hints" adds to the latency.
TEN_HINTS = json.dumps({"points": [[(i % 5 + 0.5) / 5, (i // 5 + 0.5) / 2, f"#{40 + 20 * i:02x}60{200 - 15 * i:02x}"]
                                   for i in range(10)]})
HINTS_OVERHEAD = 0.10   # target: hints add at most 10% to the 1-MP latency
HINT_RUNS = 9           # at least this many pairs: a median of 3 moves by more than 10% on a busy machine


def bench_latency(models: list[dict], images: dict[str, Path], args) -> list[dict]:
    rows = []
    for meta in models:
        row = {"model": meta["name"], "space": meta.get("space", "?"), "architecture": meta.get("architecture", "?"),
               "render": meta.get("render_size") or "native"}
        if meta.get("hints") and "1 MP" in images:
            res = run_worker("latency", {"model": meta["name"], "weights": str(args.weights),
                                         "image": str(images["1 MP"]),
                                         "runs": max(args.runs, HINT_RUNS), "threads": args.threads,
                                         "hints": TEN_HINTS})
            row["1 MP + 10 hints"] = res
            note = res.get("error") or f"median {res['median']:.3f} s"
            print(f"  {meta['name']:24s} 1 MP + 10 hints {note}", flush=True)
        for label, path in images.items():
            runs = args.runs if label != "12 MP" or not args.quick else max(1, args.runs - 1)
            res = run_worker("latency", {"model": meta["name"], "weights": str(args.weights), "image": str(path),
                                         "runs": runs, "threads": args.threads})
            row[label] = res
            note = res.get("error") or f"median {res['median']:.3f} s, peak {res['peak_mb']:.0f} MB"
            print(f"  {meta['name']:24s} {label:8s} {note}", flush=True)
        rows.append(row)
    return rows


def train_specs(models: list[dict], args) -> list[dict]:
    """One spec per distinct (architecture, settings, space, loss), from the shipped
    sidecars' configs and train/configs/*.yaml."""
    import yaml
    configs = [m["config"] for m in models if isinstance(m.get("config"), dict)]
    for path in sorted((ROOT / "train" / "configs").glob("*.yaml")):
        cfg = yaml.safe_load(path.read_text()) or {}
        if not args.models or cfg.get("name") in args.models:
            configs.append(cfg)
    specs, seen = [], set()
    for cfg in configs:
        arch = {k: v for k, v in (cfg.get("arch") or {}).items() if k != "pretrained"}   # same cost, no download
        spec = {"architecture": cfg.get("architecture", "mobile_unet"), "arch": arch, "space": cfg.get("space", "lab"),
                "loss": cfg.get("loss", "l1"), "size": int(cfg.get("size", 128)),
                "aux_weight": cfg.get("aux_weight", 0.5),
                "batch_size": 16, "steps": 2 if args.quick else 6, "threads": args.threads}
        key = json.dumps({k: spec[k] for k in ("architecture", "arch", "space", "loss", "size")}, sort_keys=True)
        if key not in seen:
            seen.add(key)
            specs.append(dict(spec, example=cfg.get("name", "?")))
    return specs


def bench_train(models: list[dict], args) -> list[dict]:
    rows = []
    for spec in train_specs(models, args):
        res = run_worker("train", spec)
        rows.append({"spec": spec, **res})
        note = res.get("error") or f"{res['images_per_s']:.1f} img/s"
        print(f"  {spec['architecture']:12s} {spec['space']:4s} {spec['loss']:10s} {note}", flush=True)
    return rows


def bench_app(models: list[dict], images: dict[str, Path], args) -> dict:
    if not (ROOT / "app.py").is_file():
        return {"skipped": "app.py does not exist yet"}
    try:
        from gradio_client import Client
    except ImportError:
        return {"skipped": "gradio_client is not installed"}
    meta = models[0] if models else None
    with tempfile.TemporaryDirectory(prefix="colorlab-bench-app-") as tmp:
        try:
            server = appserver.start(log_path=Path(tmp) / "app.log", weights=args.weights, data_dir=Path(tmp) / "data")
        except appserver.LaunchError as exc:
            return {"skipped": str(exc)}
        try:
            client = Client(server.url, verbose=False)
            api_name, params = colorize_endpoint(client)
            rows = []
            for label in ("256x256", "1 MP"):
                kwargs = endpoint_arguments(params, images[label], meta)
                client.predict(api_name=api_name, **kwargs)   # warm-up (loads the model)
                times = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    client.predict(api_name=api_name, **kwargs)
                    times.append(time.perf_counter() - t0)
                rows.append({"size": label, "median": median_seconds(times), "times": times})
                print(f"  app {api_name} {label}: median {rows[-1]['median']:.3f} s", flush=True)
            asked = ", ".join(f"{k}={v!r}" for k, v in endpoint_arguments(params, images["1 MP"], meta).items()
                              if not isinstance(v, dict))
            return {"api_name": api_name, "arguments": asked or "defaults", "rows": rows,
                    "server_peak_mb": proc_status_mb(server.proc.pid, "VmHWM")}
        except Exception as exc:  # noqa: BLE001  (report it, do not lose the other sections)
            return {"skipped": f"{type(exc).__name__}: {exc}"}
        finally:
            server.stop(20)


# ---------------------------------------------------------------- report

def machine_info() -> dict:
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "colorlab", "app.py", "bench"]).returncode == 1:
        commit += " + uncommitted changes"   # the numbers are of the working tree
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": affinity, "torch": torch.__version__,
            "python": platform.python_version(),
            "load": os.getloadavg()[0], "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "commit": commit or "?"}


def fmt_latency(res: dict, label: str) -> str:
    if "error" in res:
        return f"error: {res['error']}"
    mark = ""
    if label in TARGETS:
        ok = res["median"] <= TARGETS[label] and (label != "12 MP" or res["peak_mb"] <= PEAK_TARGET_MB)
        mark = " ✓" if ok else " ✗"
    return f"{res['median']:.2f} s / {res['peak_mb']:.0f} MB{mark}"


SECTIONS = ("latency", "train", "app", "big")


def carry_over(results: dict, previous: Path) -> dict:
    """Where a section was not run this time, the previous run's (from its results JSON), with
    where it came from: ``{section: "commit X, DATE"}``. A partial run (e.g. ``--no-train``)
    thus keeps the other numbers, marked as older, instead of dropping them."""
    try:
        prev = json.loads(previous.read_text())
    except (OSError, ValueError):
        return {}
    origin = {}
    for key in SECTIONS:
        if results.get(key) is None and prev.get(key) is not None:
            results[key] = prev[key]
            m = prev.get("machine", {})
            origin[key] = (prev.get("origin") or {}).get(key) or f"commit {m.get('commit', '?')}, {m.get('date', '?')}"
    return origin


def _carried(origin: dict, key: str) -> list[str]:
    return [f"*Not re-run this time: from the run of {origin[key]}.*", ""] if key in origin else []


def render(info: dict, latency: list[dict] | None, train: list[dict] | None, app: dict | None, args,
           origin: dict | None = None) -> str:
    origin = origin or {}
    out = ["# colorlab benchmark", "",
           f"{info['date']}, commit {info['commit']}: {info['cpu']}, {info['cores']} cores, "
           f"torch {info['torch']}, Python {info['python']}; {args.threads} torch thread{'s' * (args.threads != 1)}"
           + (f"; pinned to {info['affinity']} of the cores (the app too)" if info["affinity"] < info["cores"] else "")
           + (" (**--quick**: fewer runs, not for quoting)" if args.quick else "") + ".", ""]
    if info["load"] > 0.5:
        out += [f"**Warning:** the 1-minute load average was {info['load']:.1f} when the run started: other "
                "processes were using the CPU, so these numbers are pessimistic. Re-run on an idle machine.", ""]
    if latency is not None:
        runs = args.runs
        out += ["## Colorization latency", ""] + _carried(origin, "latency") + [
                f"`colorize()` on a grey JPEG file (decode included), median of {runs} runs after a warm-up / peak "
                "resident memory of a fresh process (Python, torch and the model included). Targets: "
                f"1 MP ≤ {TARGETS['1 MP']} s; 12 MP ≤ {TARGETS['12 MP']} s and ≤ {PEAK_TARGET_MB / 1024:.0f} GB.", "",
                "| model | space | architecture | render | " + " | ".join(SIZES) + " |",
                "|---|---|---|---|" + "---|" * len(SIZES)]
        for row in latency:
            out.append(f"| {row['model']} | {row['space']} | {row['architecture']} | {row['render']} | "
                       + " | ".join(fmt_latency(row[label], label) for label in SIZES) + " |")
        if not latency:
            out.append("| (no shipped models in the weights directory) | | | | | | |")
        hinted = [r for r in latency if "1 MP + 10 hints" in r]
        if hinted:
            out += ["", f"**With hints** (the hint-aware models; 10 point hints on the same 1-MP photo, timed in turn "
                    f"with the photo without hints in one process, medians of at least {HINT_RUNS}; target: at most "
                    f"{HINTS_OVERHEAD:.0%} more than without). The points' output is blended with the point-free "
                    "one, which the pipeline keeps for the last few inputs: in the app a photo has been run without "
                    "points (to pick a point's starting colour) before any point is placed, as here.", "",
                    "| model | 1 MP | 1 MP + 10 hints | overhead |",
                    "|---|---|---|---|"]
            for r in hinted:
                b = r["1 MP + 10 hints"]
                a = {"median": b["plain_median"]} if "plain_median" in b else r.get("1 MP", {})
                if "median" in a and "median" in b:
                    over = b["median"] / a["median"] - 1
                    out.append(f"| {r['model']} | {a['median']:.3f} s | {b['median']:.3f} s | {over:+.0%} "
                               + ("✓" if over <= HINTS_OVERHEAD else "✗") + " |")
        out.append("")
    if train is not None:
        out += ["## Training throughput", ""] + _carried(origin, "train") + [
                "Optimizer steps (AdamW, forward + loss + backward) on random batches of 16 at the training "
                f"resolution, {args.threads} threads, after one warm-up step; `pretrained` weights are not loaded "
                "(same cost), frozen layers stay frozen.", "",
                "| architecture | settings | space | loss | example config | images/s | s/step | "
                "trainable / params | peak MB |",
                "|---|---|---|---|---|---|---|---|---|"]
        for r in train:
            s = r["spec"]
            settings = ", ".join(f"{k}={v}" for k, v in s["arch"].items()) or "defaults"
            if "error" in r:
                out.append(f"| {s['architecture']} | {settings} | {s['space']} | {s['loss']} | {s['example']} | "
                           f"error: {r['error']} | | | |")
                continue
            out.append(f"| {s['architecture']} | {settings} | {s['space']} | {s['loss']} | {s['example']} | "
                       f"{r['images_per_s']:.1f} | {r['step_s']:.2f} | {r['trainable'] / 1e6:.2f}M / "
                       f"{r['params'] / 1e6:.2f}M | {r['peak_mb']:.0f} |")
        out.append("")
    if app is not None:
        out += ["## App end to end", ""] + _carried(origin, "app")
        if "skipped" in app:
            out += [f"Skipped: {app['skipped']}.", ""]
        else:
            out += [f"`python app.py` on loopback, endpoint `{app['api_name']}` called through gradio_client "
                    f"with {app['arguments']} (upload, queue, inference, download), median of {args.runs} calls "
                    f"after a warm-up. Server peak resident memory: {app['server_peak_mb'] or 0:.0f} MB.", "",
                    "| size | median | target |", "|---|---|---|"]
            out += [f"| {r['size']} | {r['median']:.2f} s | " + (f"≤ {APP_TARGETS[r['size']]} s "
                    + ("✓" if r["median"] <= APP_TARGETS[r["size"]] else "✗") if r["size"] in APP_TARGETS else "")
                    + " |" for r in app["rows"]]
            out.append("")
    big = getattr(args, "big_result", None)
    if big is not None:
        out += ["## Big photos through the app", ""] + _carried(origin, "big")
        if "skipped" in big:
            out += [f"Skipped: {big['skipped']}.", ""]
        else:
            peak = big["server_peak_mb"] or 0
            out += ["A 12-MP (4000x3000) colour JPEG through gradio_client on a fresh `python app.py`: Colorize "
                    "(full-resolution inference, display-size slider, metrics at 0.26 MP), Channels and Compare "
                    "(every model, on the photo at display size, 1280 px long side); Compare after one run that "
                    "loaded the models. Targets: Colorize and Channels ≤ 3 s, Compare ≤ 15 s, server peak "
                    f"≤ {BIG_PEAK_TARGET_MB / 1024:.1f} GB.", "",
                    "| endpoint | median | target |", "|---|---|---|"]
            for name, r in big["rows"].items():
                ok = "✓" if r["median"] <= BIG_TARGETS[name] else "✗"
                out.append(f"| {name} | {r['median']:.2f} s | ≤ {BIG_TARGETS[name]:.0f} s {ok} |")
            ok = "✓" if peak <= BIG_PEAK_TARGET_MB else "✗"
            out += ["", f"Server peak resident memory over the session: {peak:.0f} MB {ok}. "
                    f"A 1-MP Colorize sent by a second client while a 12-MP Compare ran took "
                    f"{big['colorize_during_compare']:.2f} s (the Compare {big['compare_alongside']:.2f} s): "
                    "quick jobs go ahead of Compare's next model.", ""]
    return "\n".join(out)


def bench_big(models: list[dict], tmp: Path, args) -> dict:
    """A 12-MP colour photo through Colorize, Channels and Compare on a fresh app; server peak
    memory; a 1-MP Colorize sent while the Compare runs."""
    try:
        from gradio_client import Client
    except ImportError:
        return {"skipped": "gradio_client is not installed"}
    import threading
    big, small = tmp / "big-colour.jpg", tmp / "1mp-colour.jpg"
    colour_photo(4000, 3000).save(big, "JPEG", quality=92)
    colour_photo(*SIZES["1 MP"]).save(small, "JPEG", quality=92)
    meta = models[0] if models else None
    try:
        server = appserver.start(log_path=tmp / "big-app.log", weights=args.weights, data_dir=tmp / "big-data")
    except appserver.LaunchError as exc:
        return {"skipped": str(exc)}
    url = server.url
    try:
        client = Client(url, verbose=False, download_files=str(tmp / "big-downloads"))
        api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]

        def call(name, image, c=client):
            t0 = time.perf_counter()
            c.predict(api_name=name, **endpoint_arguments(api[name]["parameters"], image, meta))
            return time.perf_counter() - t0

        call("/colorize", small)          # warm-up: models load once per process
        rows = {}
        for name in ("/colorize", "/channels"):
            rows[name] = [call(name, big) for _ in range(max(1, min(args.runs, 3)))]
            print(f"  12 MP {name}: median {median_seconds(rows[name]):.2f} s", flush=True)
        rows["/compare"] = [call("/compare", big)]
        print(f"  12 MP /compare: {rows['/compare'][0]:.2f} s (first, models loading)", flush=True)
        rows["/compare"].append(call("/compare", big))
        print(f"  12 MP /compare: {rows['/compare'][1]:.2f} s", flush=True)
        peak = proc_status_mb(server.proc.pid, "VmHWM")

        # a short job during a long one: another user's 1-MP Colorize while the Compare runs
        other = Client(url, verbose=False, download_files=str(tmp / "big-downloads-2"))
        done = {}
        long_job = threading.Thread(target=lambda: done.setdefault("compare", call("/compare", big)))
        long_job.start()
        time.sleep(2.0)
        during = call("/colorize", small, other)
        long_job.join()
        print(f"  1 MP /colorize during a 12 MP /compare: {during:.2f} s (compare {done['compare']:.2f} s)",
              flush=True)
        return {"rows": {k: {"median": median_seconds(v[-1:] if k == "/compare" else v), "times": v}
                         for k, v in rows.items()},
                "server_peak_mb": peak, "colorize_during_compare": during, "compare_alongside": done["compare"]}
    except Exception as exc:  # noqa: BLE001  (report it, do not lose the other sections)
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    finally:
        server.stop(20)


def page_block(report: str) -> str:
    """The report as it goes into docs/benchmarks.md: without its title, headings one level
    deeper (the page's own ``##`` sections stay the outline)."""
    from colorlab.tools import docblocks
    return docblocks.demote_headings(report.split("\n", 2)[2].strip() + "\n")


def report_from_json(data: dict) -> str:
    """The report that the run stored in ``data`` (bench/results.json) renders to."""
    args = argparse.Namespace(threads=data.get("threads", THREADS), quick=data.get("quick", False),
                              runs=data.get("runs"), big_result=data.get("big"))
    return render(data["machine"], data.get("latency"), data.get("train"), data.get("app"), args,
                  data.get("origin") or {})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark colorlab; writes bench/results.json and docs/benchmarks.md.")
    ap.add_argument("--quick", action="store_true", help="fewer runs and steps (smoke test)")
    ap.add_argument("--models", nargs="+", metavar="NAME", help="only these shipped models (and their configs)")
    ap.add_argument("--no-app", action="store_true", help="skip the app end-to-end section")
    ap.add_argument("--no-train", action="store_true", help="skip training throughput")
    ap.add_argument("--no-big", action="store_true", help="skip the 12-MP photo through the app")
    ap.add_argument("--no-latency", action="store_true", help="skip colorization latency")
    ap.add_argument("--runs", type=int, help="timed runs per configuration (default 5, --quick 2)")
    ap.add_argument("--threads", type=int, default=THREADS,
                    help=f"torch threads per measurement (default {THREADS}, the target machine's cores); "
                         "the app takes its own from the CPUs it may use (taskset)")
    ap.add_argument("--weights", type=Path, help="weights directory (default: colorlab's, $COLORLAB_WEIGHTS)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json", help="the measurements (JSON)")
    ap.add_argument("--page", type=Path, help="page whose bench block is filled (default docs/benchmarks.md)")
    ap.add_argument("--no-page", action="store_true", help="do not update the page (--quick never does)")
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    ap.add_argument("--hostile", action="store_true",
                    help="only the hostile-traffic section (bench/hostile.py): one client floods while raters and "
                         "visitors use the app; writes bench/hostile.json and its block of docs/benchmarks.md")
    ap.add_argument("--minutes", type=float, default=15, help="length of the hostile-traffic run")
    args = ap.parse_args(argv)
    if args.hostile:
        from bench import hostile
        weights = ["--weights", str(args.weights)] if args.weights else []
        return hostile.main(["--minutes", str(args.minutes), *weights])
    if args.worker:
        print(json.dumps(WORKERS[args.worker[0]](json.loads(args.worker[1]))))
        return 0

    from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints
    args.weights = (args.weights or WEIGHTS_DIR).resolve()
    args.runs = args.runs or (2 if args.quick else 5)
    models = [m.to_json() for m in list_checkpoints(args.weights)]   # sidecars as JSON (endpoint arguments)
    if args.models:
        unknown = set(args.models) - {m["name"] for m in models}
        if unknown:
            ap.error(f"not in {args.weights}: {sorted(unknown)}; available: {[m['name'] for m in models]}")
        models = [m for m in models if m["name"] in args.models]
    info = machine_info()
    print(f"benchmarking {len(models)} models from {args.weights} (load average {info['load']:.1f})", flush=True)

    with tempfile.TemporaryDirectory(prefix="colorlab-bench-") as tmp:
        images = {}
        for label, (w, h) in SIZES.items():
            images[label] = Path(tmp) / f"{label.replace(' ', '')}.jpg"
            synthetic_photo(w, h).save(images[label], "JPEG", quality=90)
        latency = None if args.no_latency else bench_latency(models, images, args)
        train = None if args.no_train else bench_train(models, args)
        app = None if args.no_app else bench_app(models, images, args)
        args.big_result = None if args.no_app or args.no_big else bench_big(models, Path(tmp), args)

    results = {"latency": latency, "train": train, "app": app, "big": args.big_result}
    origin = {} if args.quick else carry_over(results, args.out)
    data = {"machine": info, "quick": args.quick, "runs": args.runs, "threads": args.threads, **results,
            "origin": origin}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, default=str) + "\n")
    report = report_from_json(json.loads(args.out.read_text()))
    print("\n" + report)
    if not args.no_page and not args.quick:
        from colorlab.tools import docblocks
        page = args.page or docblocks.page("bench")
        if docblocks.write(page, "bench", page_block(report)):
            print(f"\n{page} updated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
