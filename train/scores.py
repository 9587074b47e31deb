"""``python -m train.scores``: per-image val metrics of every checkpoint, the raw material
of the intervals in the results table (``train.report``) and of the claims (``train.claims``).

Each checkpoint is scored on its category's full val set through the inference path the
app uses (``colorlab.pipeline.predict``, as ``train.trainer.evaluate`` does); the
general matrix models (``{space}-general``) also on the faces and landscapes val sets,
so a category model can be compared with the general one on the same photos. Per
photo, keyed by its file name under the val folder:

    psnr (capped at 100 dB), ssim, ciede2000, colorfulness,
    hue_artifact  (``diagnostics.hue_artifact_map`` against the truth: mean
                   saturation-weighted circular hue error, in turns),
    hue_speckle   (the same map without a reference: speckle and wrap-around seams)

in *variants*: ``shipped`` (the calibrated chroma gain, as the app colorizes),
``raw`` (gain 1: the network's own output; recorded as the same as ``shipped`` when
the gain is 1) and, with ``--hints`` for checkpoints that take colour hints,
``hints-10`` (10 simulated point hints, ``colorlab.hints.simulate``) and ``tint``
(the true cast only), on the checkpoint's own category. ``grey.json`` holds the grey input's metrics and each photo's
true colourfulness. A checkpoint whose scores are already there for the same weights,
gain, val data and variants is skipped (``--force`` re-scores).

    python -m train.scores [NAME ...] [--weights-dir weights] [--out docs/scores] [--jobs 2] [--hints]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from .paths import ROOT, checkpoint_file, val_dir

DEFAULT_OUT = ROOT / "docs" / "scores"
METRICS = ("psnr", "ssim", "ciede2000", "colorfulness", "hue_artifact", "hue_speckle")
PSNR_CAP = 100.0
GREY = "grey"
HINT_POINTS = 10
CROSS_CATEGORIES = ("faces", "landscapes")   # where the {space}-general models are also scored


def _round(v: float) -> float:
    return float(f"{v:.6g}")


# ---------------------------------------------------------------- scoring

def read_val(folder: Path):
    """(relative file names, uint8 arrays, sha256, skipped) of the images under ``folder``,
    in ``train.data.load_folder``'s order and with its hash (so it matches the sidecar's)."""
    from .data import read_images
    files, images, digest, skipped = read_images(Path(folder))
    return files, [np.asarray(img) for img in images], digest, skipped


def image_metrics(pred: np.ndarray, truth: np.ndarray, truth_lab: np.ndarray) -> dict:
    """The per-photo metrics of ``pred`` (uint8 (H,W,3)) against ``truth``; ``truth_lab`` is
    ``skimage.color.rgb2lab(truth)``, computed once per photo. Same definitions as
    ``colorlab.metrics`` (CIEDE2000 of truth against prediction, D65)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    from colorlab import metrics
    from colorlab.diagnostics import hue_artifact_map
    return {"psnr": min(metrics.psnr(pred, truth), PSNR_CAP), "ssim": metrics.ssim(pred, truth),
            "ciede2000": float(deltaE_ciede2000(truth_lab, rgb2lab(pred)).mean()),
            "colorfulness": metrics.colorfulness(pred),
            "hue_artifact": hue_artifact_map(pred, truth)[1], "hue_speckle": hue_artifact_map(pred)[1]}


def _columns(rows: list[dict]) -> dict:
    return {k: [_round(r[k]) for r in rows] for k in METRICS}


class ValSet:
    """One val folder, decoded once, with each photo's grey input and CIELAB truth."""

    def __init__(self, folder: Path):
        from skimage.color import rgb2lab

        from colorlab.colorspaces import rgb_to_grey
        from colorlab.imaging import array_to_tensor
        self.folder = Path(folder)
        self.files, self.arrays, self.sha256, self.skipped = read_val(folder)
        self.greys = [rgb_to_grey(array_to_tensor(a)) for a in self.arrays]
        self.labs = [rgb2lab(a) for a in self.arrays]


