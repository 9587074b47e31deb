"""How fast are the suggested looks against one Colorize, at 1 MP (issue 23: all K in at most 1.5x).

One thread; each timing the median of ``--runs`` (CPU seconds of this process, which a busy
shared machine disturbs far less than wall time; wall time is kept too), the cases
interleaved run by run so that each sees the same load. The photo is an example photo
resized to 1155 x 866. As in the app: the photo's grey is made once (``Upload``) and both
sides start from it; the point-free pass is warm (the photo was colorized before its looks
are asked for); the scene encoder and the index are loaded once beforehand; the per-photo
caches of the looks (scene features, point colours) are emptied before every run, so each
run pays for them as a new photo does.

* colorize: ``colorlab.colorize`` (automatic) of the grey, the full 1-MP result;
* suggest thumbnails: ``suggest(grey, k=K, size=SUGGEST_THUMB)`` (the app's 320 px, from
  colorlab.serving.limits) and the K thumbnails encoded as WebP (what the app's row of looks
  needs, Gradio's gallery format): the target, at most 1.5x;
* suggest full: ``suggest(grey, k=K)``, K full-resolution looks (what the CLI writes);
* CLI: full + PNGs: those looks written as PNGs as ``colorize --suggest K`` writes them (zlib
  level ``SUGGEST_PNG_LEVEL``), and at zlib 6 (PIL's default, what it wrote before);
* the same three from the decoded photo instead of its grey (each makes the grey itself).

    python -m bench.suggest [--model lab-general] [--k 4] [--runs 5] [--out bench/suggest.json]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from PIL import Image

import colorlab
from colorlab import suggestions
from colorlab.cli import SUGGEST_PNG_LEVEL
from colorlab.pipeline import grey_tensor
from colorlab.scene import encoder
from colorlab.serving.limits import SUGGEST_THUMB
from colorlab.suggestions import load_index, suggest

PHOTO = Path(__file__).resolve().parent.parent / "examples" / "general" / "007cfaa95e12.jpg"
TARGET = 1.5
THUMB = SUGGEST_THUMB      # px, long side: what the app asks for


def _cold() -> None:
    """Forget the per-photo caches of the looks (not the point-free pass: Colorize made it)."""
    for name in ("_FEATURES", "_LOOKS"):
        cache = getattr(suggestions, name, None)     # (absent before the caches: a before/after run)
        if cache is None:
            continue
        with cache.lock:
            cache.items.clear()


def _thumbnails(image, model, k: int) -> list[bytes]:
    looks = suggest(image, model, k, size=THUMB)
    out = []
    for s in looks:
        buf = io.BytesIO()
        s.image.save(buf, "WEBP")
        out.append(buf.getvalue())
    return out


def _cli(image, model, k: int, level: int) -> list[bytes]:
    """What ``colorize --suggest K`` does per photo: the K full-size looks, each written as a PNG."""
    out = []
    for s in suggest(image, model, k):
        buf = io.BytesIO()
        s.image.save(buf, "PNG", optimize=False, compress_level=level)
        out.append(buf.getvalue())
    return out


def timings(cases: dict, runs: int) -> dict:
    """{name: (median CPU s, median wall s)}: one warm-up of each, then ``runs`` rounds of all."""
    for fn in cases.values():
        fn()
    cpu, wall = {n: [] for n in cases}, {n: [] for n in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            _cold()
            c, w = time.process_time(), time.perf_counter()
            fn()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - w)
    return {n: (statistics.median(cpu[n]), statistics.median(wall[n])) for n in cases}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.suggest", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="lab-general")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = colorlab.get_model(args.model)
    photo = Image.open(PHOTO).convert("RGB").resize((1155, 866))
    grey = grey_tensor(photo)
    load_index(model.meta.category)
    encoder()
    colorlab.colorize(grey, model)        # the point-free pass, as the app has it
    k = args.k
    cases = {"colorize": lambda: colorlab.colorize(grey, model),
             "suggest thumbnails": lambda: _thumbnails(grey, model, k),
             "suggest full": lambda: suggest(grey, model, k),
             "CLI: full + PNGs": lambda: _cli(grey, model, k, SUGGEST_PNG_LEVEL),
             "CLI: full + PNGs at zlib 6": lambda: _cli(grey, model, k, 6),
             "colorize (photo)": lambda: colorlab.colorize(photo, model),
             "suggest thumbnails (photo)": lambda: _thumbnails(photo, model, k),
             "suggest full (photo)": lambda: suggest(photo, model, k)}
    load_before = os.getloadavg()
    rows = timings(cases, args.runs)
    load_after = os.getloadavg()
    base = {n: rows["colorize (photo)" if n.endswith("(photo)") else "colorize"][0] for n in rows}
    ratio = {n: round(rows[n][0] / base[n], 2) for n in rows}
    thumb_render = suggestions.thumbnail_render(model) if hasattr(suggestions, "thumbnail_render") else None
    out = {"model": args.model, "k": k, "pixels": 1155 * 866, "thumbnail_px": THUMB,
           "thumbnail_render": thumb_render, "threads": 1, "runs": args.runs,
           "loadavg_1_5_15": {"before": [round(v, 2) for v in load_before], "after": [round(v, 2) for v in load_after]},
           "seconds_cpu": {n: round(v[0], 4) for n, v in rows.items()},
           "seconds_wall": {n: round(v[1], 4) for n, v in rows.items()},
           "ratio_cpu": ratio, "target": TARGET,
           "target_met": ratio["suggest thumbnails"] <= TARGET and ratio["suggest thumbnails (photo)"] <= TARGET}
    for name, (c, w) in rows.items():
        print(f"{name:<30} {c:6.3f} s CPU ({ratio[name]:4.2f}x colorize)  {w:6.3f} s wall")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}; "
          f"thumbnails within {TARGET}x: {'yes' if out['target_met'] else 'NO'}")
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
