"""Hints -> the network's input: the hint maps, the points' spread and confidence, the prior.

Every space's network sees hints the same way, as ``HINT_CHANNELS`` maps at its input
resolution, in network units (a / AB_SCALE, b / AB_SCALE):

    0, 1  point hints' a, b (0 where there is none)     2  point mask (1 at a hint)
    3, 4  tint a, b (constant over the image)           5  tint flag (1 if a tint is given)
    6, 7  the points' a, b spread over the image by inverse-distance weighting
          (for a *guided* model, also weighted by how close each pixel's L* is to the
          point's: see ``spread``)
    8     closeness to the nearest point, exp(-d / SPREAD_SCALE) with d in network pixels

so the three spaces are compared on equal terms: only what they predict differs. The
spread channels hand the network the naive propagation (``colorlab.hints.baselines``) as a
starting point: on a 2-core CPU budget a network does not learn to carry a sparse hint
far by itself (tried: with channels 0-5 alone, 10 hints moved val PSNR by 0.05 dB), so it
learns instead where the photo says the spread colour stops.
"""
from __future__ import annotations

import numpy as np
import torch

from ..colorspaces import AB_SCALE, grey_to_L, lab_to_rgb
from .spec import Hints

HINT_CHANNELS = 9
POINT_PATCH = 3          # side, in network pixels, of the patch a point hint covers
SPREAD_SCALE = 8.0       # network pixels over which a point's closeness falls by 1/e
# L* difference at which a guided spread's weight falls by e^-1/2. Chosen on val photos
# (60 per category, 10 simulated points, the spread alone as the colorization): 12 beat
# 6 and 9 on faces and general, and was within 0.1 dB of the best on landscapes; against
# plain inverse-distance weighting it gained +0.6 / +1.3 / +0.5 dB (faces / landscapes / general).
GUIDE_SIGMA = 12.0


def point_cells(points, size: tuple[int, int]) -> list[tuple[int, int]]:
    """The (row, col) cell of an h x w grid that each point ((x, y, ...), ...) falls in."""
    h, w = size
    return [(min(int(p[1] * h), h - 1), min(int(p[0] * w), w - 1)) for p in points]


def point_lightness(lightness: torch.Tensor, cells) -> torch.Tensor:
    """The L* (K,) of an (h, w) L* map at each (row, col) of ``cells``: the points' own lightness."""
    return torch.stack([lightness[r, c] for r, c in cells]).float()