def variant_fns(model, hints: bool) -> dict:
    """name -> fn(grey tensor, truth array) -> prediction uint8; see the module docstring."""
    from colorlab.imaging import tensor_to_array
    from colorlab.pipeline import accepts_hints, predict

    raw = dataclasses.replace(model, chroma_gain=1.0)
    fns = {"shipped": lambda g, t: tensor_to_array(predict(model, g)),
           "raw": lambda g, t: tensor_to_array(predict(raw, g))}
    if hints and accepts_hints(model):
        from colorlab.hints import simulate
        fns[f"hints-{HINT_POINTS}"] = lambda g, t: tensor_to_array(predict(model, g, hints=simulate(t, HINT_POINTS)))
        fns["tint"] = lambda g, t: tensor_to_array(predict(model, g, hints=simulate(t, 0, tint=True)))
    return fns


def score_set(model, val: ValSet, hints: bool = False) -> dict:
    """Per-photo metrics of ``model`` on ``val`` in every variant (columns in file order)."""
    variants = {}
    for name, fn in variant_fns(model, hints).items():
        if name == "raw" and model.chroma_gain == 1.0:
            variants["raw"] = {"same_as": "shipped"}
            continue
        rows = [image_metrics(fn(g, t), t, lab) for g, t, lab in zip(val.greys, val.arrays, val.labs)]
        gain = model.chroma_gain if name == "shipped" else 1.0    # with hints the pipeline applies no gain
        variants[name] = {"gain": gain, "metrics": _columns(rows)}
    return variants


def grey_set(val: ValSet) -> dict:
    from colorlab.metrics import colorfulness, grey_baseline
    rows = [image_metrics(grey_baseline(t), t, lab) for t, lab in zip(val.arrays, val.labs)]
    return {"val_dir": _shown(val.folder), "val_sha256": val.sha256, "files": val.files,
            "truth_colorfulness": [_round(colorfulness(t)) for t in val.arrays],
            "variants": {GREY: {"metrics": _columns(rows)}}}


def _shown(path: Path) -> str:
    """A path as recorded: relative to the repository root when it lies under it or beside it."""
    import os
    return Path(os.path.relpath(Path(path).resolve(), ROOT)).as_posix()


# ---------------------------------------------------------------- which checkpoints, which sets

def sets_for(meta: dict, data_root: Path | None, cross: bool = True) -> dict[str, Path]:
    """category -> val folder: the checkpoint's own, plus faces and landscapes for ``{space}-general``."""
    own = val_dir(meta, data_root)
    if own is None:
        return {}
    cat = meta.get("category", "?")
    out = {cat: own}
    if cross and meta.get("name") == f"{meta.get('space')}-general":
        root = Path(data_root) if data_root is not None else own.parent.parent
        for other in CROSS_CATEGORIES:
            if other != cat:
                out[other] = root / other / "val"
    return out


def up_to_date(old: dict | None, meta: dict, sets: dict[str, str], hints: bool) -> bool:
    """Whether ``old`` (a scores file) already scores these weights, gain, val data and variants."""
    if not old or old.get("weights_sha256") != meta.get("sha256"):
        return False
    if float(old.get("chroma_gain", 1.0)) != float(meta.get("chroma_gain", 1.0)):
        return False
    for cat, sha in sets.items():
        s = (old.get("sets") or {}).get(cat)
        if not s or s.get("val_sha256") != sha:
            return False
        if hints and old.get("takes_hints") and cat == meta.get("category") and \
                not {f"hints-{HINT_POINTS}", "tint"} <= set(s.get("variants", {})):
            return False
    return True


_VAL_CACHE: dict[Path, ValSet] = {}


