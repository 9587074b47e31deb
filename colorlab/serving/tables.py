"""What the app shows about runs and checkpoints, as text: metric tables, captions, model cards.

Nothing here knows about Gradio: the rows are plain lists for a ``gr.Dataframe``, the
captions and cards plain text and Markdown.
"""
from __future__ import annotations

from ..checkpoints import CheckpointMeta, training_stages
from ..models.registry import describe
from .runs import METRICS, Result
from .uploads import Upload

METRIC_LABELS = dict(zip(METRICS, ("PSNR (dB)", "SSIM", "CIEDE2000", "colourfulness")))
# Which way is better, as the tables mark it: ↑ higher, ↓ lower, ≈ closest to the true photo's.
ARROWS = {"psnr": "↑", "ssim": "↑", "ciede2000": "↓", "colorfulness": "≈", "seconds": "↓"}
# One line per metric for the legends under the tables (what it measures, which way is better).
METRIC_HELP = {
    "psnr": "PSNR ↑ (dB): how close the pixels are to the true photo's; higher is better.",
    "ssim": "SSIM ↑ (0-1): how well the local structure matches the true photo's; higher is better.",
    "ciede2000": "CIEDE2000 (ΔE00) ↓: the colour difference a person sees, per pixel (about 2 is just "
                 "noticeable); lower is better.",
    "colorfulness": "colourfulness (colour) ≈: Hasler-Süsstrunk colourfulness, 0 for a grey photo; best when "
                    "closest to the true photo's (the networks' output is often paler).",
    "seconds": "time s ↓: seconds to colorize on this server; lower is better.",
}
DATASETS = {
    "faces": "All-Age-Faces and UTKFace (aligned crops)",
    "landscapes": "SUN scenes (desert, sky, bamboo forest, football field, campus) and the Multi-class Weather Dataset",
    "general": "an ImageNet one-image-per-class sample, BSDS500 and SUN indoor / airport scenes",
}
# Plain-language meaning of the claims table's verdicts (docs/claims.md, train/claims.py).
VERDICTS = {
    "supported": "the data back the claim: the 95% interval is on the claimed side of 0 and the "
                 "difference is at least as large as retraining with another seed moves it.",
    "refuted": "the data go against the claim: the difference is clear (as above) but on the other side.",
    "no detectable difference": "the data cannot tell: the interval includes 0, or the difference is "
                                "smaller than retraining with another seed moves it.",
    "LAB best (or HSV, RGB)": "that colour space did clearly better than both others (row H).",
    "ambiguous": "the best suggested look is often not the top-ranked one; the row says how often (row S).",
}


def metric_legend(keys=(*METRICS, "seconds")) -> str:
    """Markdown: one line per metric in ``keys`` (``METRIC_HELP``), for under a table."""
    return "  \n".join(METRIC_HELP[k] for k in keys)


def verdict_legend() -> str:
    """Markdown: one plain-language line per verdict of the claims table (``VERDICTS``)."""
    return "  \n".join(f"**{v}**: {text}" for v, text in VERDICTS.items())


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


DIGITS = {"psnr": 2, "ssim": 3, "ciede2000": 2, "colorfulness": 1, "seconds": 2}
GREY_ROW = "grey input (no colour added)"
TRUTH_ROW = "true photo (reference)"
# short, so six columns fit a phone; ``METRIC_HELP`` names each in full
COMPARE_HEADERS = ["model", "time s ↓", "PSNR ↑", "SSIM ↑", "ΔE00 ↓", "colour ≈"]


def _cell(value, key: str, star: bool = False) -> str:
    """A metric as the tables show it: fixed digits per metric, " ★" when it is the best."""
    return "" if value is None else f"{value:.{DIGITS[key]}f}" + (" ★" if star else "")


def caption(result: Result, best: dict[str, str]) -> str:
    """A grid cell's caption: the model's name alone on the first line (kept whole), then time
    and metrics; a star marks the best per metric."""
    def mark(key):
        return " ★" if best.get(key) == result.model else ""
    parts = [f"{result.seconds:.2f} s{mark('seconds')}"]
    if result.scores:
        s = result.scores
        parts += [f"PSNR {s['psnr']:.2f}{mark('psnr')}", f"SSIM {s['ssim']:.3f}{mark('ssim')}",
                  f"ΔE00 {s['ciede2000']:.2f}{mark('ciede2000')}", f"CF {s['colorfulness']:.1f}{mark('colorfulness')}"]
    return f"{result.model}\n" + " · ".join(parts)


def design_title(meta: CheckpointMeta) -> str:
    """A checkpoint's design in a few words: its sidecar's ``design`` up to the first colon,
    without a parenthesis ("CU-Net", "LAB residual U-Net"); else its architecture's name."""
    title = (meta.design or "").split(":")[0].split("(")[0].strip()
    return title or meta.architecture or meta.name


def design_label(meta: CheckpointMeta) -> str:
    """What the design menu shows for a seed design: "CU-Net: lab-general-cunet · general photos ·
    automatic-only" (its name is what the status line and the other tabs show)."""
    trained = f"{meta.category} photos" if meta.category else "any photos"
    return f"{design_title(meta)}: {meta.name} · {trained} · automatic-only"


def truth_colourfulness(upload: Upload) -> float | None:
    """The reference's colourfulness at metric size (what ≈ aims at); None for a grey upload."""
    if upload.reference is None:
        return None
    from ..metrics import colorfulness  # scikit-image: not at app start
    return float(colorfulness(upload.metric_reference))


