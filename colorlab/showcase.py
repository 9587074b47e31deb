"""What the demo app shows, as plain functions: run a model on an upload (keeping a
colour upload as the reference and scoring against it next to the grey baseline),
compare every model on one image, and describe the shipped checkpoints.

The app (``app.py``) only wires these to widgets; nothing here knows about Gradio.

Sizes, so that a 12-megapixel phone photo stays quick and small on a shared CPU:

* metrics are computed at ``METRIC_PIXELS`` (512 x 512 = 0.26 MP) at most: a larger
  prediction, its reference and the grey baseline are all area-averaged (box filter) to the
  same size first, so every score on one photo is on the same footing;
* what is shown (sliders, galleries) is at most ``DISPLAY_SIDE`` px on the long side;
  Compare and Channels run the models on the photo reduced to that size (``for_display``),
  and a full-resolution PNG is only made when asked for;
* PNGs are written with zlib level 1: lossless, 5x faster to encode than the default for
  about 20% more bytes.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .checkpoints import get_model, list_checkpoints
from .imaging import load_image
from .pipeline import accepts_hints, colorize, grey_tensor
from .recent import Recent
from .turing import CATEGORIES

METRIC_PIXELS = 512 * 512   # metrics at most this many pixels (area-averaged down)
DISPLAY_SIDE = 1280         # long side of what galleries and sliders show
PNG_LEVEL = 1               # zlib level: lossless either way, level 1 is the fastest

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
    """An image as the models see it: its grey version, and the colour original if it had colour.

    The grey and the grey baseline's scores are made when first asked for, once: Compare,
    Channels and the hint preview never need the full-size grey, and a Colorize needs it once
    for the model, the slider and the baseline alike."""
    image: Image.Image                 # 8-bit RGB, upright (any input mode converted)
    reference: np.ndarray | None       # uint8 (H, W, 3) colour ground truth, or None for a grey upload
    metric_reference: np.ndarray | None = field(default=None, repr=False)   # reference at metric size
    _made: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.reference is not None and self.metric_reference is None:
            self.metric_reference = metric_view(self.reference)

    def _once(self, key: str, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    @property
    def grey_tensor(self):
        """float32 torch tensor (1, 1, H, W) in [0, 1]: exactly the grey the model is given."""
        return self._once("tensor", lambda: grey_tensor(np.asarray(self.image)))   # (upright already)

    @property
    def grey_channel(self) -> np.ndarray:
        """uint8 (H, W): the grey, rounded; one channel, so resizing and PNGs of it cost a third."""
        from .imaging import tensor_to_array
        return self._once("channel", lambda: tensor_to_array(self.grey_tensor)[..., 0])

    @property
    def grey(self) -> np.ndarray:
        """uint8 (H, W, 3): the grey as RGB (a read-only view of ``grey_channel``)."""
        g = self.grey_channel
        return np.broadcast_to(g[..., None], (*g.shape, 3))

    @property
    def grey_scores(self) -> dict | None:
        """The grey baseline scored against the reference at metric size; None without one."""
        if self.reference is None:
            return None
        from .metrics import score
        return self._once("scores", lambda: score(_rgb(metric_view(self.grey_channel)), self.metric_reference))

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def reduced(self) -> bool:
        """Whether this upload is larger than what is displayed."""
        return max(self.size) > DISPLAY_SIDE


@dataclass
class Result:
    model: str
    space: str
    category: str
    image: Image.Image
    seconds: float
    scores: dict | None = None         # against the reference; None without one
    meta: dict = field(default_factory=dict)


def metric_size(size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) scaled down, aspect kept, to at most ``METRIC_PIXELS`` pixels (unchanged if smaller)."""
    w, h = size
    if w * h <= METRIC_PIXELS:
        return w, h
    f = (METRIC_PIXELS / (w * h)) ** 0.5
    return max(1, int(w * f)), max(1, int(h * f))


def metric_view(arr: np.ndarray) -> np.ndarray:
    """``arr`` (uint8 (H, W, 3) or (H, W)) at metric size: area-averaged, or itself if small enough."""
    size = metric_size((arr.shape[1], arr.shape[0]))
    if size == (arr.shape[1], arr.shape[0]):
        return arr
    return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BOX))


