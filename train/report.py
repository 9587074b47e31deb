"""``python -m train.report``: the results of every checkpoint in weights/.

Reads each checkpoint's sidecar (val metrics and the grey-input baseline, which the
trainer computed on the category's full val set, plus training times) and writes

* docs/results.md, between ``<!-- results:start -->`` and ``<!-- results:end -->`` (the page's
  prose around it is left alone; a missing page is created): the results table (every metric
  next to the grey baseline, the best model per category marked), the quality bar per
  category, training times;
* README.md, between ``<!-- headline:start -->`` and ``<!-- headline:end -->`` if both markers
  are there: the headline table (per category its best model against grey, and the bar);
* docs/examples.png: for a few val images per category a row of grey input, the
  colorization by each space's ``{space}-{category}`` checkpoint, and the truth.

``--recompute`` re-scores every checkpoint on its val set through colorlab's
inference pipeline instead of trusting the sidecars.

With per-image scores (``python -m train.scores``, docs/scores/) of the same weights,
every metric of the table comes from them with its 95% bootstrap interval over the
photos, and paired bootstrap intervals of the differences follow: each model against
the grey input, space against space within a category (the matrix models), and each
category model against the general model of its space on the category's photos.
Checkpoints without up-to-date scores keep their sidecar's numbers, without intervals.

The quality bar, per category: every model beats the grey input on CIEDE2000 and
PSNR; the best model (lowest CIEDE2000, the trainer's own selection criterion) gains
at least 1.5 dB PSNR over grey and its mean colourfulness is within 20% of the truth's.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from colorlab.checkpoints import CATEGORIES, WEIGHTS_DIR, list_checkpoints, load_checkpoint
from colorlab.metrics import ciede2000, grey_baseline
from colorlab.pipeline import colorize
from colorlab.tools import docblocks

from . import stats
from .paths import ROOT, checkpoint_file, val_dir
from .scores import GREY, Scores

SPACES = ("lab", "hsv", "rgb")
COLUMNS = (("psnr", "PSNR dB ↑", ".2f"), ("ssim", "SSIM ↑", ".3f"), ("ciede2000", "CIEDE2000 ↓", ".2f"),
           ("colorfulness", "CF", ".1f"), ("dcf", "dCF ↓", ".1f"))
PSNR_GAIN = 1.5         # dB over grey the best model of a category must reach
CF_TOLERANCE = 0.20     # |CF(best) - CF(truth)| / CF(truth)
START, END = "<!-- results:start -->", "<!-- results:end -->"
HEADLINE = "headline"     # the README's block (colorlab.tools.docblocks)


# ---------------------------------------------------------------- selection and the bar

def scored(meta: dict) -> bool:
    """Whether a sidecar has the model and grey metrics the table and the bar need."""
    need = {k for k, _, _ in COLUMNS}
    return need <= set(meta.get("val_metrics") or {}) and need <= set(meta.get("grey_metrics") or {})


def _category_key(cat: str):
    return (CATEGORIES.index(cat) if cat in CATEGORIES else len(CATEGORIES), cat)


def by_category(models: list[dict]) -> dict[str, list[dict]]:
    """Models grouped by category (faces, landscapes, general, others), each group by space then name."""
    groups: dict[str, list[dict]] = {}
    for m in models:
        groups.setdefault(m.get("category", "?"), []).append(m)
    space_rank = {s: i for i, s in enumerate(SPACES)}
    return {cat: sorted(groups[cat], key=lambda m: (space_rank.get(m.get("space"), 9), m.get("name", "")))
            for cat in sorted(groups, key=_category_key)}


def best_model(models: list[dict]) -> dict | None:
    """The lowest CIEDE2000 among scored models (higher PSNR breaks ties)."""
    cands = [m for m in models if scored(m)]
    return min(cands, key=lambda m: (m["val_metrics"]["ciede2000"], -m["val_metrics"]["psnr"]), default=None)


def beats_grey(meta: dict) -> bool:
    v, g = meta["val_metrics"], meta["grey_metrics"]
    return v["ciede2000"] < g["ciede2000"] and v["psnr"] > g["psnr"]


def quality_bar(models: list[dict]) -> list[dict]:
    """Per category: does the quality bar hold, and if not, why."""
    rows = []
    for cat, group in by_category(models).items():
        reasons = []
        unscored = [m["name"] for m in group if not scored(m)]
        losers = [m["name"] for m in group if scored(m) and not beats_grey(m)]
        if unscored:
            reasons.append(f"no val metrics: {', '.join(unscored)}")
        if losers:
            reasons.append(f"not better than grey on CIEDE2000 and PSNR: {', '.join(losers)}")
        best = best_model(group)
        row = {"category": cat, "models": len(group), "beat_grey": len(group) - len(unscored) - len(losers),
               "best": best["name"] if best else None, "psnr_gain": None, "cf": None, "truth_cf": None,
               "cf_error": None}
        if best:
            v, g = best["val_metrics"], best["grey_metrics"]
            truth = v.get("truth_colorfulness", g.get("truth_colorfulness"))
            row.update(psnr_gain=v["psnr"] - g["psnr"], cf=v["colorfulness"], truth_cf=truth,
                       val_images=best.get("val_images") or v.get("n"))
            if row["psnr_gain"] < PSNR_GAIN:
                reasons.append(f"best model {best['name']} gains {row['psnr_gain']:+.2f} dB PSNR "
                               f"over grey (needs +{PSNR_GAIN})")
            if truth is None:
                reasons.append("truth colourfulness not recorded")
            else:
                row["cf_error"] = (v["colorfulness"] - truth) / truth if truth else float("inf")
                if abs(row["cf_error"]) > CF_TOLERANCE:
                    reasons.append(f"best model {best['name']} colourfulness {v['colorfulness']:.1f} is "
                                   f"{row['cf_error']:+.0%} off the truth's {truth:.1f} (allowed ±{CF_TOLERANCE:.0%})")
        else:
            reasons.append("no scored model")
        row.update(holds=not reasons, reasons=reasons)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- markdown

def _duration(seconds) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _num(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def results_table(models: list[dict]) -> str:
    head = ["model", "category", "space", "architecture", "chroma gain"] + [h for _, h, _ in COLUMNS] + \
           ["s / epoch", "training", "images / s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cat, group in by_category(models).items():
        best = best_model(group)
        for m in group:
            name = f"**{m['name']}** ★" if m is best else m["name"]
            cells = [name, cat, m.get("space", "?"), m.get("architecture", "?"), f"{m.get('chroma_gain', 1.0):.2f}"]
            v, g = m.get("val_metrics") or {}, m.get("grey_metrics") or {}
            ivs = m.get("intervals") or {}
            for key, _, spec in COLUMNS:
                own = ivs[key].format(spec) if key in ivs else _num(v.get(key), spec)
                cells.append(f"{own} ({_num(g.get(key), spec)})" if key in v else "—")
            t = m.get("training") or {}
            cells += [_num(t.get("seconds_per_epoch"), ".0f"), _duration(t.get("seconds_total")),
                      _num(t.get("images_per_s"), ".1f")]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def calibration_table(models: list[dict]) -> str | None:
    """Val metrics without and with each model's chroma gain (``train.calibrate``)."""
    cal = [m for m in models if m.get("val_metrics_uncalibrated") and scored(m)]
    if not cal:
        return None
    lines = ["| model | gain | PSNR dB | CIEDE2000 | CF (truth) |", "|---|---|---|---|---|"]
    for group in by_category(cal).values():
        for m in group:
            u, v = m["val_metrics_uncalibrated"], m["val_metrics"]
            truth = v.get("truth_colorfulness", float("nan"))
            lines.append(f"| {m['name']} | {m.get('chroma_gain', 1.0):.2f} | {u['psnr']:.2f} → {v['psnr']:.2f} | "
                         f"{u['ciede2000']:.2f} → {v['ciede2000']:.2f} | "
                         f"{u['colorfulness']:.1f} → {v['colorfulness']:.1f} ({truth:.1f}) |")
    return "\n".join(lines)