def _log_weights(centres: torch.Tensor, size: tuple[int, int], guide=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(log weight of each point at each pixel (K, h, w), squared distances (K, h, w)): see ``spread``."""
    h, w = size
    gy = torch.arange(h, dtype=torch.float32) + 0.5
    gx = torch.arange(w, dtype=torch.float32) + 0.5
    d2 = (gx.view(1, 1, w) - centres[:, 0].view(-1, 1, 1)) ** 2 + (gy.view(1, h, 1) - centres[:, 1].view(-1, 1, 1)) ** 2
    logw = -torch.log(d2 + 0.25)       # +0.25: a pixel's own hint counts as half a pixel away
    if guide is not None:
        lightness, point_l = guide
        logw = logw - (lightness.view(1, h, w) - point_l.view(-1, 1, 1)) ** 2 / (2 * GUIDE_SIGMA ** 2)
    return logw, d2


def spread(centres: torch.Tensor, ab: torch.Tensor, size: tuple[int, int],
           guide: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse-distance-weighted (1 / d^2) chroma of K points over an h x w grid of pixel
    centres, and the closeness exp(-d_min / SPREAD_SCALE) to the nearest one.

    ``centres`` (K, 2) as (x, y) in pixels, ``ab`` (K, 2) -> ((2, h, w), (1, h, w)). Also
    the naive-propagation baseline's weighting (``colorlab.hints.baselines``). With ``guide`` =
    (the photo's L* (h, w), each point's L* (K,)), point k's weight at a pixel is also
    multiplied by exp(-(L - L_k)^2 / (2 GUIDE_SIGMA^2)): a colour spreads over what looks
    like the surface it was given on (a cross-bilateral filter of the points)."""
    logw, d2 = _log_weights(centres, size, guide)
    close = torch.exp(-d2.min(0, keepdim=True).values.sqrt() / SPREAD_SCALE)
    # Normalised in log space, so that a pixel unlike every point still gets a finite mix.
    return torch.einsum("khw,kc->chw", torch.softmax(logw, 0), ab.float()), close


def confidence(hints: Hints, lightness: torch.Tensor) -> torch.Tensor:
    """How much the point hints speak for each pixel: (N, 1, h, w) in [0, 1], 0 with no points.

    The spread's weights are normalised over the points, so a single point alone speaks
    for every pixel however far and unlike it, and the networks, trained on true colours
    where one point does tell the cast, then recolour the whole photo with it. Here a
    "no point here" alternative competes: the confidence is S / (S + r^-2), S the sum of
    the points' lightness-guided weights (``spread``) at the pixel and r = ``hints.reach``
    times the short side. A point of equal L* at distance d gets r^2 / (r^2 + d^2) (a pixel
    2 GUIDE_SIGMA lighter or darker weighs it e^-2 as much); many points nearby, close to 1.
    ``lightness`` (N, 1, h, w): the photos' L*."""
    n, _, h, w = lightness.shape
    if not hints.points:
        return lightness.new_zeros(n, 1, h, w)
    cells = point_cells(hints.points, (h, w))
    centres = torch.tensor([(c + 0.5, r + 0.5) for r, c in cells])
    log_r2 = 2 * float(np.log(hints.reach * min(h, w)))
    out = []
    for light in lightness[:, 0].float():
        logw, _ = _log_weights(centres, (h, w), (light, point_lightness(light, cells)))
        out.append(torch.sigmoid(torch.logsumexp(logw, 0, keepdim=True) + log_r2))
    return torch.stack(out)


def hint_maps(hints: Hints, size: tuple[int, int], batch: int = 1,
              lightness: torch.Tensor | None = None) -> torch.Tensor:
    """Hints -> the network's hint input (batch, HINT_CHANNELS, *size) at network resolution.
    ``lightness`` (batch, 1, *size), the photos' L* at that size, guides the spread (``spread``)
    for a guided model; None: plain inverse-distance weighting."""
    h, w = size
    maps = torch.zeros(batch, HINT_CHANNELS, h, w)
    centres, abs_ = [], []
    half = POINT_PATCH // 2
    cells = point_cells(hints.points, size)
    for (cy, cx), (_, _, (a, b)) in zip(cells, hints.points):
        rows, cols = slice(max(0, cy - half), cy + half + 1), slice(max(0, cx - half), cx + half + 1)
        maps[:, 0, rows, cols] = a / AB_SCALE
        maps[:, 1, rows, cols] = b / AB_SCALE
        maps[:, 2, rows, cols] = 1.0
        centres.append((cx + 0.5, cy + 0.5))
        abs_.append((a / AB_SCALE, b / AB_SCALE))
    if centres:
        centres, abs_ = torch.tensor(centres), torch.tensor(abs_)
        if lightness is None:
            maps[:, 6:8], maps[:, 8:9] = spread(centres, abs_, size)
        else:                          # each photo's own lightness guides its spread
            for i in range(batch):
                light = lightness[i, 0].float()
                maps[i, 6:8], maps[i, 8:9] = spread(centres, abs_, size, (light, point_lightness(light, cells)))
    if hints.tint is not None:
        maps[:, 3] = hints.tint[0] / AB_SCALE
        maps[:, 4] = hints.tint[1] / AB_SCALE
        maps[:, 5] = 1.0
    return maps


def prior(space, grey: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """The naive propagation as ``space``'s network target: the grey's L* with the spread
    chroma (hint channels 6, 7) -> (N, C, h, w) in network units, at the maps' size. A
    hint-aware network with a prior gate blends its output towards it near the points."""
    lab = torch.cat([grey_to_L(grey.clamp(0, 1)), maps[:, 6:8] * AB_SCALE], 1)
    return space.target(lab_to_rgb(lab).clamp(0, 1))

