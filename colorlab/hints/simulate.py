"""Hints simulated from the truth, for training (``simulate_training``) and scoring (``simulate``).

``simulate_training`` follows Zhang et al. 2017 ("Real-Time User-Guided Image Colorization
with Learned Deep Priors"): a geometric number of small patches with the truth's mean
chroma, many samples with no points at all, and the global hint (here the tint) dropped at
random. ``simulate`` makes the hints ``python -m colorlab evaluate --points K`` scores with:
K random pixels, each with the reference's own colour there, and the tint as the
reference's mean a, b; it is a pure function of (image, K, seed).
"""
from __future__ import annotations

import zlib

import numpy as np
import torch

from .encoding import HINT_CHANNELS, spread
from .spec import Hints, make_hints, mean_ab


def simulate_training(ab: torch.Tensor, gen: torch.Generator, p_no_points: float = 0.3, p_geom: float = 0.125,
                      max_points: int = 64, max_patch: int = 5, p_tint: float = 0.5,
                      lightness: torch.Tensor | None = None) -> torch.Tensor:
    """Training hints drawn from the truth's chroma ``ab`` (N, 2, H, W) in network units.

    Per sample: no points with probability ``p_no_points``, else a Geometric(``p_geom``)
    number of points (capped at ``max_points``), each a square patch of side 1..``max_patch``
    at a uniform place carrying the truth's mean (a, b) over it; the tint (the truth's
    mean a, b) is given with probability ``p_tint``. ``lightness`` (N, 1, H, W), the truth's
    L*, guides the spread as ``hint_maps`` does (each point's L* the patch's mean). Returns
    (N, HINT_CHANNELS, H, W)."""
    n, _, h, w = ab.shape
    maps = ab.new_zeros(n, HINT_CHANNELS, h, w)
    u = torch.rand(n, 2, generator=gen).tolist()
    for i in range(n):
        if u[i][0] >= p_no_points:
            k = min(max_points, int(np.floor(np.log1p(-torch.rand(1, generator=gen).item()) / np.log1p(-p_geom))) + 1)
            sides = torch.randint(1, max_patch + 1, (k,), generator=gen).tolist()
            centres, means, point_l = [], [], []
            for s in sides:
                y = int(torch.randint(0, h - s + 1, (1,), generator=gen))
                x = int(torch.randint(0, w - s + 1, (1,), generator=gen))
                mean = ab[i, :, y:y + s, x:x + s].mean((1, 2))
                maps[i, :2, y:y + s, x:x + s] = mean.view(2, 1, 1)
                maps[i, 2, y:y + s, x:x + s] = 1.0
                centres.append((x + s / 2, y + s / 2))
                means.append(mean)
                if lightness is not None:
                    point_l.append(lightness[i, 0, y:y + s, x:x + s].mean())
            guide = None if lightness is None else (lightness[i, 0], torch.stack(point_l))
            maps[i, 6:8], maps[i, 8:9] = spread(torch.tensor(centres), torch.stack(means), (h, w), guide)
        if u[i][1] < p_tint:
            maps[i, 3:5] = ab[i].mean((1, 2), keepdim=True)
            maps[i, 5] = 1.0
    return maps


def _image_seed(arr: np.ndarray, seed: int) -> np.random.Generator:
    digest = zlib.crc32(np.ascontiguousarray(arr).tobytes())
    return np.random.default_rng([int(seed), digest, arr.shape[0], arr.shape[1]])


def simulate(reference: np.ndarray, points: int = 0, tint: bool = False, seed: int = 0) -> Hints:
    """The hints ``evaluate --points`` uses for a colour ``reference`` (H, W, 3) uint8: ``points``
    random pixels (uniform over the image, deterministic in (image, points, seed)), each with
    the reference's own colour there; with ``tint``, the reference's mean CIE a, b."""
    h, w = reference.shape[:2]
    rng = _image_seed(reference, seed)
    xy = rng.random((points, 2))
    pts = []
    for fx, fy in xy:
        r, c = min(int(fy * h), h - 1), min(int(fx * w), w - 1)
        pts.append((float(fx), float(fy), tuple(int(v) for v in reference[r, c])))
    hints = make_hints(pts)
    if tint:
        hints = Hints(hints.points, mean_ab(reference), hints.reach, hints.colours)
    return hints


