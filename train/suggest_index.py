"""Build a category's suggestion index (``colorlab.suggestions.CastIndex``) from its TRAINING photos.

Scene features (``colorlab.scene``) and casts of every training photo (cached by
``train.suggest_features``) are standardised and projected on their first ``--dims``
principal axes (so the index is a few MB), unit-normalised and stored as float16 rows
beside the casts. The number of neighbours and the softmax temperature are chosen by
leave-one-out on the training photos themselves (each photo's suggestions from the
others): the pair whose best of 4 casts lies closest to the photo's true cast. Val is not
used. Written atomically to weights/suggest/CATEGORY.safetensors + .json (provenance,
the command, the SHA-256 that ``load_index`` checks).

    python -m train.suggest_index --category general [--dims 128] [--out weights/suggest]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from colorlab.checkpoints import sha256_file
from colorlab.scene import FEATURE_DIM, FEATURE_SIDE, POOLED
from colorlab.suggestions import INDEX_DIR, CastIndex, weighted_kmeans

from .suggest_features import CACHE, DATA_ROOT, cached

NEIGHBOURS = (25, 50, 100)
TEMPERATURES = (0.02, 0.05, 0.1)
LOO_PHOTOS = 400          # training photos scored in the leave-one-out choice (a fixed random subset)


def reduce(features: np.ndarray, dims: int) -> dict:
    """Standardisation and the first ``dims`` principal axes of ``features`` (N, D) -> the
    tensors of a ``CastIndex`` minus its rows and casts."""
    mean = features.mean(0)
    scale = features.std(0) + 1e-6
    z = (features - mean) / scale
    _, _, vt = np.linalg.svd(z - z.mean(0), full_matrices=False)
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "projection": vt[:dims].T.astype(np.float32)}


def build(features: np.ndarray, casts: np.ndarray, reduced: dict, neighbours: int, temperature: float) -> CastIndex:
    """The index of ``features`` (N, D) and ``casts`` (N, 2) under the reduction ``reduced``."""
    dims = reduced["projection"].shape[1]
    index = CastIndex(dict(reduced, rows=np.zeros((1, dims), np.float32), casts=casts), {
        "neighbours": neighbours, "temperature": temperature})
    index.rows = index.embed(features).astype(np.float16).astype(np.float32)   # as stored
    index.casts = casts.astype(np.float64)
    return index


def best_of(index: CastIndex, features: np.ndarray, casts: np.ndarray, rows, k: int = 4) -> float:
    """Mean over ``rows`` (indices into the index's own photos) of the distance from the true
    cast to the nearest of k weighted k-means centres of its neighbours (itself left out)."""
    d = []
    for i in rows:
        nb, w = index.neighbours_of(features[i:i + 1], exclude=i)
        c = weighted_kmeans(nb, w, k)
        d.append(np.hypot(*(c - casts[i]).T).min())
    return float(np.mean(d))


def choose(features: np.ndarray, casts: np.ndarray, reduced: dict, seed: int = 0) -> tuple[dict, dict]:
    """(The best {"neighbours", "temperature"} by leave-one-out, every option's score)."""
    rows = np.random.default_rng(seed).permutation(len(features))[:LOO_PHOTOS]
    scores = {}
    for n in NEIGHBOURS:
        for t in TEMPERATURES:
            scores[f"{n},{t}"] = best_of(build(features, casts, reduced, n, t), features, casts, rows)
    best = min(scores, key=scores.get)
    n, t = best.split(",")
    return {"neighbours": int(n), "temperature": float(t)}, scores


def write_index(index: CastIndex, out: Path, meta: dict) -> dict:
    """``out``/CATEGORY.safetensors and .json, each written to a temp name then renamed."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{meta['category']}.safetensors"
    tensors = {"mean": index.mean, "scale": index.scale, "projection": index.projection,
               "rows": index.rows.astype(np.float16), "casts": index.casts.astype(np.float32)}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp))
    tmp.replace(path)
    path.chmod(0o644)
    meta = dict(meta, file=path.name, sha256=sha256_file(path), size_bytes=path.stat().st_size)
    side = path.with_suffix(".json")
    tmp = side.with_name(f".{side.name}.tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    tmp.replace(side)
    side.chmod(0o644)
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.suggest_index", description=__doc__.split("\n\n")[0])
    ap.add_argument("--category", required=True)
    ap.add_argument("--dims", type=int, default=128, help="principal axes kept (default 128)")
    ap.add_argument("--data", type=Path, default=DATA_ROOT)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--out", type=Path, default=INDEX_DIR)
    args = ap.parse_args(argv)
    data = cached(args.category, "train", args.data, args.cache)
    feats, casts = data["features"].astype(np.float64), data["casts"].astype(np.float64)
    reduced = reduce(feats, args.dims)
    params, scores = choose(feats, casts, reduced)
    print(f"{args.category}: leave-one-out best-of-4 cast distance by (neighbours, temperature): "
          + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()) + f"; chosen {params}", flush=True)
    index = build(feats, casts, reduced, **params)
    names = "\n".join(str(f) for f in data["files"]).encode()
    args_given = argv if argv is not None else sys.argv[1:]
    command = "python -m train.suggest_index " + " ".join(shlex.quote(a) for a in args_given)
    meta = write_index(index, args.out, {
        "name": f"suggest-{args.category}", "kind": "suggestion index", "category": args.category,
        "photos": len(feats), "train_dir": str(Path(args.data) / args.category / "train"),
        "train_files_sha256": hashlib.sha256(names).hexdigest(), "dims": args.dims, **params,
        "features": {"encoder": "ImageNet MobileNetV2, torchvision mobilenet_v2-b0353104.pth, frozen",
                     "pooled_layers": list(POOLED), "short_side": FEATURE_SIDE, "dim": FEATURE_DIM},
        "leave_one_out_best_of_4_cast_distance": scores, "command": command,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print(f"wrote {args.out / meta['file']} ({meta['size_bytes'] / 1e6:.2f} MB, sha256 {meta['sha256'][:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
