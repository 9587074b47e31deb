"""What the app shows about runs and checkpoints, as text: metric tables, captions, model cards.

Nothing here knows about Gradio: the rows are plain lists for a ``gr.Dataframe``, the
captions and cards plain text and Markdown.
"""
from __future__ import annotations

from ..checkpoints import CheckpointMeta
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


def _rounded(metrics: dict, key: str, digits: int = 3):
    v = metrics.get(key)
    return round(v, digits) if isinstance(v, (int, float)) else None


def model_rows(metas: list[CheckpointMeta]) -> list[list]:
    """The metrics table of the installed checkpoints (``MODEL_HEADERS``), from their sidecars."""
    rows = []
    for m in metas:
        v, g = m.val_metrics, m.grey_metrics
        seconds = m.training.get("seconds_total")
        rows.append([m.name, m.space, m.category, m.architecture,
                     *[_rounded(d, k) for k in ("psnr", "ssim", "ciede2000") for d in (v, g)],
                     _rounded(v, "colorfulness"), _rounded(v, "truth_colorfulness"),
                     v.get("n") or m.val_images, m.epochs,
                     round(seconds / 60, 1) if isinstance(seconds, (int, float)) else None])
    return rows


def _known(value, missing: str = "?"):
    return missing if value is None else value


def model_card(meta: CheckpointMeta) -> str:
    """A Markdown card: what the model is, which design it reproduces, its data and licence."""
    arch = meta.architecture or "?"
    try:
        design = meta.design or describe(arch)
    except KeyError:
        design = "-"
    data, t, v, g = meta.data, meta.training, meta.val_metrics, meta.grey_metrics
    cat = meta.category
    nan = float("nan")
    lines = [f"### {meta.name}",
             f"**Colour space** {meta.space.upper()} · **category** {cat} · **architecture** `{arch}`",
             f"**Design reproduced:** {design}",
             "",
             "**Training data:** " + (f"{DATASETS[cat]} ({data.get('train_images', '?')} training images"
                                      f", `{data.get('train_dir', '?')}`)" if cat in DATASETS else
                                      f"`{data.get('train_dir', 'not recorded')}`"),
             f"**Training:** {_known(meta.epochs)} epochs (best: {_known(meta.best_epoch)}), "
             f"{t.get('seconds_total', '?')} s on {t.get('machine', 'an unrecorded machine')}; "
             f"train size {meta.train_size} px, render size {meta.render_size or 'native'}; "
             f"loss {_known(meta.loss)}",
             f"**Command:** `{_known(meta.command)}`"]
    if meta.calibration:
        cal = meta.calibration
        lines.append(f"**Chroma gain:** {meta.chroma_gain:.2f}, calibrated on {cal.get('images', '?')} "
                     f"training images (`{cal.get('command', '?')}`)")
    if v:
        lines.append(f"**Validation ({v.get('n', '?')} images):** PSNR {v.get('psnr', nan):.2f} dB "
                     f"(grey {g.get('psnr', nan):.2f}), CIEDE2000 {v.get('ciede2000', nan):.2f} "
                     f"(grey {g.get('ciede2000', nan):.2f}), SSIM {v.get('ssim', nan):.3f}")
    lines += [f"**Licence:** {_known(meta.licence, 'not stated')}",
              f"**Weights:** `{_known(meta.file)}`, sha256 `{_known(meta.sha256)}`"]
    return "  \n".join(lines)
