"""What the app shows about runs and checkpoints, as text: metric tables, captions, model cards.

Nothing here knows about Gradio: the rows are plain lists for a ``gr.Dataframe``, the
captions and cards plain text and Markdown.
"""
from __future__ import annotations

from ..models.registry import describe
from .runs import METRICS, Result
from .uploads import Upload

METRIC_LABELS = dict(zip(METRICS, ("PSNR (dB)", "SSIM", "CIEDE2000", "colourfulness")))
DATASETS = {
    "faces": "All-Age-Faces and UTKFace (aligned crops)",
    "landscapes": "SUN scenes (desert, sky, bamboo forest, football field, campus) and the Multi-class Weather Dataset",
    "general": "an ImageNet one-image-per-class sample, BSDS500 and SUN indoor / airport scenes",
}


def metric_rows(result: Result, upload: Upload) -> list[list]:
    """[metric, model, grey input, which is better] rows; empty without a reference."""
    from ..metrics import HIGHER_IS_BETTER, colorfulness  # scikit-image: not at app start
    if result.scores is None or upload.grey_scores is None:
        return []
    rows = []
    for key, label in METRIC_LABELS.items():
        better = {True: "higher", False: "lower", None: "closer to the reference"}[HIGHER_IS_BETTER[key]]
        rows.append([label, round(result.scores[key], 3), round(upload.grey_scores[key], 3), better])
    rows.append(["reference colourfulness", round(colorfulness(upload.metric_reference), 3), None, ""])
    return rows


def caption(result: Result, best: dict[str, str]) -> str:
    """One line for a grid cell: name, time, metrics; a star marks the best per metric."""
    def mark(key):
        return " ★" if best.get(key) == result.model else ""
    parts = [f"{result.model}", f"{result.seconds:.2f} s{mark('seconds')}"]
    if result.scores:
        s = result.scores
        parts += [f"PSNR {s['psnr']:.2f}{mark('psnr')}", f"SSIM {s['ssim']:.3f}{mark('ssim')}",
                  f"ΔE00 {s['ciede2000']:.2f}{mark('ciede2000')}", f"CF {s['colorfulness']:.1f}{mark('colorfulness')}"]
    return " · ".join(parts)


def compare_rows(results: list[Result], best: dict[str, str]) -> list[list]:
    """Table rows: model, space, category, seconds, PSNR, SSIM, CIEDE2000, colourfulness, best at."""
    rows = []
    for r in results:
        s = r.scores or {}
        wins = [k for k, v in best.items() if v == r.model]
        rows.append([r.model, r.space, r.category, round(r.seconds, 3),
                     *[round(s[k], 3) if k in s else None for k in METRIC_LABELS], ", ".join(wins)])
    return rows


COMPARE_HEADERS = ["model", "space", "category", "seconds", *METRIC_LABELS.values(), "best at"]
MODEL_HEADERS = ["model", "space", "category", "architecture", "PSNR", "grey PSNR", "SSIM", "grey SSIM",
                 "CIEDE2000", "grey CIEDE2000", "colourfulness", "truth colourfulness", "val images",
                 "epochs", "train minutes"]


def model_rows(metas: list[dict]) -> list[list]:
    """The metrics table of the installed checkpoints, from their sidecars."""
    def r(d, k, nd=3):
        v = (d or {}).get(k)
        return round(v, nd) if isinstance(v, (int, float)) else None
    rows = []
    for m in metas:
        v, g, t = m.get("val_metrics") or {}, m.get("grey_metrics") or {}, m.get("training") or {}
        seconds = t.get("seconds_total")
        rows.append([m.get("name"), m.get("space"), m.get("category"), m.get("architecture"),
                     r(v, "psnr"), r(g, "psnr"), r(v, "ssim"), r(g, "ssim"), r(v, "ciede2000"),
                     r(g, "ciede2000"), r(v, "colorfulness"), r(v, "truth_colorfulness"),
                     v.get("n") or m.get("val_images"), m.get("epochs"),
                     round(seconds / 60, 1) if isinstance(seconds, (int, float)) else None])
    return rows


def model_card(meta: dict) -> str:
    """A Markdown card: what the model is, which design it reproduces, its data and licence."""
    arch = meta.get("architecture", "?")
    try:
        design = meta.get("design") or describe(arch)
    except KeyError:
        design = meta.get("design") or "-"
    data, t = meta.get("data") or {}, meta.get("training") or {}
    v, g = meta.get("val_metrics") or {}, meta.get("grey_metrics") or {}
    cat = meta.get("category", "")
    lines = [f"### {meta.get('name')}",
             f"**Colour space** {str(meta.get('space', '')).upper()} · **category** {cat} · "
             f"**architecture** `{arch}`",
             f"**Design reproduced:** {design}",
             "",
             "**Training data:** " + (f"{DATASETS[cat]} ({data.get('train_images', '?')} training images"
                                      f", `{data.get('train_dir', '?')}`)" if cat in DATASETS else
                                      f"`{data.get('train_dir', 'not recorded')}`"),
             f"**Training:** {meta.get('epochs', '?')} epochs (best: {meta.get('best_epoch', '?')}), "
             f"{t.get('seconds_total', '?')} s on {t.get('machine', 'an unrecorded machine')}; "
             f"train size {meta.get('train_size', '?')} px, render size {meta.get('render_size') or 'native'}; "
             f"loss {meta.get('loss', '?')}",
             f"**Command:** `{meta.get('command', '?')}`"]
    cal = meta.get("calibration")
    if cal:
        lines.append(f"**Chroma gain:** {meta.get('chroma_gain', 1.0):.2f}, calibrated on {cal.get('images', '?')} "
                     f"training images (`{cal.get('command', '?')}`)")
    if v:
        lines.append(f"**Validation ({v.get('n', '?')} images):** PSNR {v.get('psnr', float('nan')):.2f} dB "
                     f"(grey {g.get('psnr', float('nan')):.2f}), CIEDE2000 {v.get('ciede2000', float('nan')):.2f} "
                     f"(grey {g.get('ciede2000', float('nan')):.2f}), SSIM {v.get('ssim', float('nan')):.3f}")
    lines += [f"**Licence:** {meta.get('licence', 'not stated')}",
              f"**Weights:** `{meta.get('file', '?')}`, sha256 `{meta.get('sha256', '?')}`"]
    return "  \n".join(lines)


