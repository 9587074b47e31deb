"""How fast are the suggested looks against one Colorize, at 1 MP (issue 23: all K in at most 1.5x).

One thread; each timing the best of ``--runs`` (CPU seconds of this process, which a busy
shared machine disturbs far less than wall time; wall time is printed too). The photo is an
example photo resized to 1155 x 866. The point-free pass is warm in both cases, as in the
app (the photo was colorized before its looks are asked for); the scene encoder and the
index are loaded once beforehand.

* colorize: ``colorlab.colorize`` (automatic), the full 1-MP result;
* suggest full: ``suggest(k=K)``, K full-resolution looks (what the CLI writes);
* suggest thumbnails: ``suggest(k=K, size=256)``, what the app's row of looks shows.

    python -m bench.suggest [--model lab-general] [--k 4] [--runs 3] [--out bench/suggest.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from PIL import Image

import colorlab
from colorlab.scene import encoder
from colorlab.suggestions import load_index, suggest

PHOTO = Path(__file__).resolve().parent.parent / "examples" / "general" / "007cfaa95e12.jpg"


def best_of(fn, runs: int) -> tuple[float, float]:
    """(best CPU seconds, best wall seconds) of ``fn()`` over ``runs`` runs after one warm-up."""
    fn()
    cpu, wall = [], []
    for _ in range(runs):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return min(cpu), min(wall)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.suggest", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="lab-general")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = colorlab.get_model(args.model)
    photo = Image.open(PHOTO).convert("RGB").resize((1155, 866))
    load_index(model.meta.category)
    encoder()
    rows = {"colorize": best_of(lambda: colorlab.colorize(photo, model), args.runs),
            "suggest full": best_of(lambda: suggest(photo, model, args.k), args.runs),
            "suggest thumbnails": best_of(lambda: suggest(photo, model, args.k, size=256), args.runs)}
    base = rows["colorize"][0]
    out = {"model": args.model, "k": args.k, "pixels": 1155 * 866, "threads": 1,
           "seconds_cpu": {k: round(v[0], 4) for k, v in rows.items()},
           "seconds_wall": {k: round(v[1], 4) for k, v in rows.items()},
           "ratio_cpu": {k: round(v[0] / base, 2) for k, v in rows.items()}}
    for name, (c, w) in rows.items():
        print(f"{name:<20} {c:6.3f} s CPU ({c / base:4.2f}x colorize)  {w:6.3f} s wall")
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
