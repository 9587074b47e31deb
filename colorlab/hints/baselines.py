"""Naive colorizations from hints alone, which a network given the same hints has to beat.

* ``flat_tint``: the photo's own L* with the tint's (a, b) everywhere.
* ``propagate``: the point hints' (a, b) spread over the image by inverse-distance
  weighting (weight 1 / d^2), on the photo's own L*; where there are no points, the
  tint's (a, b), and grey where there is neither.
* ``guided_propagate``: the same, with each point's weight also falling with the L*
  difference between the pixel and the point (``colorlab.hints.encoding.spread``'s guide). This is
  the spread the *guided* hint-aware models are given; it is reported beside them so
  that what the network adds to its own prior can be seen. It is not the bar's baseline.

Both return uint8 sRGB (H, W, 3) at the photo's size, assembled like the LAB models'
output (``colorlab.colorspaces.LabSpace.decode``: L* from the photo, chroma reduced
to fit the gamut).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..colorspaces import AB_SCALE, get_space, grey_to_L, rgb_to_grey
from ..imaging import array_to_tensor, tensor_to_array
from .encoding import point_cells, point_lightness, spread
from .spec import Hints

PROPAGATION_SIDE = 256   # the weighting runs at most at this short side, then is up-sampled (it is smooth)


def _assemble(photo: np.ndarray, ab: torch.Tensor) -> np.ndarray:
    """Photo (H, W, 3) uint8 and chroma ab (1, 2, h, w) in CIE units -> uint8 sRGB."""
    grey = rgb_to_grey(array_to_tensor(photo))
    rgb = get_space("lab").decode(grey, ab / AB_SCALE)
    return tensor_to_array(rgb.clamp(0, 1))


def flat_tint(photo: np.ndarray, tint_ab) -> np.ndarray:
    """The photo's L* with chroma ``tint_ab`` = (a, b) everywhere."""
    ab = torch.tensor([float(tint_ab[0]), float(tint_ab[1])]).view(1, 2, 1, 1)
    return _assemble(photo, ab)


def idw_chroma(points, size: tuple[int, int], lightness: torch.Tensor | None = None) -> torch.Tensor:
    """Inverse-distance-weighted (1 / d^2) (a, b) of ``points`` ((x, y, (a, b)), ...) on an
    h x w grid of pixel centres -> (1, 2, h, w). At a hint's own pixel its chroma dominates.
    ``lightness`` (h, w), the photo's L* on that grid, guides the weights (``spread``)."""
    h, w = size
    centres = torch.tensor([(x * w, y * h) for x, y, _ in points], dtype=torch.float32)
    ab = torch.tensor([ab for _, _, ab in points], dtype=torch.float32)
    guide = None if lightness is None else (lightness, point_lightness(lightness, point_cells(points, size)))
    return spread(centres, ab, size, guide)[0][None]


def propagate(photo: np.ndarray, hints: Hints, guided: bool = False) -> np.ndarray:
    """Naive propagation of ``hints`` over ``photo`` (module docstring); ``guided``: the
    lightness-guided spread (``guided_propagate``)."""
    h, w = photo.shape[:2]
    if not hints.points:
        return flat_tint(photo, hints.tint if hints.tint is not None else (0.0, 0.0))
    scale = min(1.0, PROPAGATION_SIDE / min(h, w))
    small = (max(1, round(h * scale)), max(1, round(w * scale)))
    if guided:
        light = F.interpolate(grey_to_L(rgb_to_grey(array_to_tensor(photo))), size=small, mode="area")[0, 0]
        ab = idw_chroma(hints.points, small, light)
    else:
        ab = idw_chroma(hints.points, small)
    if small != (h, w):
        ab = F.interpolate(ab, size=(h, w), mode="bilinear", align_corners=False)
    return _assemble(photo, ab)


def guided_propagate(photo: np.ndarray, hints: Hints) -> np.ndarray:
    """The lightness-guided propagation of ``hints`` over ``photo`` (module docstring)."""
    return propagate(photo, hints, guided=True)