def bar_table(rows: list[dict]) -> str:
    lines = ["| category | models better than grey | best model | PSNR over grey | CF vs truth CF | bar |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        gain = "—" if r["psnr_gain"] is None else f"{r['psnr_gain']:+.2f} dB"
        cf = "—" if r["cf_error"] is None else f"{r['cf']:.1f} vs {r['truth_cf']:.1f} ({r['cf_error']:+.0%})"
        lines.append(f"| {r['category']} | {r['beat_grey']} of {r['models']} | {r['best'] or '—'} | {gain} | "
                     f"{cf} | {'holds' if r['holds'] else '**fails**'} |")
    return "\n".join(lines)


def results_markdown(models: list[dict], figure: str | None = None, recomputed: bool = False) -> str:
    """The block for docs/results.md and README.md; ``figure`` is the example figure's link."""
    rows = quality_bar(models)
    source = ("re-scored through `colorlab.pipeline` on each model's val set (`--recompute`)" if recomputed
              else "from each checkpoint's sidecar, scored by the trainer on the category's full val set")
    with_iv = [m["name"] for m in models if m.get("intervals")]
    if with_iv:
        source = ("from the per-image scores (`python -m train.scores`, docs/scores/), with 95% bootstrap "
                  "intervals over the photos in brackets" + ("" if len(with_iv) == len(models) else
                                                             "; models without scores: from the sidecar"))
    out = [f"Generated by `python -m train.report`: metrics {source}. Each cell is "
           "model (grey input); ★ marks the best model of a category (lowest CIEDE2000). "
           "CF is the Hasler–Süsstrunk colourfulness, dCF its distance from the truth's. "
           "Training time is the sum of the epochs' training (validation excluded).", "",
           results_table(models), "",
           f"**Quality bar** (per category: every model beats grey on CIEDE2000 and PSNR; the best model gains "
           f"at least {PSNR_GAIN} dB PSNR over grey and its colourfulness is within {CF_TOLERANCE:.0%} "
           "of the truth's):", "",
           bar_table(rows), ""]
    held = sum(r["holds"] for r in rows)
    out.append(f"The quality bar holds in {held} of {len(rows)} categories.")
    for r in rows:
        out += [f"- {r['category']}: {reason}" for reason in r["reasons"]]
    if with_iv:
        out += ["", comparisons_markdown(models)]
    cal = calibration_table(models)
    if cal:
        out += ["", "**Chroma calibration** (`python -m train.calibrate`): each model's chroma gain was chosen "
                "on 100 training images: from 1, downhill in CIEDE2000 to its minimum g0, then the largest gain "
                "(step 0.05) whose CIEDE2000 is at most 5% above g0's, whose PSNR is at most 0.1 dB below g0's "
                "and whose colourfulness does not exceed the truth's. The table above is scored with it. Val "
                "metrics without → with the gain:", "", cal]
    if figure:
        out += ["", f"![Examples: grey input, LAB, HSV and RGB colorizations, truth]({figure})"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- per-image scores and intervals

IV_METRICS = tuple(k for k, _, _ in COLUMNS)      # psnr, ssim, ciede2000, colorfulness, dcf
VARIANT = "shipped"                               # the table's footing: as the app colorizes


def with_scores(models: list[dict], scores) -> list[dict]:
    """Copies of the sidecars whose metrics come from up-to-date per-image scores (same weights'
    sha256), with ``intervals`` {metric: Interval}; others unchanged (and said so on stderr)."""
    out = []
    for m in models:
        cat = m.get("category")
        if not (scores and scores.matches(m["name"], m.get("sha256")) and scores.has(m["name"], cat, VARIANT)
                and scores.has(GREY, cat)):
            if scores and m["name"] in scores.models:
                print(f"{m['name']}: per-image scores are of other weights; re-run python -m train.scores",
                      file=sys.stderr)
            out.append(m)
            continue
        files = sorted(scores.get(m["name"], cat, VARIANT, "psnr"))
        val, grey, ivs = {}, {}, {}
        truth = scores.truth_cf(cat)
        for key in IV_METRICS:
            if key == "dcf":
                _, (cf, t) = scores.aligned(cat, [(m["name"], VARIANT, "colorfulness"),
                                                  (m["name"], VARIANT, "truth_colorfulness")])
                ivs[key] = stats.paired_ci((cf, t), stats.abs_gap)
                g = np.array([scores.get(GREY, cat, GREY, "colorfulness")[f] for f in files])
                grey[key] = float(stats.abs_gap(g, t))
            else:
                ivs[key] = stats.mean_ci([scores.get(m["name"], cat, VARIANT, key)[f] for f in files])
                grey[key] = float(np.mean([scores.get(GREY, cat, GREY, key)[f] for f in files]))
            val[key] = ivs[key].estimate
        val["truth_colorfulness"] = grey["truth_colorfulness"] = float(np.mean([truth[f] for f in files]))
        val["n"] = grey["n"] = len(files)
        new = dict(m, val_metrics=val, grey_metrics=grey, intervals=ivs, val_images=len(files))
        if m.get("val_metrics_uncalibrated") and scores.has(m["name"], cat, "raw"):
            raw = {k: float(np.mean(list(scores.get(m["name"], cat, "raw", k).values())))
                   for k in ("psnr", "ssim", "ciede2000", "colorfulness")}
            new["val_metrics_uncalibrated"] = dict(raw, truth_colorfulness=val["truth_colorfulness"],
                                                   dcf=abs(raw["colorfulness"] - val["truth_colorfulness"]))
        new["_scores"] = scores
        out.append(new)
    return out


def diff_interval(scores, a: str, b: str, cat: str, key: str) -> stats.Interval:
    """Paired bootstrap interval of metric ``key`` of ``a`` minus ``b`` on ``cat``'s photos
    (``b`` may be the grey input); dCF: the difference of the two colourfulness gaps."""
    va = GREY if a == GREY else VARIANT
    vb = GREY if b == GREY else VARIANT
    if key == "dcf":
        _, arrs = scores.aligned(cat, [(a, va, "colorfulness"), (b, vb, "colorfulness"),
                                       (GREY, GREY, "truth_colorfulness")])
        return stats.paired_ci(arrs, stats.abs_gap_diff)
    _, (x, y) = scores.aligned(cat, [(a, va, key), (b, vb, key)])
    return stats.paired_diff_ci(x, y)


def _diff_row(scores, label: list[str], a: str, b: str, cat: str) -> str:
    cells = [diff_interval(scores, a, b, cat, key).format(spec, signed=True) for key, _, spec in COLUMNS]
    return "| " + " | ".join(label + cells) + " |"


def comparisons_markdown(models: list[dict]) -> str:
    """Paired differences on the same photos: against grey, space against space, category against general."""
    scored_models = [m for m in models if m.get("intervals")]
    scores = scored_models[0]["_scores"]
    head = " | ".join(f"Δ {h.split(' ')[0]}" for _, h, _ in COLUMNS)
    out = ["**Paired differences** (same photos, 95% paired bootstrap intervals; an interval that excludes 0 "
           "is a difference beyond the sampling of photos, not yet beyond the training seed: see "
           "[claims.md](claims.md)).", "",   # the link is relative to docs/results.md
           "Grey input per category (mean [95% CI]):", "",
           "| category | photos | " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|---|---|" + "---|" * len(COLUMNS)]
    cats = list(by_category(scored_models))
    for cat in cats:
        files = sorted(scores.get(GREY, cat, GREY, "psnr"))
        cells = []
        for key, _, spec in COLUMNS:
            if key == "dcf":
                _, arrs = scores.aligned(cat, [(GREY, GREY, "colorfulness"), (GREY, GREY, "truth_colorfulness")])
                cells.append(stats.paired_ci(arrs, stats.abs_gap).format(spec))
            else:
                cells.append(stats.mean_ci(list(scores.get(GREY, cat, GREY, key).values())).format(spec))
        out.append(f"| {cat} | {len(files)} | " + " | ".join(cells) + " |")
    out += ["", "Model - grey input:", "", f"| model | category | {head} |", "|---|---|" + "---|" * len(COLUMNS)]
    for cat, group in by_category(scored_models).items():
        for m in group:
            out.append(_diff_row(scores, [m["name"], cat], m["name"], GREY, cat))
    names = {m["name"] for m in scored_models}
    space_rows, general_rows = [], []
    for cat in cats:
        present = [s for s in SPACES if f"{s}-{cat}" in names]
        for i, a in enumerate(present):
            for b in present[i + 1:]:
                space_rows.append(_diff_row(scores, [cat, f"{a}-{cat} - {b}-{cat}"], f"{a}-{cat}", f"{b}-{cat}", cat))
        if cat == "general":
            continue
        for s in SPACES:
            a, b = f"{s}-{cat}", f"{s}-general"
            if a in names and scores.has(b, cat, VARIANT) and scores.matches(
                    b, next((m.get("sha256") for m in models if m["name"] == b), None)):
                general_rows.append(_diff_row(scores, [cat, f"{a} - {b}"], a, b, cat))
    if space_rows:
        out += ["", "Space - space within a category (the matrix models):", "",
                f"| category | A - B | {head} |", "|---|---|" + "---|" * len(COLUMNS)] + space_rows
    if general_rows:
        out += ["", "Category model - general model of the same space, on the category's val photos:", "",
                f"| category | A - B | {head} |", "|---|---|" + "---|" * len(COLUMNS)] + general_rows
    return "\n".join(out)


def headline_markdown(models: list[dict]) -> str:
    """The README's headline table: per category the best model (lowest CIEDE2000) against grey."""
    out = ["| category | val photos | best model | PSNR dB ↑ (grey) | CIEDE2000 ↓ (grey) | "
           "colourfulness (truth) | quality bar |", "|---|---|---|---|---|---|---|"]
    for r, (cat, group) in zip(quality_bar(models), by_category(models).items()):
        best = best_model(group)
        if best is None:
            out.append(f"| {cat} | — | — | — | — | — | **fails** |")
            continue
        v, g = best["val_metrics"], best["grey_metrics"]
        truth = "—" if r["truth_cf"] is None else f"{r['truth_cf']:.1f}"
        out.append(f"| {cat} | {_num(r.get('val_images'), 'd')} | {best['name']} | {v['psnr']:.2f} ({g['psnr']:.2f}) | "
                   f"{v['ciede2000']:.2f} ({g['ciede2000']:.2f}) | {v['colorfulness']:.1f} ({truth}) | "
                   f"{'holds' if r['holds'] else '**fails**'} |")
    return "\n".join(out) + ("\n\nGenerated by `python -m train.report`; every model, "
                             "interval and paired difference: [docs/results.md](docs/results.md).\n")


def inputs(weights_dir: Path, scores_dir: Path | None) -> list[Path]:
    """The files the tables are made from: the sidecars and, if used, the per-image scores."""
    files = sorted(Path(weights_dir).glob("*.json"))
    if scores_dir is not None and Path(scores_dir).is_dir():
        files += sorted(Path(scores_dir).glob("*.json"))
    return files


def replace_block(text: str, block: str) -> str | None:
    """``text`` with what lies between the results markers replaced; None without both markers."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return None
    return text[:start + len(START)] + "\n" + block + text[end:]


# ---------------------------------------------------------------- val data, recompute, figure

def recompute(models: list[dict], weights_dir: Path, data_root: Path | None) -> list[dict]:
    """Copies of the sidecars with val and grey metrics re-scored through the pipeline."""
    from .data import load_folder
    from .trainer import evaluate, grey_scores
    cache: dict[Path, tuple] = {}
    out = []
    for meta in models:
        folder = val_dir(meta, data_root)
        if folder is None or not folder.is_dir():
            print(f"{meta['name']}: val folder {folder} not found; keeping the sidecar's metrics", file=sys.stderr)
            out.append(meta)
            continue
        if folder not in cache:
            arrays = load_folder(folder)[0]
            cache[folder] = (arrays, grey_scores(arrays) if arrays else {})
        arrays, grey = cache[folder]
        if not arrays:
            out.append(meta)
            continue
        val = evaluate(load_checkpoint(checkpoint_file(meta, weights_dir)), arrays)
        old = (meta.get("val_metrics") or {}).get("psnr")
        if old is not None:
            print(f"{meta['name']}: PSNR {val['psnr']:.2f} dB recomputed, {old:.2f} in the sidecar", file=sys.stderr)
        out.append(dict(meta, val_metrics=val, grey_metrics=grey, val_images=val["n"]))
    return out


def _panel_model(group: list[dict], space: str, category: str) -> dict | None:
    """The ``{space}-{category}`` checkpoint, else the best scored one of that space."""
    for m in group:
        if m.get("name") == f"{space}-{category}":
            return m
    same = [m for m in group if m.get("space") == space]
    return best_model(same) or (same[0] if same else None)


def example_figure(models: list[dict], weights_dir: Path, data_root: Path | None, path: Path,
                   per_category: int = 3) -> Path | None:
    """Rows of grey | LAB | HSV | RGB | truth for the first val images of each category."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from .data import load_folder

    rows = []   # (category, [(column title, uint8 array or None, caption)])
    for cat, group in by_category(models).items():
        folder = next((d for d in (val_dir(m, data_root) for m in group) if d is not None and d.is_dir()), None)
        if folder is None:
            print(f"{cat}: no val folder found; no examples", file=sys.stderr)
            continue
        chosen = {s: _panel_model(group, s, cat) for s in SPACES}
        loaded = {s: load_checkpoint(checkpoint_file(m, weights_dir)) for s, m in chosen.items() if m}
        for truth in load_folder(folder, limit=per_category)[0]:
            grey = grey_baseline(truth)
            panels = [("grey input", grey, f"ΔE00 {ciede2000(grey, truth):.1f}")]
            for s in SPACES:
                if s not in loaded:
                    panels.append((s.upper(), None, f"no {s}-{cat}"))
                    continue
                pred = np.asarray(colorize(Image.fromarray(truth), loaded[s]))
                panels.append((s.upper(), pred, f"{chosen[s]['name']}\nΔE00 {ciede2000(pred, truth):.1f}"))
            panels.append(("truth", truth, ""))
            rows.append((cat, panels))
    if not rows:
        return None
    cols = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), cols, figsize=(2.1 * cols, 2.3 * len(rows)), squeeze=False)
    for r, (cat, panels) in enumerate(rows):
        axes[r][0].set_ylabel(cat, fontsize=10)
        for c, (title, arr, sub) in enumerate(panels):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if arr is not None:
                ax.imshow(arr)
            else:
                ax.text(0.5, 0.5, sub, ha="center", va="center", fontsize=8, color="grey",
                        transform=ax.transAxes)
                ax.set_frame_on(False)
                sub = ""
            if r == 0:
                ax.set_title(title, fontsize=10)
            ax.set_xlabel(sub, fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- command line

def _link(target: Path, doc: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), Path(doc).resolve().parent)).as_posix()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.report", description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR, help="checkpoints and sidecars (weights/)")
    ap.add_argument("--data", type=Path, help="data root with CATEGORY/val (default: each sidecar's val_dir)")
    ap.add_argument("--results", type=Path, default=docblocks.page("results"),
                    help="page whose results block is filled (created if missing)")
    ap.add_argument("--readme", type=Path, default=docblocks.page(HEADLINE), help="page whose headline block is filled")
    ap.add_argument("--figure", type=Path, default=ROOT / "docs" / "examples.png", help="example figure written")
    ap.add_argument("--examples", type=int, default=3, help="val images per category in the figure")
    ap.add_argument("--no-figure", action="store_true",
                    help="do not redraw the example figure (an existing one is linked)")
    ap.add_argument("--recompute", action="store_true", help="re-score every checkpoint on its val set")
    ap.add_argument("--strict", action="store_true", help="exit 1 if the quality bar fails in any category")
    ap.add_argument("--scores", type=Path, default=ROOT / "docs" / "scores",
                    help="per-image scores (python -m train.scores) for the intervals; 'none' to ignore")
    args = ap.parse_args(argv)

    models = [m.to_json() for m in list_checkpoints(args.weights_dir)]   # rows of the report: JSON dicts
    if not models:
        ap.error(f"no checkpoints in {args.weights_dir}")
    if args.recompute:
        models = recompute(models, args.weights_dir, args.data)
    elif str(args.scores) != "none":
        models = with_scores(models, Scores(args.scores))
    if args.no_figure:    # not redrawn; an existing figure is still linked
        figure = args.figure if args.figure.is_file() else None
    else:
        figure = example_figure(models, args.weights_dir, args.data, args.figure, args.examples)

    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    digest = docblocks.files_digest(inputs(args.weights_dir, None if str(args.scores) == "none" or args.recompute
                                           else args.scores))
    block = docblocks.stamp(results_markdown(models, _link(figure, results) if figure else None, args.recompute),
                            digest)
    page = results.read_text() if results.is_file() else f"# Results\n\n{START}\n{END}\n"
    new = replace_block(page, block)
    if new is None:
        print(f"{results}: no {START} ... {END} markers; left alone", file=sys.stderr)
        return 2
    results.write_text(new)
    written = [results]
    if args.readme.is_file():
        text = args.readme.read_text()
        new = docblocks.replace(text, HEADLINE, docblocks.stamp(headline_markdown(models), digest))
        if new is None:
            print(f"{args.readme}: no <!-- {HEADLINE}:start --> ... markers; left alone", file=sys.stderr)
        elif new != text:
            args.readme.write_text(new)
            written.append(args.readme)
    rows = quality_bar(models)
    for r in rows:
        print(f"{r['category']}: quality bar {'holds' if r['holds'] else 'FAILS'}"
              + "".join(f"\n  - {reason}" for reason in r["reasons"]))
    drawn = [figure] if figure and not args.no_figure else []
    print("wrote " + ", ".join(str(p) for p in written + drawn))
    return 1 if args.strict and not all(r["holds"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
