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
import torch.nn.functional as F

from ..colorspaces import AB_SCALE, grey_to_L, lab_to_rgb
from ..serving.scheduling import pause_point
from .geodesic import nearest
from .spec import Hints

HINT_CHANNELS = 9
POINT_PATCH = 3          # side, in network pixels, of the patch a point hint covers
SPREAD_SCALE = 8.0       # network pixels over which a point's closeness falls by 1/e
# L* difference at which a guided spread's weight falls by e^-1/2. Chosen on val photos
# (60 per category, 10 simulated points, the spread alone as the colorization): 12 beat
# 6 and 9 on faces and general, and was within 0.1 dB of the best on landscapes; against
# plain inverse-distance weighting it gained +0.6 / +1.3 / +0.5 dB (faces / landscapes / general).
GUIDE_SIGMA = 12.0
# Points x pixels per band of ``spread`` (8 MiB per float32 temporary):
# the hint maps' extra memory is a few times this, not points x height x width floats
# (with 256 points at a 1024 x 4096 network size that was about 17 GB).
SPREAD_BAND = 1 << 21
# The number of points at which the points together speak for half of the photo beyond their
# own surfaces (``confidence``): one point 10%, two 31%, five 74%, ten 92%.
CROWD = 3.0
GEODESIC_PIXELS = 1 << 16   # the geodesic distance runs at most at this many pixels (then is up-sampled)


def point_cells(points, size: tuple[int, int]) -> list[tuple[int, int]]:
    """The (row, col) cell of an h x w grid that each point ((x, y, ...), ...) falls in."""
    h, w = size
    return [(min(int(p[1] * h), h - 1), min(int(p[0] * w), w - 1)) for p in points]


def point_lightness(lightness: torch.Tensor, cells) -> torch.Tensor:
    """The L* (K,) of an (h, w) L* map at each (row, col) of ``cells``: the points' own lightness."""
    return torch.stack([lightness[r, c] for r, c in cells]).float()


def _bands(points: int, h: int, w: int) -> list[slice]:
    """Row ranges of an h x w grid such that points x rows x w is at most ``SPREAD_BAND``
    (one row at least): ``spread`` works band by band."""
    step = max(1, SPREAD_BAND // max(1, points * w))
    return [slice(r, min(r + step, h)) for r in range(0, h, step)]


def _log_weights(centres: torch.Tensor, size: tuple[int, int], guide=None,
                 rows: slice | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(log weight of each point at each pixel (K, r, w), squared distances (K, r, w)) for
    the grid's rows ``rows`` (None: all h of them): see ``spread``."""
    h, w = size
    rows = slice(0, h) if rows is None else rows
    gy = torch.arange(rows.start, rows.stop, dtype=torch.float32) + 0.5
    gx = torch.arange(w, dtype=torch.float32) + 0.5
    dx, dy = gx.view(1, 1, w) - centres[:, 0].view(-1, 1, 1), gy.view(1, -1, 1) - centres[:, 1].view(-1, 1, 1)
    d2 = dx ** 2 + dy ** 2
    del dx, dy
    logw = -torch.log(d2 + 0.25)       # +0.25: a pixel's own hint counts as half a pixel away
    if guide is not None:
        lightness, point_l = guide
        logw -= (lightness[rows].view(1, -1, w) - point_l.view(-1, 1, 1)) ** 2 / (2 * GUIDE_SIGMA ** 2)
    return logw, d2


def spread(centres: torch.Tensor, ab: torch.Tensor, size: tuple[int, int],
           guide: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse-distance-weighted (1 / d^2) chroma of K points over an h x w grid of pixel
    centres, and the closeness exp(-d_min / SPREAD_SCALE) to the nearest one.

    ``centres`` (K, 2) as (x, y) in pixels, ``ab`` (K, 2) -> ((2, h, w), (1, h, w)). Also
    the naive-propagation baseline's weighting (``colorlab.hints.baselines``). With ``guide`` =
    (the photo's L* (h, w), each point's L* (K,)), point k's weight at a pixel is also
    multiplied by exp(-(L - L_k)^2 / (2 GUIDE_SIGMA^2)): a colour spreads over what looks
    like the surface it was given on (a cross-bilateral filter of the points).

    Memory: computed in bands of rows (``_bands``), so the (K, rows, w) temporaries stay
    under ``SPREAD_BAND`` floats each whatever K and the grid's size; a pixel's value does
    not depend on the band it is in."""
    h, w = size
    mix, close, ab = torch.empty(2, h, w), torch.empty(1, h, w), ab.float()
    for rows in _bands(len(centres), h, w):
        pause_point()   # in the app, a big job gives way to small ones here (colorlab.serving.scheduling)
        logw, d2 = _log_weights(centres, size, guide, rows)
        close[:, rows] = torch.exp(-d2.min(0, keepdim=True).values.sqrt() / SPREAD_SCALE)
        del d2
        # Normalised in log space, so that a pixel unlike every point still gets a finite mix.
        mix[:, rows] = torch.einsum("khw,kc->chw", torch.softmax(logw, 0), ab)
    return mix, close


def confidence(hints: Hints, lightness: torch.Tensor) -> torch.Tensor:
    """How much the point hints speak for each pixel: (N, 1, h, w) float32 in [0, 1], 0 with no points.

    The networks learnt from true colours, where one point does tell the photo's cast, so
    with one point they recolour the whole photo; a person placing one point means "this
    surface is this colour". So a pixel's confidence is 1 - (1 - local) (1 - crowd):

    * local = exp(-d^2 / (2 r^2)), d the lightness-guided geodesic distance to the nearest
      point (``colorlab.hints.geodesic``: crossing an edge of 10 L* costs like 30 pixels)
      and r = ``hints.reach`` times the short side: the surface the point was put on,
      bounded by the photo's edges;
    * crowd = K^2 / (K^2 + CROWD^2) for K points, the same everywhere: many points together
      describe the whole photo (ten: 0.92), one alone does not (0.10).

    ``lightness`` (N, 1, h, w): the photos' L* at the network's size. Cost: one Dijkstra
    pass per photo whatever the number of points, on at most GEODESIC_PIXELS pixels; memory
    O(h w), not O(K h w)."""
    n, _, h, w = lightness.shape
    if not hints.points:
        return lightness.new_zeros(n, 1, h, w, dtype=torch.float32)
    cells = point_cells(hints.points, (h, w))
    r2 = 2 * (hints.reach * min(h, w)) ** 2
    k2 = len(hints.points) ** 2
    crowd = k2 / (k2 + CROWD ** 2)
    scale = min(1.0, (GEODESIC_PIXELS / (h * w)) ** 0.5)   # a large render: distances on a coarser grid
    small = (max(1, round(h * scale)), max(1, round(w * scale)))
    light = lightness.float().cpu()
    if small != (h, w):
        light = F.interpolate(light, size=small, mode="area")
        cells = point_cells(hints.points, small)
    out = []
    for one in light[:, 0]:
        pause_point()   # in the app, a big job gives way to small ones here (colorlab.serving.scheduling)
        dist, _ = nearest(one.numpy(), cells)
        out.append(torch.from_numpy(np.exp(-dist ** 2 / (r2 * scale ** 2))).float())
    local = torch.stack(out)[:, None]
    if small != (h, w):
        local = F.interpolate(local, size=(h, w), mode="bilinear", align_corners=False)
    return (1 - (1 - local) * (1 - crowd)).to(lightness.device)


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

