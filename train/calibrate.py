"""Chroma-gain calibration of exported checkpoints, the last step after training.

Networks trained with a regression loss predict the average of the plausible colours,
so their output is more muted than photographs (colourfulness 25-45% below the
truth's); a network whose colours are often wrong is better off with less of them. A
single gain g on the predicted chroma (LAB a,b; HSV S; RGB distance from grey)
corrects both. g is chosen on *training* images, never on val, in two steps on a
grid of ``step`` within [MIN_GAIN, MAX_GAIN]:

1. accuracy: from g = 1, walk downhill in mean CIEDE2000 to its minimum g0;
2. vividness: the largest g >= g0 whose CIEDE2000 is at most ``max_ciede_rise``
   (relative) above g0's, whose PSNR is at most ``max_psnr_drop`` dB below g0's, and
   whose mean colourfulness does not exceed the truth's.

The PSNR guard came with the hint-aware models: without it the vividness step cost the
landscape models 0.6-0.9 dB PSNR on val for their colourfulness, more than the 0.2 dB
that automatic colorization may lose against the earlier shipped models; with it a
model is at most 0.1 dB (on the training images) less accurate than its most accurate
gain, and more muted than the rule without it would make it.

The gain goes into the sidecar (``chroma_gain``, with the table it was chosen from);
``colorlab`` applies it at saturation 1.0. The val metrics are then re-scored with
the gain (``val_metrics``), the uncalibrated ones kept as ``val_metrics_uncalibrated``.

    python -m train.calibrate [NAME ...] [--images 100] [--max-ciede-rise 0.05] [--max-psnr-drop 0.1]
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

from colorlab.checkpoints import CheckpointMeta, Colorizer, list_checkpoints, load_checkpoint, resolve, update_sidecar
from colorlab.metrics import colorfulness

from .data import load_folder, load_folders
from .trainer import evaluate

MIN_GAIN, MAX_GAIN = 0.5, 2.5


def score(model: Colorizer, arrays: list[np.ndarray], gain: float) -> dict:
    """Metrics of ``model`` with chroma gain ``gain`` on ``arrays`` (through the real pipeline)."""
    return evaluate(dataclasses.replace(model, chroma_gain=gain), arrays)


def choose_gain(model: Colorizer, arrays: list[np.ndarray], step: float = 0.05,
                max_ciede_rise: float = 0.05, max_psnr_drop: float = 0.1) -> tuple[float, list[dict]]:
    """The calibration rule (module docstring) -> (gain, table of the gains tried, by gain)."""
    lo, hi, one = math.ceil(MIN_GAIN / step - 1e-9), math.floor(MAX_GAIN / step + 1e-9), round(1 / step)
    cache: dict[int, dict] = {}

    def at(k: int) -> dict:          # metrics at gain k * step, each scored once
        if k not in cache:
            cache[k] = score(model, arrays, k * step)
        return cache[k]

    truth_cf = at(one)["truth_colorfulness"]     # summarize scores the truth's colourfulness too
    best = one
    for direction in (-1, 1):
        k = one
        while lo <= k + direction <= hi and at(k + direction)["ciede2000"] < at(k)["ciede2000"]:
            k += direction
        if k != one:
            best = k
            break
    limit, floor, k = at(best)["ciede2000"] * (1 + max_ciede_rise), at(best)["psnr"] - max_psnr_drop, best
    while (k + 1 <= hi and at(k + 1)["ciede2000"] <= limit and at(k + 1)["psnr"] >= floor
           and at(k + 1)["colorfulness"] <= truth_cf):
        k += 1
    table = [{"gain": round(i * step, 3), **{m: cache[i][m] for m in ("psnr", "ciede2000", "colorfulness")}}
             for i in sorted(cache)]
    return round(k * step, 3), table


def calibrate(path: Path, n_images: int, max_ciede_rise: float, max_psnr_drop: float, command: str) -> CheckpointMeta:
    model = load_checkpoint(path)
    meta = model.meta
    train = load_folders(meta.data["train_dir"], limit=n_images)[0]     # the first n, sorted
    gain, table = choose_gain(model, train, max_ciede_rise=max_ciede_rise, max_psnr_drop=max_psnr_drop)
    fields = {"chroma_gain": gain,
              "calibration": {"rule": f"from 1, downhill in CIEDE2000 to g0 (step 0.05, gains {MIN_GAIN}-"
                                      f"{MAX_GAIN}); then the largest gain with CIEDE2000 <= "
                                      f"{1 + max_ciede_rise:g} x g0's, PSNR >= g0's - {max_psnr_drop:g} dB "
                                      "and colourfulness <= the truth's; "
                                      "on training images",
                              "train_dir": meta.data["train_dir"], "images": len(train),
                              "truth_colorfulness": float(np.mean([colorfulness(a) for a in train])),
                              "table": table, "command": command}}
    val = load_folder(meta.data["val_dir"])[0]
    if val:
        fields["val_metrics_uncalibrated"] = score(model, val, 1.0)
        fields["val_metrics"] = score(model, val, gain)
    return update_sidecar(path, fields)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m train.calibrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="checkpoint names or paths (default: every checkpoint in weights/)")
    ap.add_argument("--images", type=int, default=100, help="training images to calibrate on")
    ap.add_argument("--max-ciede-rise", type=float, default=0.05)
    ap.add_argument("--max-psnr-drop", type=float, default=0.1, help="dB below the most accurate gain's PSNR")
    ap.add_argument("--weights", type=Path, default=None, help="weights directory")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.names or [m.name for m in list_checkpoints(args.weights)]
    for name in names:
        path = resolve(name, args.weights)
        command = (f"python -m train.calibrate {shlex.quote(path.stem)} --images {args.images} "
                   f"--max-ciede-rise {args.max_ciede_rise:g} --max-psnr-drop {args.max_psnr_drop:g}")
        meta = calibrate(path, args.images, args.max_ciede_rise, args.max_psnr_drop, command)
        v, u = meta.val_metrics, meta.extra.get("val_metrics_uncalibrated", {})
        print(f"{meta.name}: gain {meta.chroma_gain:.2f}; val PSNR {u.get('psnr', float('nan')):.2f} -> "
              f"{v.get('psnr', float('nan')):.2f}, CIEDE2000 {u.get('ciede2000', float('nan')):.2f} -> "
              f"{v.get('ciede2000', float('nan')):.2f}, colourfulness {u.get('colorfulness', float('nan')):.1f} -> "
              f"{v.get('colorfulness', float('nan')):.1f} (truth {v.get('truth_colorfulness', float('nan')):.1f})",
              flush=True)


if __name__ == "__main__":
    main()
