"""Where a model's colour error lies: in the image's colour cast, or in the rest.

A photo's cast is its mean CIELAB (a, b): warm indoor light, a blue sea, a green
forest. For each checkpoint, on its category's val set and through the shipped
pipeline (calibrated gain applied), this scores five images against the truth:

* grey: the input itself;
* model: the colorization;
* right cast: the colorization with its cast replaced by the truth's (its local colour kept);
* cast only: the colorization reduced to its own cast (its local colour dropped);
* grey+cast: the input tinted with the truth's cast (no local colour at all);

and how well the predicted casts follow the true ones (Pearson r over images, a and b).
If "right cast" is far above "model", the model's errors are mostly wrong casts, a
per-image quantity that needs scene-level knowledge rather than more local detail; if
it is not above "grey+cast", the model's local colour is worth nothing beyond the cast.

    python -m train.cast [NAME ...] [--weights weights] [--data DATA] [--out docs/cast.md]
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints, load_checkpoint
from colorlab.diagnostics import cast_split, colour_cast
from colorlab.metrics import grey_baseline, summarize

from .data import load_folder
from .paths import checkpoint_file, val_dir
from .trainer import colorize_arrays

VARIANTS = ("grey", "model", "right cast", "cast only", "grey+cast")


def cast_scores(model, arrays: list[np.ndarray]) -> dict:
    """{variant: metrics} for ``VARIANTS`` plus the cast correlation ``r_a``, ``r_b``."""
    pairs: dict[str, list] = {v: [] for v in VARIANTS}
    pred_casts, true_casts = [], []
    for pred, truth in colorize_arrays(model, arrays):
        grey = grey_baseline(truth)
        right, only = cast_split(pred, truth)
        for v, img in zip(VARIANTS, (grey, pred, right, only, cast_split(grey, truth)[0])):
            pairs[v].append((img, truth))
        pred_casts.append(colour_cast(pred))
        true_casts.append(colour_cast(truth))
    out = {v: summarize(p) for v, p in pairs.items()}
    p, t = np.array(pred_casts), np.array(true_casts)
    out["r_a"], out["r_b"] = (float(np.corrcoef(p[:, i], t[:, i])[0, 1]) for i in (0, 1))
    return out


def table(rows: list[tuple[str, dict]]) -> str:
    head = ("| model | images | " + " | ".join(f"PSNR {v}" for v in VARIANTS) + " | "
            + " | ".join(f"ΔE00 {v}" for v in VARIANTS) + " | cast r (a, b) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, s in rows:
        lines.append(f"| {name} | {s['model']['n']} | "
                     + " | ".join(f"{s[v]['psnr']:.2f}" for v in VARIANTS) + " | "
                     + " | ".join(f"{s[v]['ciede2000']:.2f}" for v in VARIANTS)
                     + f" | {s['r_a']:.2f}, {s['r_b']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.cast", description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="checkpoint names (default: every one in --weights)")
    ap.add_argument("--weights", type=Path, default=WEIGHTS_DIR, help="weights directory")
    ap.add_argument("--data", type=Path, help="data root with CATEGORY/val (default: each sidecar's val_dir)")
    ap.add_argument("--out", type=Path, help="also write the table (with the command) to this markdown file")
    ap.add_argument("--update", action="store_true",
                    help="with --out: re-score only the NAMEs and keep the page's other rows (both commands recorded)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    metas = [m.to_json() for m in list_checkpoints(args.weights) if not args.names or m.name in args.names]
    missing = set(args.names) - {m["name"] for m in metas}
    if missing:
        ap.error(f"no checkpoint named {sorted(missing)} in {args.weights}")
    rows, cache = [], {}
    for meta in metas:
        folder = val_dir(meta, args.data)
        if folder is None or not folder.is_dir():
            print(f"{meta['name']}: val folder {folder} not found; skipped", file=sys.stderr)
            continue
        if folder not in cache:
            cache[folder] = load_folder(folder)[0]
        rows.append((meta["name"], cast_scores(load_checkpoint(checkpoint_file(meta, args.weights)), cache[folder])))
        print(f"{meta['name']}: done", file=sys.stderr, flush=True)
    text = table(rows)
    print(text)
    if args.out:
        given = argv if argv is not None else sys.argv[1:]
        command = "python -m train.cast " + " ".join(shlex.quote(a) for a in given)
        if args.update and args.out.is_file():
            update_doc(args.out, command, text)
        else:
            write_doc(args.out, command, text)
    return 0


def update_doc(path: Path, command: str, text: str) -> None:
    """The page at ``path`` with the rows of ``text`` replacing its rows of the same models (the
    others kept, rows in name order) and ``command`` recorded under the page's first one (the
    latest first; earlier updates stay listed)."""
    old = path.read_text()
    lines = old.splitlines()
    new_rows = {r.split("|")[1].strip(): r for r in text.splitlines()[2:]}
    start = next(i for i, line in enumerate(lines) if line.startswith("| model |"))
    end = start + 2
    while end < len(lines) and lines[end].startswith("| "):
        end += 1
    rows = {r.split("|")[1].strip(): r for r in lines[start + 2:end]}
    rows.update(new_rows)
    body = lines[:start] + text.splitlines()[:2] + [rows[n] for n in sorted(rows)] + lines[end:]
    names = ", ".join(sorted(new_rows))
    note = f"Rows {names} re-scored by `{command}` ({time.strftime('%Y-%m-%d')})."
    at = next(i for i, line in enumerate(body) if line.startswith("Generated by"))
    body.insert(at + 1, "")
    body.insert(at + 2, note)
    path.write_text("\n".join(body) + "\n")


def write_doc(path: Path, command: str, text: str) -> None:
    """The table as a markdown page, with the command and what the columns mean."""
    explained = "\n\n".join(__doc__.split("\n\n")[1:-1])     # the docstring minus title and usage
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Colour cast against the rest of the error\n\nGenerated by `{command}` "
                    f"(full val sets, shipped gains).\n\n{explained}\n\n{text}\n")


if __name__ == "__main__":
    sys.exit(main())