def _val(folder: Path) -> ValSet:
    folder = Path(folder).resolve()
    if folder not in _VAL_CACHE:
        _VAL_CACHE[folder] = ValSet(folder)
    return _VAL_CACHE[folder]


def score_checkpoint(path: Path, sets: dict[str, Path], hints: bool, threads: int = 1) -> dict:
    """The scores file of the checkpoint at ``path`` on ``sets`` (category -> val folder)."""
    import torch

    from colorlab.checkpoints import load_checkpoint
    from colorlab.pipeline import accepts_hints
    torch.set_num_threads(threads)
    model = load_checkpoint(path)
    meta = model.meta
    out = {"name": meta.name, "space": meta.space, "category": meta.category,
           "architecture": meta.architecture, "loss": meta.loss,
           "chroma_gain": model.chroma_gain, "weights_sha256": meta.sha256,
           "takes_hints": accepts_hints(model), "sets": {}}
    for cat, folder in sets.items():
        val = _val(folder)
        out["sets"][cat] = {"val_dir": _shown(val.folder), "val_sha256": val.sha256, "files": val.files,
                            "variants": score_set(model, val, hints and cat == meta.category)}
    return out


def _work(job):
    path, sets, hints, threads = job
    t0 = time.time()
    return score_checkpoint(path, sets, hints, threads), time.time() - t0


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    tmp.replace(path)


