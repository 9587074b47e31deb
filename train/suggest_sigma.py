"""Choose ``OWN_CAST_SIGMA`` (colorlab.suggestions) on TRAINING photos, leave-one-out.

``choose_casts`` reweights the similar photos' casts by closeness to the model's own cast,
exp(-d^2 / 2 sigma^2). This scores each candidate sigma on a fixed random subset of each
category's training photos (the subset ``train.suggest_index`` scores its leave-one-out
choice on): the photo's neighbours come from the shipped index with the photo itself left
out (``CastIndex.neighbours_of(exclude=)``; the query is the photo's own row of the index,
its features as stored), its own cast from the category's lab model
(the automatic pass ``suggest`` uses), and the score is the mean CIE a, b distance from the
photo's true cast to the nearest of the K suggested casts, averaged over K = 4 and 8 and
over the categories. Val is not used.

One bias to know: the model was trained on these photos, so its own cast is closer to the
truth here than on unseen photos, which favours a smaller sigma (trusting it more); the
output records the own cast's mean error on the subset beside each score.

    python -m train.suggest_sigma [--category C ...] [--photos 400] [--out docs/suggestions_sigma.json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from colorlab.checkpoints import WEIGHTS_DIR, load_checkpoint
from colorlab.imaging import find_images, load_image
from colorlab.pipeline import grey_tensor
from colorlab.suggestions import _own_cast, choose_casts, load_index

from .suggest_features import CACHE, DATA_ROOT
from .suggest_index import LOO_PHOTOS

SIGMAS = (6.0, 8.0, 12.0, 16.0, 24.0, 0.0)      # 0: no reweighting
KS = (4, 8)
CATEGORIES = ("general", "landscapes", "faces")


def own_casts(category: str, files: list, data: Path, cache: Path, weights_dir: Path) -> np.ndarray:
    """The lab model's own cast (N, 2) of each training photo in ``files`` (cached as .npy)."""
    path = cache / f"own-{category}-{hashlib.sha256(chr(10).join(files).encode()).hexdigest()[:12]}.npy"
    if path.is_file():
        return np.load(path)
    model = load_checkpoint(weights_dir / f"lab-{category}.safetensors")
    out = []
    for name in tqdm(files, desc=f"own casts {category}", unit="img", file=sys.stderr):
        grey = grey_tensor(np.asarray(load_image(Path(data) / category / "train" / name)))
        with torch.inference_mode():
            out.append(_own_cast(model, grey)[0])
    arr = np.array(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), arr)
    path.with_suffix(".tmp.npy").replace(path)
    return arr


def score(category: str, photos: int, data: Path, cache: Path, weights_dir: Path) -> dict:
    """{sigma: mean distance to the nearest suggested cast, averaged over KS} and the own cast's error.
    A photo's query is its own row of the index (its embedded features, as stored: float16)."""
    files = [f.name for f in find_images(Path(data) / category / "train")]
    index = load_index(category)
    if hashlib.sha256("\n".join(files).encode()).hexdigest() != index.meta["train_files_sha256"]:
        raise SystemExit(f"{category}: the training photos are not the ones the index was built from")
    rows = np.random.default_rng(0).permutation(len(files))[:photos]
    own = own_casts(category, [files[i] for i in rows], data, cache.parent, weights_dir)
    true = index.casts[rows]
    out = {}
    for sigma in SIGMAS:
        d = []
        for j, i in enumerate(rows):
            nb, w = index.neighbours_of(index.rows[i], exclude=int(i), embedded=True)
            for k in KS:
                centres, _ = choose_casts(own[j], nb, w, k, sigma=sigma)
                d.append(np.hypot(*(centres - true[j]).T).min())
        out[str(sigma)] = float(np.mean(d))
    return {"distance": out, "own_cast_error": float(np.hypot(*(own - true).T).mean()), "photos": len(rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.suggest_sigma", description=__doc__.split("\n\n")[0])
    ap.add_argument("--category", action="append", choices=CATEGORIES)
    ap.add_argument("--photos", type=int, default=LOO_PHOTOS)
    ap.add_argument("--data", type=Path, default=DATA_ROOT)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR)
    ap.add_argument("--out", type=Path, default=Path("docs/suggestions_sigma.json"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    per = {c: score(c, args.photos, args.data, args.cache, args.weights_dir) for c in args.category or CATEGORIES}
    mean = {s: float(np.mean([p["distance"][s] for p in per.values()])) for s in map(str, SIGMAS)}
    best = min(mean, key=mean.get)
    for c, p in per.items():
        print(f"{c}: own cast error {p['own_cast_error']:.2f}; "
              + ", ".join(f"sigma {s} {v:.3f}" for s, v in p["distance"].items()))
    print("mean: " + ", ".join(f"sigma {s} {v:.3f}" for s, v in mean.items()) + f"; chosen {best}")
    command = "python -m train.suggest_sigma " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    if args.out:
        args.out.write_text(json.dumps({"command": command.strip(), "split": "train (leave-one-out)", "ks": KS,
                                        "chosen": float(best), "mean": mean, "per_category": per}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
