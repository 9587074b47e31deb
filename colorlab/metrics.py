"""Image-quality metrics for colorization, on uint8 sRGB arrays (H, W, 3).

Every report also scores the grey baseline (the input repeated in three channels),
because "no colour at all" is the bar a colorization model has to beat.
"""
from __future__ import annotations

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

METRICS = ("psnr", "ssim", "ciede2000", "colorfulness")
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "ciede2000": False, "colorfulness": None, "dcf": False}


def _check(img: np.ndarray) -> np.ndarray:
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected uint8 (H, W, 3), got {img.dtype} {img.shape}")
    return img


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB, data_range 255; identical images give inf."""
    if np.array_equal(_check(truth), _check(pred)):
        return float("inf")   # skimage would get there through a divide-by-zero warning
    return float(peak_signal_noise_ratio(truth, pred, data_range=255))


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM over the three channels, data_range 255 (7x7 windows)."""
    return float(structural_similarity(_check(truth), _check(pred), data_range=255, channel_axis=2))


def ciede2000_lab(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 (Sharma, Wu & Dalal 2005; kL = kC = kH = 1) between CIE LAB arrays (..., 3)
    whose last axis is (L*, a*, b*) in that order; one value per colour pair."""
    return deltaE_ciede2000(np.asarray(lab1, np.float64), np.asarray(lab2, np.float64), channel_axis=-1)


def ciede2000(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference (D65); ~2.3 is a just-noticeable difference."""
    return float(ciede2000_lab(rgb2lab(_check(truth)), rgb2lab(_check(pred))).mean())


def colorfulness(img: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness M on 0..255 values; 0 for grey."""
    rgb = _check(img).astype(np.float64)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def grey_baseline(truth: np.ndarray) -> np.ndarray:
    """The input a model sees, as RGB: the luminance-matched grey of ``truth`` in 3 channels."""
    from .colorspaces import rgb_to_grey
    from .imaging import array_to_tensor, tensor_to_array
    return tensor_to_array(rgb_to_grey(array_to_tensor(truth)).expand(-1, 3, -1, -1))


def score(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """All per-image metrics of ``pred`` against ``truth`` (colourfulness is of ``pred``)."""
    return {"psnr": psnr(pred, truth), "ssim": ssim(pred, truth),
            "ciede2000": ciede2000(pred, truth), "colorfulness": colorfulness(pred)}


def summarize(pairs) -> dict[str, float]:
    """Mean metrics over (pred, truth) pairs plus dCF = |mean CF(pred) - mean CF(truth)|.

    PSNR is averaged per image (inf for a perfect image is capped at 100 dB).
    """
    rows, truth_cf = [], []
    for pred, truth in pairs:
        rows.append(score(pred, truth))
        truth_cf.append(colorfulness(truth))
    if not rows:
        raise ValueError("no images to score")
    out = {k: float(np.mean([r[k] for r in rows])) for k in METRICS}
    out["psnr"] = float(np.mean([min(r["psnr"], 100.0) for r in rows]))   # only PSNR can be inf
    out["truth_colorfulness"] = float(np.mean(truth_cf))
    out["dcf"] = abs(out["colorfulness"] - out["truth_colorfulness"])
    out["n"] = len(rows)
    return out