def main(argv=None) -> int:
    from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints

    ap = argparse.ArgumentParser(prog="python -m train.scores", description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="checkpoint names (default: every checkpoint in --weights-dir)")
    ap.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR, help="checkpoints and sidecars (weights/)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of NAME.json and grey.json")
    ap.add_argument("--data", type=Path, help="data root with CATEGORY/val (default: each sidecar's val_dir)")
    ap.add_argument("--no-cross", action="store_true", help="score {space}-general on its own val set only")
    ap.add_argument("--hints", action="store_true",
                    help="also score hint-taking checkpoints with 10 points and tint only")
    ap.add_argument("--jobs", type=int, default=1, help="checkpoints scored at once (processes)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--force", action="store_true", help="re-score checkpoints whose scores are up to date")
    args = ap.parse_args(argv)

    models = [m.to_json() for m in list_checkpoints(args.weights_dir)]   # sidecars as JSON, as report.py reads them
    if args.names:
        missing = set(args.names) - {m["name"] for m in models}
        if missing:
            ap.error(f"no checkpoint named {sorted(missing)} in {args.weights_dir}")
        models = [m for m in models if m["name"] in args.names]
    if not models:
        ap.error(f"no checkpoints in {args.weights_dir}")
    command = "python -m train.scores " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))

    # the grey baseline first: it also tells each val set's hash, for the up-to-date check
    grey_path = args.out / f"{GREY}.json"
    grey = json.loads(grey_path.read_text()) if grey_path.is_file() else {"name": GREY, "sets": {}}
    plan, folders = [], {}
    for meta in models:
        sets = sets_for(meta, args.data, not args.no_cross)
        own = sets.get(meta.get("category"))
        if own is None or not own.is_dir():
            print(f"{meta['name']}: val folder {own or '(none recorded)'} not found; skipped", file=sys.stderr)
            continue
        for cat in [c for c, p in sets.items() if not p.is_dir()]:
            print(f"{meta['name']}: no {cat} val folder at {sets.pop(cat)}; scored without it", file=sys.stderr)
        folders.update(sets)
        plan.append((meta, sets))
    for cat, folder in folders.items():
        old = grey["sets"].get(cat)
        val = _val(folder)
        if args.force or not old or old.get("val_sha256") != val.sha256:
            grey["sets"][cat] = grey_set(val)
            print(f"grey: {cat} scored ({len(val.files)} photos, {val.skipped} unreadable)", flush=True)
    grey["command"] = command
    write_json(grey_path, grey)

    jobs = []
    for meta, sets in plan:
        target = args.out / f"{meta['name']}.json"
        old = json.loads(target.read_text()) if target.is_file() else None
        shas = {c: grey["sets"][c]["val_sha256"] for c in sets}
        if not args.force and up_to_date(old, meta, shas, args.hints):
            print(f"{meta['name']}: up to date", flush=True)
            continue
        jobs.append((checkpoint_file(meta, args.weights_dir), sets, args.hints, args.threads))
    if args.jobs > 1 and len(jobs) > 1:
        pool = multiprocessing.get_context("spawn").Pool(min(args.jobs, len(jobs)))
        results = pool.imap_unordered(_work, jobs)
    else:
        pool, results = None, map(_work, jobs)
    try:
        for data, seconds in results:
            data["command"] = command
            write_json(args.out / f"{data['name']}.json", data)
            n = sum(len(s["files"]) for s in data["sets"].values())
            print(f"{data['name']}: {n} photos on {', '.join(data['sets'])} in {seconds:.0f} s", flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return 0


# ---------------------------------------------------------------- reading scores back

class Scores:
    """Per-image scores read from one or more folders (later folders do not override earlier ones).

    ``get(name, category, variant, metric)`` -> {file: value}; the grey baseline is ``GREY``
    (any variant) and ``truth_cf(category)`` each photo's true colourfulness."""

    def __init__(self, *folders):
        self.models: dict[str, dict] = {}
        for folder in folders:
            folder = Path(folder) if folder else None
            if folder is None or not folder.is_dir():
                continue
            for p in sorted(folder.glob("*.json")):
                try:
                    data = json.loads(p.read_text())
                except (OSError, json.JSONDecodeError) as exc:
                    print(f"{p}: unreadable scores ({exc}); ignored", file=sys.stderr)
                    continue
                if isinstance(data, dict) and "sets" in data and "name" in data:
                    self.models.setdefault(data["name"], data)

    def __bool__(self) -> bool:
        return bool(self.models)

    def has(self, name: str, category: str, variant: str = "shipped") -> bool:
        return self._variant(name, category, variant) is not None

    def meta(self, name: str) -> dict:
        return self.models.get(name, {})

    def matches(self, name: str, sha256: str | None) -> bool:
        """Whether ``name``'s scores are of the weights with that sha256 (not stale)."""
        return name in self.models and (sha256 is None or self.models[name].get("weights_sha256") == sha256)

    def _variant(self, name: str, category: str, variant: str) -> dict | None:
        s = (self.models.get(name, {}).get("sets") or {}).get(category)
        if s is None:
            return None
        variants = s.get("variants", {})
        if name == GREY:
            return variants.get(GREY)
        v = variants.get(variant)
        while v is not None and "same_as" in v:
            v = variants.get(v["same_as"])
        return v

    def get(self, name: str, category: str, variant: str, metric: str) -> dict[str, float]:
        v = self._variant(name, category, variant)
        if v is None:
            raise KeyError(f"no {variant} scores of {name} on {category}")
        files = self.models[name]["sets"][category]["files"]
        return dict(zip(files, v["metrics"][metric]))

    def truth_cf(self, category: str) -> dict[str, float]:
        s = self.models.get(GREY, {}).get("sets", {}).get(category)
        if s is None:
            raise KeyError(f"no grey scores on {category}")
        return dict(zip(s["files"], s["truth_colorfulness"]))

    def aligned(self, category: str, columns) -> tuple[list[str], list[np.ndarray]]:
        """The photos every column has, and each column's values on them (same order).

        ``columns``: (name, variant, metric) triples; metric ``truth_colorfulness`` reads the truth."""
        maps = [self.truth_cf(category) if m == "truth_colorfulness" else self.get(n, category, v, m)
                for n, v, m in columns]
        files = sorted(set.intersection(*(set(m) for m in maps)))
        return files, [np.array([m[f] for f in files], dtype=np.float64) for m in maps]


if __name__ == "__main__":
    sys.exit(main())
