"""What the demo app shows, as plain functions: run a model on an upload (keeping a
colour upload as the reference and scoring against it next to the grey baseline),
compare every model on one image, and describe the shipped checkpoints.

The app (``app.py``) only wires these to widgets; nothing here knows about Gradio.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .checkpoints import get_model, list_checkpoints
from .imaging import load_image
from .pipeline import colorize
from .turing import CATEGORIES

SPACES = ("lab", "hsv", "rgb")
COLOUR_THRESHOLD = 3.0   # Hasler-Suesstrunk colourfulness above which an upload counts as a colour photo
METRIC_LABELS = {"psnr": "PSNR (dB)", "ssim": "SSIM", "ciede2000": "CIEDE2000",
                 "colorfulness": "colourfulness"}
DATASETS = {
    "faces": "All-Age-Faces and UTKFace (aligned crops)",
    "landscapes": "SUN scenes (desert, sky, bamboo forest, football field, campus) and the Multi-class Weather Dataset",
    "general": "an ImageNet one-image-per-class sample, BSDS500 and SUN indoor / airport scenes",
}


@dataclass
class Upload:
    """An image as the models see it: its grey version, and the colour original if it had colour."""
    image: Image.Image                 # 8-bit RGB, upright (any input mode converted)
    grey: np.ndarray                   # uint8 (H, W, 3): the grey the model is given
    reference: np.ndarray | None       # uint8 (H, W, 3) colour ground truth, or None for a grey upload
    grey_scores: dict | None = None    # the grey baseline scored against the reference

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


@dataclass
class Result:
    model: str
    space: str
    category: str
    image: Image.Image
    seconds: float
    scores: dict | None = None         # against the reference; None without one
    meta: dict = field(default_factory=dict)


def read_upload(src) -> Upload:
    """Load any supported image (raises ``ImageError`` with a user-facing message)."""
    from .metrics import colorfulness, grey_baseline, score
    img = load_image(src)
    arr = np.asarray(img)
    grey = grey_baseline(arr)
    if colorfulness(arr) > COLOUR_THRESHOLD:
        return Upload(img, grey, arr, score(grey, arr))
    return Upload(img, grey, None)


def choose_checkpoint(space: str, category: str, metas: list[dict] | None = None) -> tuple[dict, str]:
    """The checkpoint for (space, category): ``{space}-{category}`` if shipped, else that
    space's general model, else any of that space. Returns (sidecar, note for the user)."""
    metas = list_checkpoints() if metas is None else metas
    space, category = space.lower(), category.lower()
    by_name = {m["name"]: m for m in metas}
    wanted = f"{space}-{category}"
    if wanted in by_name:
        return by_name[wanted], ""
    same_space = [m for m in metas if m.get("space") == space]
    fallback = by_name.get(f"{space}-general") or next(
        (m for m in same_space if m.get("category") == category), None) or (same_space[0] if same_space else None)
    if fallback is None:
        raise LookupError(f"no {space.upper()} checkpoint is installed; available: {sorted(by_name) or 'none'}")
    return fallback, f"{wanted} is not installed; using {fallback['name']} instead."


def run_model(upload: Upload, name: str, render_size: int | None = None, saturation: float = 1.0) -> Result:
    """Colorize ``upload`` with checkpoint ``name``; timed, and scored when there is a reference."""
    model = get_model(name)
    t0 = time.perf_counter()
    out = colorize(upload.image, model, render_size or None, saturation)
    seconds = time.perf_counter() - t0
    scores = None
    if upload.reference is not None:
        from .metrics import score
        scores = score(np.asarray(out), upload.reference)
    meta = model.meta
    return Result(name, meta.get("space", model.space.name), meta.get("category", ""), out, seconds, scores, meta)


def metric_rows(result: Result, upload: Upload) -> list[list]:
    """[metric, model, grey input, which is better] rows; empty without a reference."""
    from .metrics import HIGHER_IS_BETTER, colorfulness
    if result.scores is None or upload.grey_scores is None:
        return []
    rows = []
    for key, label in METRIC_LABELS.items():
        better = {True: "higher", False: "lower", None: "closer to the reference"}[HIGHER_IS_BETTER[key]]
        rows.append([label, round(result.scores[key], 3), round(upload.grey_scores[key], 3), better])
    rows.append(["reference colourfulness", round(colorfulness(upload.reference), 3), None, ""])
    return rows


def best_per_metric(results: list[Result], reference: np.ndarray | None) -> dict[str, str]:
    """Metric -> name of the best model (PSNR, SSIM highest; CIEDE2000 lowest; colourfulness
    closest to the reference's; time fastest). Only time without a reference."""
    from .metrics import HIGHER_IS_BETTER, colorfulness
    best = {}
    if results:
        best["seconds"] = min(results, key=lambda r: r.seconds).model
    scored = [r for r in results if r.scores]
    if reference is None or not scored:
        return best
    target = colorfulness(reference)
    for key in METRIC_LABELS:
        higher = HIGHER_IS_BETTER[key]
        if higher is None:
            pick = min(scored, key=lambda r: abs(r.scores[key] - target))
        else:
            pick = (max if higher else min)(scored, key=lambda r: r.scores[key])
        best[key] = pick.model
    return best


def compare_all(upload: Upload, render_size: int | None = None, saturation: float = 1.0,
                metas: list[dict] | None = None) -> tuple[list[Result], dict[str, str]]:
    """Every installed checkpoint on one upload, in name order, and the best per metric."""
    metas = list_checkpoints() if metas is None else metas
    results = [run_model(upload, m["name"], render_size, saturation) for m in metas]
    return results, best_per_metric(results, upload.reference)


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
    from .models.registry import describe
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


def save_png(image: Image.Image, directory: Path, name: str) -> Path:
    """Write ``image`` as a PNG without metadata to ``directory/name`` (made if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    Image.fromarray(np.asarray(image)).save(path, format="PNG", optimize=False)
    return path


__all__ = ["CATEGORIES", "COMPARE_HEADERS", "MODEL_HEADERS", "SPACES", "Result", "Upload", "best_per_metric",
           "caption", "choose_checkpoint", "compare_all", "compare_rows", "metric_rows", "model_card",
           "model_rows", "read_upload", "run_model", "save_png"]
