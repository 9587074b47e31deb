"""How long a big job holds the CPU between its pause points (issue 20: a visitor's wait).

    python -m bench.stretches                 # the hostile flood's jobs, in this process

A small job (a visitor's Colorize) that arrives while a big one runs waits for the big job's
current *stretch*: the work between two ``pause_point()`` calls (``colorlab.serving.scheduling``).
This runs the app's own handlers, as the hostile-traffic flood calls them (``bench/hostile.py``:
a 12-MP photo, 256 point hints at render size 1024; Colorize as a big job, Compare model by
model), with a recording gate, and prints every stretch over ``--over`` seconds of CPU: process
CPU seconds (both torch threads; about what the stretch costs on an idle 2-core machine), wall
seconds, and the pause point it ended at ("end": the handler's return).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.hostile import flood_hints, make_photos


def record(fn, *args) -> list[tuple[float, float, str]]:
    """``fn(*args)`` with every stretch recorded: (CPU s, wall s, where it ended)."""
    from colorlab.serving import scheduling
    out, marks = [], {}
    original = scheduling.Timing.stretch

    def stretch(self, now, where):
        cpu = time.process_time()
        last = marks.get(id(self), (self._mark, start))
        out.append((cpu - last[1], now - last[0], where))
        marks[id(self)] = (now, cpu)
        original(self, now, where)
    scheduling.Timing.stretch = stretch
    start = time.process_time()
    try:
        fn(*args)
    finally:
        scheduling.Timing.stretch = original
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--over", type=float, default=0.2, help="print stretches of more CPU seconds than this")
    ap.add_argument("--compare", action="store_true", help="also one Compare (every model, step by step)")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(2)
    from colorlab.ui import colorize
    tmp = Path(tempfile.mkdtemp(prefix="colorlab-stretches-"))
    photos = make_photos(tmp)
    hints = flood_hints()
    jobs = [("colorize 12 MP, 256 points, render 1024",
             lambda: colorize.colorize(str(photos["12mp"]), "lab", "general", 1024, 1.0, hints)),
            ("colorize 1 MP (a visitor's)",
             lambda: colorize.colorize(str(photos["1mp"]), "lab", "general", 0, 1.0, ""))]
    for name, job in jobs:
        job()   # warm-up: models loaded, caches filled as in a running server
        t0, c0 = time.perf_counter(), time.process_time()
        stretches = record(job)
        print(f"{name}: {time.process_time() - c0:.2f} CPU s, {time.perf_counter() - t0:.2f} s, "
              f"{len(stretches)} stretches; longest CPU {max((s[0] for s in stretches), default=0):.2f} s")
        for cpu, wall, where in stretches:
            if cpu > args.over:
                print(f"    {cpu:6.2f} CPU s {wall:6.2f} s  -> {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