def display_image(image) -> Image.Image:
    """A PIL image or uint8 array at most ``DISPLAY_SIDE`` px on its long side (Lanczos)."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    w, h = img.size
    if max(w, h) <= DISPLAY_SIDE:
        return img
    f = DISPLAY_SIDE / max(w, h)
    return img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.LANCZOS)


def _rgb(grey: np.ndarray) -> np.ndarray:
    """uint8 (H, W) -> (H, W, 3), the grey in every channel (what the metrics compare)."""
    return np.repeat(grey[..., None], 3, axis=2)


def grey_of(arr: np.ndarray) -> np.ndarray:
    """The grey the model is given for uint8 RGB ``arr`` (H, W, 3), as uint8 RGB (H, W, 3)."""
    from .imaging import tensor_to_array
    return _rgb(tensor_to_array(grey_tensor(arr))[..., 0])


def _upload(img: Image.Image, force_grey: bool = False) -> Upload:
    """``img`` as an Upload; a colour photo (colourfulness above ``COLOUR_THRESHOLD``) keeps
    itself as the reference, unless ``force_grey``."""
    from .metrics import colorfulness
    arr = np.asarray(img)
    ref_small = metric_view(arr)
    if not force_grey and colorfulness(ref_small) > COLOUR_THRESHOLD:
        return Upload(img, arr, ref_small)
    return Upload(img, None)


# The last few uploads read from a file, by (real path, size, modification time): in the
# app one photo is read again for its preview, each hint placed and each Colorize, and a
# reused Upload also keeps its grey and its grey baseline's scores. A changed file is read
# again; photos over RECENT_UPLOAD_PIXELS are not kept (memory).
_RECENT_UPLOADS = Recent(4)
RECENT_UPLOAD_PIXELS = 4_000_000


def _file_key(src):
    if not isinstance(src, (str, Path)):
        return None
    try:
        st = os.stat(src)
    except OSError:
        return None     # load_image says what is wrong with it
    return os.path.realpath(src), st.st_size, st.st_mtime_ns


def read_upload(src) -> Upload:
    """Load any supported image (raises ``ImageError`` with a user-facing message); a file
    read recently is not read again (``_RECENT_UPLOADS``)."""
    key = _file_key(src)
    upload = None if key is None else _RECENT_UPLOADS.get(key)
    if upload is None:
        upload = _upload(load_image(src))
        if key is not None and upload.size[0] * upload.size[1] <= RECENT_UPLOAD_PIXELS:
            _RECENT_UPLOADS.put(key, upload)
    return upload


def for_display(upload: Upload) -> Upload:
    """``upload`` reduced to display size (itself if it is no larger): what Compare and
    Channels run the models on. Its grey baseline is re-scored on the reduced photo."""
    if not upload.reduced:
        return upload
    return _upload(display_image(upload.image), force_grey=upload.reference is None)   # grey stays grey


def score_result(pred: np.ndarray, upload: Upload) -> dict | None:
    """``pred`` scored against the upload's reference at metric size (None without one)."""
    if upload.reference is None:
        return None
    from .metrics import score
    return score(metric_view(pred), upload.metric_reference)


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


def run_model(upload: Upload, name: str, render_size: int | None = None, saturation: float = 1.0,
              hints=None, scored: bool = True) -> Result:
    """Colorize ``upload`` with checkpoint ``name``; timed, and scored when there is a reference
    (``scored=False``: not scored, for a view that shows no metrics, e.g. Channels).
    ``hints`` (a ``colorlab.hints.Hints``) are given to a model that takes them and left out
    for an automatic-only one (``Result.meta["hints_used"]`` says which)."""
    model = get_model(name)
    use = bool(hints) and accepts_hints(model)
    grey = upload.grey_tensor   # the upload's, made once for every model (not in a model's time)
    t0 = time.perf_counter()
    out = colorize(grey, model, render_size or None, saturation, hints=hints if use else None)
    seconds = time.perf_counter() - t0
    scores = score_result(np.asarray(out), upload) if scored else None
    meta = model.meta
    meta = dict(meta, hints_used=use)
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
    rows.append(["reference colourfulness", round(colorfulness(upload.metric_reference), 3), None, ""])
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
    target = colorfulness(metric_view(reference))
    for key in METRIC_LABELS:
        higher = HIGHER_IS_BETTER[key]
        if higher is None:
            pick = min(scored, key=lambda r: abs(r.scores[key] - target))
        else:
            pick = (max if higher else min)(scored, key=lambda r: r.scores[key])
        best[key] = pick.model
    return best


def compare_all(upload: Upload, render_size: int | None = None, saturation: float = 1.0,
                metas: list[dict] | None = None, progress=None, gate=None,
                hints=None) -> tuple[list[Result], dict[str, str]]:
    """Every installed checkpoint on one upload, in name order, and the best per metric.
    ``progress(done, total, name)`` is called before each model (e.g. to drive a progress bar);
    each model runs inside ``gate.step()`` if a ``colorlab.scheduling.CpuGate`` is given."""
    import contextlib
    metas = list_checkpoints() if metas is None else metas
    results = []
    for i, m in enumerate(metas):
        if progress is not None:
            progress(i, len(metas), m["name"])
        with gate.step() if gate is not None else contextlib.nullcontext():
            results.append(run_model(upload, m["name"], render_size, saturation, hints))
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


def save_png(image: Image.Image, directory: Path, name: str, grey_as_l: bool = False) -> Path:
    """Write ``image`` (PIL or uint8 array) as a PNG without metadata to ``directory/name`` (made
    if needed), lossless at the fastest zlib level (``PNG_LEVEL``). ``grey_as_l``: an RGB image
    whose three channels are equal is stored as one grey channel, the same pixels in a third of
    the bytes and encoding time (for views such as L or S that are grey by construction)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    arr = np.asarray(image)
    if grey_as_l and arr.ndim == 3 and arr.shape[2] == 3 and _channels_equal(arr):
        arr = arr[..., 0]
    Image.fromarray(np.ascontiguousarray(arr)).save(path, format="PNG", optimize=False, compress_level=PNG_LEVEL)
    return path


def _channels_equal(arr: np.ndarray) -> bool:
    return np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2])


__all__ = ["CATEGORIES", "COMPARE_HEADERS", "DISPLAY_SIDE", "METRIC_PIXELS", "MODEL_HEADERS", "SPACES", "Result",
           "Upload", "best_per_metric", "caption", "choose_checkpoint", "compare_all", "compare_rows",
           "display_image", "for_display", "grey_of", "metric_rows", "metric_size", "metric_view", "model_card",
           "model_rows", "read_upload", "run_model", "save_png", "score_result"]
