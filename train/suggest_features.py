"""Scene features and true casts of a folder of colour photos, cached on disk (resumable).

For each photo: ``colorlab.scene.scene_features`` of its grey version and its cast (mean
CIE a, b of the colour photo). Written in chunks under ``--cache`` (default
runs/suggest/features), so an interrupted run resumes where it stopped.

    python -m train.suggest_features --category general [--split train] [--data /work/shared/data]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from colorlab.diagnostics import colour_cast
from colorlab.imaging import find_images, load_image
from colorlab.pipeline import grey_tensor
from colorlab.scene import scene_features

CHUNK = 200
CACHE = Path("runs/suggest/features")
DATA_ROOT = Path(os.environ.get("COLORLAB_DATA", "/work/shared/data"))   # CATEGORY/{train,val}


def features(folder: Path, cache: Path, chunk: int = CHUNK) -> dict:
    """{"files": names (N,), "features": float32 (N, D), "casts": float32 (N, 2)} for every photo
    in ``folder`` (sorted), computing only the chunks not yet in ``cache``."""
    files = find_images(folder)
    cache.mkdir(parents=True, exist_ok=True)
    parts = []
    for start in tqdm(range(0, len(files), chunk), desc=folder.name, unit="chunk", file=sys.stderr):
        names = [f.name for f in files[start:start + chunk]]
        path = cache / f"{start:06d}.npz"
        if path.is_file():
            part = np.load(path)
            if list(part["files"]) == names:
                parts.append(dict(part))
                continue
        feats, casts = [], []
        for f in files[start:start + chunk]:
            arr = np.asarray(load_image(f))
            feats.append(scene_features(grey_tensor(arr))[0])
            casts.append(colour_cast(arr))
        part = {"files": np.array(names), "features": np.array(feats, np.float32), "casts": np.array(casts, np.float32)}
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, **part)
        tmp.replace(path)
        parts.append(part)
    return {k: np.concatenate([p[k] for p in parts]) for k in ("files", "features", "casts")}


def cached(category: str, split: str, data: Path = DATA_ROOT, cache: Path = CACHE) -> dict:
    return features(Path(data) / category / split, Path(cache) / f"{category}-{split}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.suggest_features", description=__doc__.split("\n\n")[0])
    ap.add_argument("--category", action="append", required=True, help="category folder (repeatable)")
    ap.add_argument("--split", action="append", help="train and/or val (default both)")
    ap.add_argument("--data", type=Path, default=DATA_ROOT)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    for cat in args.category:
        for split in args.split or ("val", "train"):
            out = cached(cat, split, args.data, args.cache)
            print(f"{cat}/{split}: {len(out['files'])} photos, features {out['features'].shape}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