def compare_rows(results: list[Result], best: dict[str, str], upload: Upload | None = None) -> list[list[str]]:
    """``COMPARE_HEADERS`` rows: one per model (its best metrics starred, ``best`` as
    ``runs.best_per_metric`` gives it), then, when ``upload`` has a reference, the grey input
    scored the same way (``GREY_ROW``: did any model beat it?) and the true photo's
    colourfulness (``TRUTH_ROW``). Cells are text ("" where a value does not apply)."""
    rows = []
    for r in results:
        s = r.scores or {}
        rows.append([r.model, _cell(r.seconds, "seconds", best.get("seconds") == r.model),
                     *[_cell(s.get(k), k, best.get(k) == r.model) for k in METRICS]])
    if upload is not None and upload.reference is not None:
        g = upload.grey_scores
        rows.append([GREY_ROW, "", *[_cell(g[k], k) for k in METRICS]])
        rows.append([TRUTH_ROW, "", "", "", "", _cell(truth_colourfulness(upload), "colorfulness")])
    return rows


def versus_grey(results: list[Result], upload: Upload) -> str:
    """One sentence: how many of the scored models beat the grey input on PSNR, SSIM and
    CIEDE2000 ("" without a reference)."""
    scored = [r for r in results if r.scores]
    if upload.reference is None or not scored:
        return ""
    g = upload.grey_scores
    higher = {k: sum(r.scores[k] > g[k] for r in scored) for k in ("psnr", "ssim")}
    lower = sum(r.scores["ciede2000"] < g["ciede2000"] for r in scored)
    return (f"Against the grey input: {higher['psnr']} of {len(scored)} models have a higher PSNR, "
            f"{higher['ssim']} a higher SSIM and {lower} a lower CIEDE2000.")


MODEL_HEADERS = ["model", "space", "category", "architecture", "PSNR ↑", "grey PSNR", "SSIM ↑", "grey SSIM",
                 "CIEDE2000 ↓", "grey CIEDE2000", "colourfulness ≈", "truth colourfulness", "val images",
                 "epochs (all stages)", "train minutes (all stages)"]


def _rounded(metrics: dict, key: str, digits: int = 3):
    v = metrics.get(key)
    return round(v, digits) if isinstance(v, (int, float)) else None


def stage_totals(meta: CheckpointMeta) -> tuple[str, float | None]:
    """(epochs over every training stage as text, e.g. "20 (8+4+2+3+3)" or "3 (?+3)" when an
    earlier stage's count was not recorded; minutes over every stage, None unless all are known)."""
    stages = training_stages(meta)
    epochs = [s.get("epochs") for s in stages]
    counts = "+".join("?" if e is None else str(e) for e in epochs)
    if len(stages) == 1:
        text = counts
    else:
        text = f"{sum(epochs)} ({counts})" if None not in epochs else f"? ({counts})"
    seconds = [s.get("seconds") for s in stages]
    minutes = round(sum(seconds) / 60, 1) if None not in seconds else None
    return text, minutes


def model_rows(metas: list[CheckpointMeta]) -> list[list]:
    """The metrics table of the installed checkpoints (``MODEL_HEADERS``), from their sidecars;
    epochs and minutes count every training stage (``stage_totals``)."""
    rows = []
    for m in metas:
        v, g = m.val_metrics, m.grey_metrics
        epochs, minutes = stage_totals(m)
        rows.append([m.name, m.space, m.category, m.architecture,
                     *[_rounded(d, k) for k in ("psnr", "ssim", "ciede2000") for d in (v, g)],
                     _rounded(v, "colorfulness"), _rounded(v, "truth_colorfulness"),
                     v.get("n") or m.val_images, epochs, minutes])
    return rows


def _duration(seconds) -> str:
    if seconds is None:
        return "time not recorded"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def stage_lines(meta: CheckpointMeta) -> list[str]:
    """Markdown lines, one per training stage (``training_stages``): epochs, best epoch, time, command."""
    stages = training_stages(meta)
    lines = []
    for i, st in enumerate(stages, 1):
        e, b = st.get("epochs"), st.get("best_epoch")
        what = ("epochs not recorded in the sidecar (its start's sidecar was not kept)" if e is None else
                f"{e} epoch{'s' if e != 1 else ''}" + (f" (best: {b})" if b is not None else ""))
        own = " · this checkpoint's own run" if i == len(stages) and len(stages) > 1 else ""
        # "Stage 1:", not a Markdown list: the card's next line would be read as part of the last item
        lines.append(f"*Stage {i}:* {what} · {_duration(st.get('seconds'))}{own} · `{st.get('command', '?')}`")
    return lines


def _known(value, missing: str = "?"):
    return missing if value is None else value


def _stages_summary(meta: CheckpointMeta) -> str:
    n = len(training_stages(meta))
    epochs, minutes = stage_totals(meta)
    total = epochs.split(" ")[0]
    time = "" if minutes is None else f", {_duration(minutes * 60)}"
    return (f"{n} stage{'s' if n != 1 else ''}, {total} epoch{'' if total == '1' else 's'} in all{time}")


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
             f"**Training:** {_stages_summary(meta)} on {t.get('machine', 'an unrecorded machine')}; "
             f"train size {meta.train_size} px, render size {meta.render_size or 'native'}; "
             f"loss {_known(meta.loss)}",
             *stage_lines(meta),
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
