"""Build a category's suggestion index (``colorlab.suggestions.CastIndex``) from its TRAINING photos.

Scene features (``colorlab.scene``) and casts of every training photo (cached by
``train.suggest_features``) are standardised and projected on their first ``--dims``
principal axes (so the index is a few MB), unit-normalised and stored as float16 rows
beside the casts. The method's three knobs (how many neighbours, the softmax temperature
over their similarity, and ``own_cast_sigma``, how far the model's own cast is trusted) are
chosen together by leave-one-out on a fixed random subset of the training photos: each
photo's looks are made exactly as ``suggest`` makes them (``choose_casts``, a model's own
cast first) from the other photos, and the knobs whose best of 4 casts lies nearest the
photo's true cast win, on average over the category's hint-aware models (the index serves
all three spaces' models, each with its own cast). Val is not used. Written atomically to
weights/suggest/CATEGORY.safetensors + .json (provenance, the command, the scores, the
SHA-256 that ``load_index`` checks).

One bias to know: the models were trained on these photos, so their own casts are closer to
the truth here than on unseen photos, which favours a smaller sigma (trusting them more);
the sidecar records each own cast's mean error on the subset.

    python -m train.suggest_index --category general [--dims 128] [--out weights/suggest]
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file
from tqdm import tqdm

from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints, load_checkpoint, sha256_file
from colorlab.imaging import load_image
from colorlab.pipeline import grey_tensor
from colorlab.scene import FEATURE_DIM, FEATURE_SIDE, POOLED
from colorlab.suggestions import INDEX_DIR, CastIndex, choose_casts, own_cast

from .suggest_features import CACHE, DATA_ROOT, cached

NEIGHBOURS = (50, 100, 200, 400, 800)
TEMPERATURES = (0.05, 0.1, 0.2, 0.5)
SIGMAS = (6.0, 8.0, 12.0, 16.0, 0.0)       # 0: the own cast does not reweight
LOO_PHOTOS = 400          # training photos scored in the leave-one-out choice (a fixed random subset)
LOO_K = 4                 # looks per photo in that score (the bar's K, and what the CLI is run with)


def reduce(features: np.ndarray, dims: int) -> dict:
    """Standardisation and the first ``dims`` principal axes of ``features`` (N, D) -> the
    tensors of a ``CastIndex`` minus its rows and casts."""
    mean = features.mean(0)
    scale = features.std(0) + 1e-6
    z = (features - mean) / scale
    _, _, vt = np.linalg.svd(z - z.mean(0), full_matrices=False)
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "projection": vt[:dims].T.astype(np.float32)}


def build(features: np.ndarray, casts: np.ndarray, reduced: dict, neighbours: int, temperature: float,
          own_cast_sigma: float = 0.0) -> CastIndex:
    """The index of ``features`` (N, D) and ``casts`` (N, 2) under the reduction ``reduced``."""
    dims = reduced["projection"].shape[1]
    index = CastIndex(dict(reduced, rows=np.zeros((1, dims), np.float32), casts=casts), {
        "neighbours": neighbours, "temperature": temperature, "own_cast_sigma": own_cast_sigma})
    index.rows = index.embed(features).astype(np.float16).astype(np.float32)   # as stored
    index.casts = casts.astype(np.float64)
    return index


def hint_aware(category: str, weights_dir: Path = WEIGHTS_DIR) -> list:
    """The sidecars (``CheckpointMeta``) of ``category``'s hint-aware checkpoints: the models
    its index serves."""
    return [m for m in list_checkpoints(weights_dir) if m.category == category and m.arch_kwargs.get("hint_channels")]


def own_casts(meta, files: list, data: Path, cache: Path, weights_dir: Path) -> np.ndarray:
    """The own cast (N, 2) the checkpoint ``meta`` gives each training photo in ``files`` (of
    its category), cached as .npy beside the features (keyed by the files and the checkpoint)."""
    key = hashlib.sha256(("\n".join(files) + meta.sha256).encode()).hexdigest()[:12]
    path = Path(cache) / f"own-{meta.name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    model = load_checkpoint(Path(weights_dir) / meta.file)
    out = []
    for name in tqdm(files, desc=f"own casts {meta.name}", unit="img", file=sys.stderr):
        grey = grey_tensor(np.asarray(load_image(Path(data) / meta.category / "train" / name)))
        with torch.inference_mode():
            out.append(own_cast(model, grey)[0])
    arr = np.array(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), arr)
    path.with_suffix(".tmp.npy").replace(path)
    return arr


def loo_scores(index: CastIndex, casts: np.ndarray, rows: np.ndarray, owns: list,
               sigmas=SIGMAS, k: int = LOO_K) -> dict:
    """{sigma: mean over ``rows`` and over ``owns`` (one array (len(rows), 2) of own casts per
    model) of the distance from the true cast to the nearest of the k casts ``choose_casts``
    gives from the photo's neighbours (itself left out; the query is its own stored row) and
    that model's own cast}. A photo's neighbours do not depend on the model: found once."""
    d = {s: [] for s in sigmas}
    for j, i in enumerate(rows):
        nb, w = index.neighbours_of(index.rows[i], exclude=int(i), embedded=True)
        for own in owns:
            for s in sigmas:
                centres, _ = choose_casts(own[j], nb, w, k, sigma=s)
                d[s].append(np.hypot(*(centres - casts[i]).T).min())
    return {s: float(np.mean(v)) for s, v in d.items()}


def choose(features: np.ndarray, casts: np.ndarray, reduced: dict, owns: list,
           rows: np.ndarray) -> tuple[dict, dict]:
    """(The best {"neighbours", "temperature", "own_cast_sigma"} by leave-one-out on ``rows``,
    every option's score keyed "neighbours,temperature,sigma": ``loo_scores`` over ``owns``,
    one array (len(rows), 2) of own casts per model the index serves)."""
    index = build(features, casts, reduced, NEIGHBOURS[0], TEMPERATURES[0])   # rows embedded once
    scores = {}
    for n, t in tqdm(list(itertools.product(NEIGHBOURS, TEMPERATURES)), desc="leave-one-out", file=sys.stderr):
        index.neighbours, index.temperature = n, t
        for s, v in loo_scores(index, casts, rows, owns).items():
            scores[f"{n},{t},{s}"] = v
    best = min(scores, key=scores.get)
    n, t, s = best.split(",")
    return {"neighbours": int(n), "temperature": float(t), "own_cast_sigma": float(s)}, scores


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
    ap.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR,
                    help="where the category's hint-aware checkpoints are (their own casts)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = cached(args.category, "train", args.data, args.cache)
    feats, casts = data["features"].astype(np.float64), data["casts"].astype(np.float64)
    reduced = reduce(feats, args.dims)
    rows = np.random.default_rng(0).permutation(len(feats))[:LOO_PHOTOS]
    models = hint_aware(args.category, args.weights_dir)
    if not models:
        raise SystemExit(f"no hint-aware {args.category} checkpoint in {args.weights_dir}: their own casts are needed")
    subset = [str(data["files"][i]) for i in rows]
    owns = [own_casts(m, subset, args.data, Path(args.cache).parent, args.weights_dir) for m in models]
    params, scores = choose(feats, casts, reduced, owns, rows)
    best = sorted(scores.items(), key=lambda kv: kv[1])[:5]
    print(f"{args.category}: leave-one-out best-of-{LOO_K} cast distance, best five (neighbours,temperature,sigma): "
          + ", ".join(f"{k} {v:.3f}" for k, v in best) + f"; chosen {params}", flush=True)
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
        "own_cast_models": [{"name": m.name, "sha256": m.sha256,
                             "mean_error_on_the_subset": float(np.hypot(*(own - casts[rows]).T).mean())}
                            for m, own in zip(models, owns)],
        "leave_one_out": {"photos": len(rows), "k": LOO_K, "seed": 0,
                          "score": "mean CIE a, b distance from the true cast to the nearest suggested cast",
                          "by_neighbours_temperature_sigma": scores},
        "command": command,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print(f"wrote {args.out / meta['file']} ({meta['size_bytes'] / 1e6:.2f} MB, sha256 {meta['sha256'][:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
