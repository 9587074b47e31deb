"""Quality against the number of colour hints, per space and category, on the val sets.

For every hint-aware matrix checkpoint ({lab,hsv,rgb}-{category}) and every setting —
no hints, K = 1, 2, 5, 10, 20, 50 simulated point hints, and the tint alone — each val
photo is colorized with hints simulated from it (``colorlab.hints.simulate``, seed
``--seed``) and scored (PSNR, CIEDE2000). Each model is also given one point of a foreign
colour (``lone_point``), to measure how far a single hint reaches (``spill``). Beside them: the grey
input, the flat tint and the naive propagation of the same hints (``colorlab.hints.baselines``), and, when
``--auto`` holds them, the automatic checkpoints the hint-aware ones were fine-tuned
from (no hints). Per-image scores go to docs/hints_curve.json (so comparisons can be
paired), the curve to docs/hints_curve.png and a table to docs/hints.md between
``<!-- hints:start -->`` and ``<!-- hints:end -->``.

    python -m train.hints_curve [--categories faces ...] [--limit N]   # score, then write
    python -m train.hints_curve --from-json                            # only rewrite figure and table
    python -m train.hints_curve --rescore [p10 lone_spill ...]         # point settings again, rest kept
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from colorlab.checkpoints import CATEGORIES, load_checkpoint
from colorlab.colorspaces import rgb_to_grey, rgb_to_lab
from colorlab.hints import NO_HINTS, POINT_REACH, ab_to_hex, make_hints, simulate
from colorlab.hints.baselines import flat_tint, guided_propagate, propagate
from colorlab.imaging import array_to_tensor, tensor_to_array
from colorlab.metrics import ciede2000, grey_baseline, psnr
from colorlab.pipeline import accepts_hints, predict
from colorlab.tools import docblocks

from .data import load_folder
from .paths import ROOT

POINTS = (0, 1, 2, 5, 10, 20, 50)
SETTINGS = [f"p{k}" for k in POINTS] + ["tint"]
SPACES = ("lab", "hsv", "rgb")
COMMAND = "python -m train.hints_curve"


def setting_hints(setting: str, photo: np.ndarray, seed: int):
    if setting == "tint":
        return simulate(photo, 0, tint=True, seed=seed)
    k = int(setting[1:])
    return simulate(photo, k, seed=seed) if k else NO_HINTS


SPILL_DE = 10.0   # CIE a, b change that counts as a pixel recoloured
LOCALITY_TARGET = 0.20   # issue 21: one foreign point recolours at most this share of a photo, on average


def lone_point(photo: np.ndarray, seed: int):
    """One point hint at a random place (deterministic in (photo, seed)) whose colour is
    foreign to the photo: chroma 40 opposite the truth's hue there."""
    h, w = photo.shape[:2]
    fx, fy = np.random.default_rng([seed, h, w, int(photo[h // 2, w // 2].sum())]).random(2)
    r, c = min(int(fy * h), h - 1), min(int(fx * w), w - 1)
    a, b = rgb_to_lab(array_to_tensor(photo[r:r + 1, c:c + 1]))[0, 1:, 0, 0].tolist()
    angle = float(np.arctan2(b, a)) + np.pi
    return make_hints([(float(fx), float(fy), ab_to_hex((40 * np.cos(angle), 40 * np.sin(angle))))])


def spill(model, photo: np.ndarray, seed: int) -> float:
    """The share of pixels a ``lone_point`` recolours (CIE a, b moved by more than SPILL_DE
    from the output without hints): 1 means one point repainted the whole photo."""
    grey = rgb_to_grey(array_to_tensor(photo))
    ab = [rgb_to_lab(predict(model, grey, hints=h))[0, 1:] for h in (NO_HINTS, lone_point(photo, seed))]
    return float(((ab[1] - ab[0]).norm(dim=0) > SPILL_DE).float().mean())


def _scores(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return min(psnr(pred, truth), 100.0), ciede2000(pred, truth)


def score_model(model, photos: list[np.ndarray], settings, seed: int, locality: bool = False) -> dict:
    """setting -> {"psnr": [...], "ciede2000": [...]} per photo; with ``locality`` also
    "lone_spill" -> [``spill``] per photo."""
    out = {}
    for s in settings:
        rows = []
        for photo in photos:
            hints = setting_hints(s, photo, seed)
            rgb = predict(model, rgb_to_grey(array_to_tensor(photo)), hints=hints)
            rows.append(_scores(tensor_to_array(rgb), photo))
        out[s] = {"psnr": [r[0] for r in rows], "ciede2000": [r[1] for r in rows]}
    if locality:
        out["lone_spill"] = [spill(model, photo, seed) for photo in photos]
    return out


def score_baselines(photos: list[np.ndarray], seed: int) -> dict:
    """grey, flat tint (true cast), and the naive and the lightness-guided propagation of each
    K's simulated points."""
    out = {"grey": [_scores(grey_baseline(p), p) for p in photos],
           "flat_tint": [_scores(flat_tint(p, simulate(p, 0, True, seed).tint), p) for p in photos]}
    for k in POINTS[1:]:
        out[f"propagation_p{k}"] = [_scores(propagate(p, simulate(p, k, seed=seed)), p) for p in photos]
        out[f"guided_p{k}"] = [_scores(guided_propagate(p, simulate(p, k, seed=seed)), p) for p in photos]
    return {name: {"psnr": [r[0] for r in rows], "ciede2000": [r[1] for r in rows]} for name, rows in out.items()}


def score_category(category: str, weights: Path, auto: Path | None, data_root: Path, limit, seed: int) -> dict:
    val = data_root / category / "val"
    photos, val_hash, _ = load_folder(val, limit=limit)
    from colorlab.imaging import find_images
    names = [p.name for p in find_images(val)][:len(photos)]
    entry = {"category": category, "val_dir": str(val), "val_sha256": val_hash, "photos": names, "seed": seed,
             "models": {}, "automatic": {}, "baselines": score_baselines(photos, seed)}
    for space in SPACES:
        name = f"{space}-{category}"
        path = weights / f"{name}.safetensors"
        if path.is_file():
            model = load_checkpoint(path)
            if accepts_hints(model):
                entry["models"][space] = {"sha256": model.meta.sha256,
                                          **score_model(model, tqdm(photos, desc=name, file=sys.stderr), SETTINGS, seed,
                                                                      locality=True)}
        if auto is not None and (auto / f"{name}.safetensors").is_file():
            model = load_checkpoint(auto / f"{name}.safetensors")
            entry["automatic"][space] = {"sha256": model.meta.sha256, **score_model(model, photos, ["p0"], seed)}
    return entry


POINT_SETTINGS = [s for s in SETTINGS if s not in ("p0", "tint")]


def rescore_category(entry: dict, weights: Path, data_root: Path, settings, seed: int, spaces=SPACES) -> dict:
    """``entry`` (a category scored before) with ``settings`` (and "lone_spill") scored again
    for its hint-aware models, on the same val photos; the rest (no hints, the tint alone, the
    baselines, the automatic models) is kept. For a change that only touches point hints
    (``colorlab.hints.encoding.confidence``): refuses if the val set or a model changed."""
    val = data_root / entry["category"] / "val"
    photos, val_hash, _ = load_folder(val, limit=len(entry["photos"]))
    if val_hash != entry["val_sha256"]:
        raise SystemExit(f"{val}: the val photos changed since they were scored; score them afresh")
    for space, scored in entry["models"].items():
        if space not in spaces:
            continue
        model = load_checkpoint(weights / f"{space}-{entry['category']}.safetensors")
        if model.meta.sha256 != scored["sha256"]:
            raise SystemExit(f"{space}-{entry['category']}: other weights than the ones scored; score afresh")
        todo = [s for s in settings if s in SETTINGS]
        scored.update(score_model(model, tqdm(photos, desc=f"{space}-{entry['category']}", file=sys.stderr), todo,
                                  seed, locality="lone_spill" in settings))
    entry["rescored"] = sorted(set(entry.get("rescored", [])) | set(settings))
    return entry


# ---------------------------------------------------------------- summary, figure, table

def mean(entry: dict, metric: str) -> float:
    return float(np.mean(entry[metric]))


def bars(cat: dict) -> list[dict]:
    """The issue's bar for the category's best matrix model in each setting (by PSNR)."""
    models, base = cat["models"], cat["baselines"]
    if not models:
        return []

    def best(setting):
        space = max(models, key=lambda s: mean(models[s][setting], "psnr"))
        return space, mean(models[space][setting], "psnr")
    out = []
    s, v = best("tint")
    ft = mean(base["flat_tint"], "psnr")
    need = ft + (1.0 if cat.get("category") == "faces" else -0.1)
    out.append({"setting": "tint alone", "model": s, "psnr": v, "against": "flat tint", "baseline": ft,
                "needed": need, "holds": v >= need})
    s, v = best("p10")
    prop = mean(base["propagation_p10"], "psnr")
    out.append({"setting": "10 points", "model": s, "psnr": v, "against": "naive propagation", "baseline": prop,
                "needed": prop + 0.5, "holds": v >= prop + 0.5})
    if cat["automatic"]:
        s, v = best("p0")
        auto = max(mean(a["p0"], "psnr") for a in cat["automatic"].values())
        out.append({"setting": "no hints", "model": s, "psnr": v, "against": "best automatic model", "baseline": auto,
                    "needed": auto - 0.2, "holds": v >= auto - 0.2})
    return out


def table(results: dict) -> str:
    lines = [f"Generated by `{COMMAND}` from docs/hints_curve.json: mean PSNR dB (CIEDE2000) over each "
             "category's val photos, hints simulated from the photo itself (seed "
             f"{next(iter(results.values()))['seed']}): K random pixels with their true colour, or the true "
             "mean a, b as the tint. Naive propagation spreads the same points' a, b by inverse-distance "
             "weighting; the flat tint puts the true mean a, b everywhere. The guided spread also weights by "
             "closeness in L* (`colorlab.hints.baselines.guided_propagate`): it is what the guided models are "
             "given, shown so that what their network adds can be seen; it is not the bar's baseline.", "",
             "| category | hints | LAB | HSV | RGB | naive baseline | guided spread | grey |",
             "|---|---|---|---|---|---|---|---|"]
    for cat_name, cat in results.items():
        base, models = cat["baselines"], cat["models"]
        g = base["grey"]
        for s in SETTINGS:
            label = "tint only" if s == "tint" else f"{s[1:]} points"
            cells = [(f"{mean(models[sp][s], 'psnr'):.2f} ({mean(models[sp][s], 'ciede2000'):.2f})"
                      if sp in models else "-") for sp in SPACES]
            b = base["flat_tint"] if s == "tint" else base.get(f"propagation_{s}")
            bname = "flat tint " if s == "tint" else ""
            bcell = f"{bname}{mean(b, 'psnr'):.2f} ({mean(b, 'ciede2000'):.2f})" if b else "-"
            gd = base.get(f"guided_{s}")
            gcell = f"{mean(gd, 'psnr'):.2f} ({mean(gd, 'ciede2000'):.2f})" if gd else "-"
            lines.append(f"| {cat_name} | {label} | " + " | ".join(cells)
                         + f" | {bcell} | {gcell} | {mean(g, 'psnr'):.2f} ({mean(g, 'ciede2000'):.2f}) |")
    lines += ["", "**Hint bar** (best matrix model of each category, PSNR on val):", "",
              "| category | setting | model | PSNR dB | against | baseline | needed | bar |",
              "|---|---|---|---|---|---|---|---|"]
    for cat_name, cat in results.items():
        for b in bars(dict(cat, category=cat_name)):
            lines.append(f"| {cat_name} | {b['setting']} | {b['model']}-{cat_name} | {b['psnr']:.2f} | "
                         f"{b['against']} | {b['baseline']:.2f} | {b['needed']:.2f} | "
                         f"{'holds' if b['holds'] else '**fails**'} |")
    spills = {c: {sp: m["lone_spill"] for sp, m in cat["models"].items() if "lone_spill" in m}
              for c, cat in results.items()}
    if any(spills.values()):
        lines += ["", f"**One point stays local**: a lone point of a foreign colour (chroma 40, opposite the "
                  f"truth's hue there) at a random place; the share of pixels whose a, b it moves by more than "
                  f"{SPILL_DE:g} from the output without hints (mean over the val photos; 100% would be the whole "
                  f"photo repainted; target: at most {100 * LOCALITY_TARGET:.0f}% for every model). The point's say is "
                  f"its confidence (`colorlab.hints.confidence`): the lightness-guided geodesic distance to it "
                  f"against the reach ({POINT_REACH:g} x the short side), so it colours the surface it was put on, "
                  f"bounded by the photo's edges; many points together speak for the whole photo.", "",
                  "| category | LAB | HSV | RGB |", "|---|---|---|---|"]
        for c, by_space in spills.items():
            lines.append(f"| {c} | " + " | ".join(f"{100 * np.mean(by_space[sp]):.0f}%" if sp in by_space else "-"
                                                for sp in SPACES) + " |")
    # the link is relative to docs/hints.md
    rescored = sorted({s for cat in results.values() for s in cat.get("rescored", [])})
    if rescored:
        cats = [c for c, cat in results.items() if cat.get("rescored")]
        stale = [s for s in POINT_SETTINGS if s not in rescored]
        lines += ["", f"Re-scored with the current confidence (`{COMMAND} --rescore`): {', '.join(rescored)}, for "
                  f"{', '.join(cats)}. No hints, the tint alone, the baselines and the automatic models, which point "
                  "hints do not touch, are from the full run before it"
                  + (f"; so are {', '.join(stale)}, scored with the former confidence" if stale else "")
                  + (f"; {', '.join(c for c in results if c not in cats)} is still entirely the former confidence's."
                     if len(cats) < len(results) else ".")]
    lines += ["", "![PSNR and CIEDE2000 against the number of point hints](hints_curve.png)"]
    return "\n".join(lines) + "\n"


def figure(results: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cats = list(results)
    fig, axes = plt.subplots(2, len(cats), figsize=(4.2 * len(cats), 6.2), squeeze=False)
    xs = [k if k else 0.5 for k in POINTS]      # K = 0 drawn at 0.5 on the log axis
    colours = {"lab": "tab:blue", "hsv": "tab:orange", "rgb": "tab:green"}
    for j, c in enumerate(cats):
        cat = results[c]
        for i, metric in enumerate(("psnr", "ciede2000")):
            ax = axes[i][j]
            for sp, m in cat["models"].items():
                ax.plot(xs, [mean(m[f"p{k}"], metric) for k in POINTS], marker="o", color=colours[sp], label=sp.upper())
                ax.scatter([90], [mean(m["tint"], metric)], marker="*", s=90, color=colours[sp])
            prop = [mean(cat["baselines"]["flat_tint" if k == 0 else f"propagation_p{k}"], metric) for k in POINTS[1:]]
            ax.plot(xs[1:], prop, ls="--", color="black", label="naive propagation")
            if f"guided_p{POINTS[1]}" in cat["baselines"]:
                guided = [mean(cat["baselines"][f"guided_p{k}"], metric) for k in POINTS[1:]]
                ax.plot(xs[1:], guided, ls="-.", color="dimgrey", label="guided spread")
            ax.scatter([90], [mean(cat["baselines"]["flat_tint"], metric)], marker="x", color="black",
                       label="flat tint (x=tint)")
            ax.axhline(mean(cat["baselines"]["grey"], metric), ls=":", color="grey", label="grey input")
            ax.set_xscale("log")
            ax.set_xticks(xs + [90], ["0", "1", "2", "5", "10", "20", "50", "tint"])
            ax.set_title(f"{c}: {'PSNR dB ↑' if metric == 'psnr' else 'CIEDE2000 ↓'}")
            if i == 1:
                ax.set_xlabel("point hints (tint: the tint alone)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_outputs(results: dict, out: Path, fig: Path, page: Path) -> None:
    """The scores to ``out`` (JSON), the curve to ``fig`` and the table into ``page``'s hints block."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results) + "\n")
    figure(results, fig)
    try:
        docblocks.write(page, "hints", table(results))
    except ValueError as exc:
        print(f"{exc}; table not written", file=sys.stderr)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock beside ``path`` (``path``.lock) for a read-modify-write of it."""
    with open(f"{path}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    ap.add_argument("--categories", nargs="*", default=list(CATEGORIES))
    ap.add_argument("--weights", type=Path, default=ROOT / "weights")
    ap.add_argument("--auto", type=Path, default=ROOT / "runs" / "auto",
                    help="the automatic checkpoints the hint-aware ones started from (scored without hints if there)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--limit", type=int, default=None, help="score only the first N val photos")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "hints_curve.json")
    ap.add_argument("--figure", type=Path, default=ROOT / "docs" / "hints_curve.png")
    ap.add_argument("--page", type=Path, default=docblocks.page("hints"), help="page whose hints block is filled")
    ap.add_argument("--from-json", action="store_true", help="rewrite figure and table from --out only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--spaces", nargs="*", default=list(SPACES), help="with --rescore: only these models")
    ap.add_argument("--rescore", nargs="*", metavar="SETTING",
                    help="score only these settings again (p1 ... p50, lone_spill; none given: every point setting "
                         "and lone_spill) on the photos already in --out, keeping the rest")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    if not args.from_json:
        with torch.inference_mode():
            for c in args.categories:
                if args.rescore is not None:
                    entry = rescore_category(results[c], args.weights, args.data,
                                             args.rescore or POINT_SETTINGS + ["lone_spill"], results[c]["seed"],
                                             args.spaces)
                    with _locked(args.out):   # other processes may be re-scoring other models of the category
                        merged = json.loads(args.out.read_text())
                        for sp in args.spaces:
                            if sp in entry["models"]:
                                merged[c]["models"][sp] = entry["models"][sp]
                        merged[c]["rescored"] = sorted(set(merged[c].get("rescored", [])) | set(entry["rescored"]))
                        args.out.write_text(json.dumps(merged) + "\n")
                        results = merged
                    continue
                else:
                    results[c] = score_category(c, args.weights, args.auto if args.auto.is_dir() else None,
                                                args.data, args.limit, args.seed)
                # Re-read before merging: another process may be scoring other categories.
                merged = json.loads(args.out.read_text()) if args.out.is_file() else {}
                results = {**merged, c: results[c]}
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results) + "\n")
    results = {c: results[c] for c in CATEGORIES if c in results}
    if not results:
        raise SystemExit(f"nothing scored in {args.out}")
    write_outputs(results, args.out, args.figure, args.page)
    for c, cat in results.items():
        for b in bars(dict(cat, category=c)):
            print(f"{c}: {b['setting']}: {b['model']} {b['psnr']:.2f} dB vs {b['against']} {b['baseline']:.2f} "
                  f"(needs {b['needed']:.2f}): {'holds' if b['holds'] else 'FAILS'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
