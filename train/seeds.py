"""``python -m train.seeds``: the spread of val metrics over training seeds, per space.

Reads exported sidecars (files, or folders of them: e.g. the shipped ``weights/lab-faces.json``
and the extra seeds' ``runs/seeds/``) and writes, per category and space, each run's
metrics and their mean, SD (ddof 1), min, max and range to ``docs/seeds.json``.

Metrics are taken on the *raw* footing (chroma gain 1, the network's own output):
``val_metrics_uncalibrated`` of a calibrated sidecar, else ``val_metrics`` (an
uncalibrated run). With ``--scores DIR ...`` a run whose per-image scores
(``python -m train.scores``) of the same weights are there takes its metrics from them
instead (raw variant, own val set): every run then is scored by the same code, and the
hue-artefact scores get a spread too. The claims (``train.claims``) use the SD of a space to decide whether
a difference between two single runs is more than a change of seed could make.

    python -m train --config train/configs/lab-faces.yaml seed=1 name=lab-faces-seed1 export_dir=runs/seeds
    python -m train.seeds weights/lab-faces.json weights/hsv-faces.json weights/rgb-faces.json runs/seeds \
        --scores docs/scores docs/scores/seeds --out docs/seeds.json
"""
from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "seeds.json"
METRICS = ("psnr", "ssim", "ciede2000", "colorfulness", "dcf", "hue_artifact", "hue_speckle")


def sidecars(paths) -> list[tuple[Path, dict]]:
    """(path, sidecar) for every sidecar given: a .json file, or every sidecar in a folder."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = [q for q in sorted(p.glob("*.json")) if _is_sidecar(q)]
            if not found:
                raise SystemExit(f"{p}: no exported sidecars (NAME.json with val_metrics); a run directory "
                                 "has none: train with export_dir=runs/seeds and pass that folder")
            out += [(q, json.loads(q.read_text())) for q in found]
        elif p.is_file():
            meta = json.loads(p.read_text())
            if "val_metrics" not in meta:
                raise SystemExit(f"{p}: not a sidecar with val_metrics")
            out.append((p, meta))
        else:
            raise SystemExit(f"{p}: no such file or folder")
    return out


def _is_sidecar(path: Path) -> bool:
    try:
        return "val_metrics" in json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False


def raw_metrics(meta: dict) -> dict:
    """The metrics at chroma gain 1 (see the module docstring)."""
    if meta.get("val_metrics_uncalibrated"):
        return meta["val_metrics_uncalibrated"]
    if float(meta.get("chroma_gain", 1.0)) != 1.0:
        raise ValueError(f"{meta.get('name')}: calibrated (gain {meta['chroma_gain']}) without "
                         "val_metrics_uncalibrated; cannot put it on the raw footing")
    return meta["val_metrics"]


def describe(values) -> dict:
    v = np.asarray(values, dtype=np.float64)
    sd = float(v.std(ddof=1)) if v.size > 1 else None
    return {"mean": float(v.mean()), "sd": sd, "min": float(v.min()), "max": float(v.max()),
            "range": float(v.max() - v.min()), "n": int(v.size)}


def scored_metrics(meta: dict, scores) -> dict | None:
    """Means of the raw per-image scores of this run's weights on its own val set, or None."""
    name, cat = meta.get("name"), meta.get("category")
    if scores is None or not scores.matches(name, meta.get("sha256")) or not scores.has(name, cat, "raw"):
        return None
    from .scores import METRICS as SCORED
    out = {k: float(np.mean(list(scores.get(name, cat, "raw", k).values()))) for k in SCORED}
    try:
        _, (cf, truth) = scores.aligned(cat, [(name, "raw", "colorfulness"), (name, "raw", "truth_colorfulness")])
        out["dcf"] = float(abs(cf.mean() - truth.mean()))
    except KeyError:
        pass
    return out


def seed_spread(items: list[tuple[Path, dict]], scores=None) -> dict:
    """{category: {space: {"runs": [...], "stats": {metric: describe(...)}}}}; one run per
    (category, space, seed): a repeated seed is reported and left out."""
    groups: dict = {}
    seen = set()
    for path, meta in items:
        cat, space = meta.get("category", "?"), meta.get("space", "?")
        seed = int((meta.get("config") or {}).get("seed", 0))
        key = (cat, space, seed)
        if key in seen:
            print(f"{path}: {space}-{cat} seed {seed} given twice; this one left out", file=sys.stderr)
            continue
        seen.add(key)
        from_scores = scored_metrics(meta, scores)
        metrics = from_scores or raw_metrics(meta)
        groups.setdefault(cat, {}).setdefault(space, {"runs": []})["runs"].append(
            {"name": meta.get("name"), "seed": seed, "sidecar": _shown(path), "epochs": meta.get("epochs"),
             "weights_sha256": meta.get("sha256"), "source": "per-image scores" if from_scores else "sidecar",
             "metrics": {k: metrics[k] for k in METRICS if k in metrics}})
    for cat in groups.values():
        for g in cat.values():
            g["runs"].sort(key=lambda r: r["seed"])
            if len({r["source"] for r in g["runs"]}) > 1:
                print(f"{g['runs'][0]['name']} ...: some seeds from per-image scores, some from sidecars "
                      "(scored by different code); score them all with train.scores", file=sys.stderr)
            keys = [k for k in METRICS if all(k in r["metrics"] for r in g["runs"])]
            g["stats"] = {k: describe([r["metrics"][k] for r in g["runs"]]) for k in keys}
    return groups


def _shown(path: Path) -> str:
    import os
    return Path(os.path.relpath(Path(path).resolve(), ROOT)).as_posix()


def load(path: Path | None) -> dict | None:
    """``docs/seeds.json`` as written by ``main``, or None if there is none."""
    if path is None or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text())


def space_sd(seeds: dict | None, space: str, metric: str, category: str | None = None) -> float | None:
    """The seed SD of ``metric`` for ``space``: in ``category`` if measured there, else in the
    first category that has it (the seed runs are on faces); None if not measured (< 2 seeds)."""
    if not seeds:
        return None
    groups = seeds.get("groups", {})
    order = ([category] if category in groups else []) + [c for c in groups if c != category]
    for cat in order:
        sd = (((groups[cat].get(space) or {}).get("stats") or {}).get(metric) or {}).get("sd")
        if sd is not None and math.isfinite(sd):
            return float(sd)
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.seeds", description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="sidecars (NAME.json) or folders of them")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--scores", type=Path, nargs="*", default=[],
                    help="folders of per-image scores (train.scores) to take the runs' metrics from")
    args = ap.parse_args(argv)
    from .scores import Scores
    groups = seed_spread(sidecars(args.paths), Scores(*args.scores) if args.scores else None)
    command = "python -m train.seeds " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    out = {"note": "val metrics (full val set, chroma gain 1) of each training seed; SD with ddof 1",
           "command": command, "groups": groups}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    for cat, spaces in groups.items():
        for space, g in spaces.items():
            st = g["stats"]
            line = ", ".join(f"{k} {st[k]['mean']:.3f} ± {st[k]['sd']:.3f} (range {st[k]['range']:.3f})"
                             if st[k]["sd"] is not None else f"{k} {st[k]['mean']:.3f} (one run)" for k in st)
            print(f"{space}-{cat}: {len(g['runs'])} seeds; {line}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
