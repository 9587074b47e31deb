"""Visual diagnostics for colorized images, on uint8 sRGB arrays (H, W, 3).

* ``channel_views`` shows an image's three channels in one colour space, each with
  a colour map that says what the channel means.
* ``hue_artifact_map`` locates hue errors: against a reference (circular hue error
  weighted by the reference's saturation) or, without one, speckle and red
  wrap-around seams (the saturation-weighted circular gradient of the hue).
* ``artifact_heatmap`` renders such a map for display.
* ``colour_cast`` and ``cast_split`` separate an image's colour into its cast (the
  mean a, b) and the rest, to ask how much of a colorization's error is a wrong
  cast: ``cast_split`` gives the prediction with the reference's cast put in its
  place, and the prediction reduced to its own cast.

All colour maths comes from ``colorlab.colorspaces``.
"""
from __future__ import annotations

import matplotlib
import numpy as np
import torch

from .colorspaces import get_space, hsv_to_rgb, lab_to_rgb, rgb_to_hsv, rgb_to_lab
from .imaging import array_to_tensor, tensor_to_array

AB_RANGE = 80.0        # a and b views saturate at +-80, so views of different images compare
AB_VIEW_L = 65.0       # lightness the a and b views are drawn at (light enough for blue, dark enough for yellow)
MIN_SATURATION = 0.1   # below this a pixel's hue is noise and is not counted
HUE_ERROR_MAX = 0.5    # the largest circular hue difference, in turns


def _tensor(rgb_uint8: np.ndarray) -> torch.Tensor:
    if rgb_uint8.dtype != np.uint8 or rgb_uint8.ndim != 3 or rgb_uint8.shape[2] != 3:
        raise ValueError(f"expected uint8 (H, W, 3), got {rgb_uint8.dtype} {rgb_uint8.shape}")
    return array_to_tensor(rgb_uint8)


def _grey_view(channel: torch.Tensor) -> np.ndarray:
    """(1,1,H,W) in [0,1] -> uint8 (H,W,3) grey."""
    return tensor_to_array(channel.expand(-1, 3, -1, -1))


def _lab_views(lab: torch.Tensor) -> list[np.ndarray]:
    # a and b are drawn as the colours they stand for: LAB at a fixed lightness with
    # the other chroma axis at 0, so 0 is neutral grey (a diverging map by construction).
    L, a, b = lab[:, :1], lab[:, 1:2], lab[:, 2:]
    light, zero = torch.full_like(L, AB_VIEW_L), torch.zeros_like(L)
    a, b = a.clamp(-AB_RANGE, AB_RANGE), b.clamp(-AB_RANGE, AB_RANGE)
    return [_grey_view(L / 100),
            tensor_to_array(lab_to_rgb(torch.cat([light, a, zero], 1))),
            tensor_to_array(lab_to_rgb(torch.cat([light, zero, b], 1)))]


def _hsv_views(hsv: torch.Tensor) -> list[np.ndarray]:
    ones = torch.ones_like(hsv[:, :1])
    return [tensor_to_array(hsv_to_rgb(torch.cat([hsv[:, :1], ones, ones], 1))),
            _grey_view(hsv[:, 1:2]), _grey_view(hsv[:, 2:])]


def _rgb_views(rgb: torch.Tensor) -> list[np.ndarray]:
    # Channel i alone: red, green or blue at that channel's intensity.
    return [tensor_to_array(rgb * torch.eye(3)[i].view(1, 3, 1, 1)) for i in range(3)]


_VIEWS = {"lab": (_lab_views, ("L (lightness)", "a (green - magenta)", "b (blue - yellow)")),
          "hsv": (_hsv_views, ("H (hue)", "S (saturation)", "V (value)")),
          "rgb": (_rgb_views, ("R (red)", "G (green)", "B (blue)"))}


def channel_views(rgb_uint8: np.ndarray, space: str) -> list[tuple[str, np.ndarray]]:
    """The three channels of ``rgb_uint8`` (uint8 (H,W,3) sRGB) in ``space`` as images.

    Returns three ``(label, view)`` pairs, each view uint8 (H,W,3):

    * ``lab``: L as grey (0 black .. 100 white); a and b as the colours they encode,
      drawn at L* = 65 and clipped to +-80, so 0 is neutral grey, -80 full green / blue
      and +80 full magenta / yellow whatever the image.
    * ``hsv``: H on the hue wheel at full saturation and value; S and V as grey (0..1).
    * ``rgb``: each channel alone, tinted red, green or blue.

    Raises ``ValueError`` for an unknown space or a non-uint8 (H,W,3) array.
    """
    render, labels = _VIEWS[get_space(space).name]
    channels = get_space(space).to_channels(_tensor(rgb_uint8))
    return list(zip(labels, render(channels)))


def _circular(d: torch.Tensor) -> torch.Tensor:
    """A hue difference in turns -> the same difference wrapped to [-0.5, 0.5)."""
    return (d + 0.5) % 1.0 - 0.5


def _hue_gradient(hue: torch.Tensor, sat: torch.Tensor) -> torch.Tensor:
    """Circular gradient magnitude of ``hue`` (H,W) in turns; each forward difference
    is weighted by the smaller saturation of its two pixels, because a hue jump means
    nothing next to a grey pixel (whose hue is arbitrary). The last row/column repeats."""
    dx = _circular(hue[:, 1:] - hue[:, :-1]) * torch.minimum(sat[:, 1:], sat[:, :-1])
    dy = _circular(hue[1:] - hue[:-1]) * torch.minimum(sat[1:], sat[:-1])
    dx = torch.cat([dx, dx[:, -1:]], 1) if dx.shape[1] else torch.zeros_like(hue)
    dy = torch.cat([dy, dy[-1:]], 0) if dy.shape[0] else torch.zeros_like(hue)
    return torch.hypot(dx, dy)


def hue_artifact_map(pred_uint8: np.ndarray, reference_uint8: np.ndarray | None = None):
    """Where the hue of ``pred_uint8`` is wrong or unstable -> (map, score).

    Both images are uint8 (H,W,3) sRGB of the same shape. Hue is measured in turns.

    * With ``reference_uint8``: ``map = |dh| * S_ref``, the circular hue error
      (0.05 vs 0.95 turn is 0.1) weighted by the reference's saturation, in [0, 0.5].
    * Without: the circular gradient magnitude of the predicted hue (each finite
      difference wrapped to [-0.5, 0.5) turns and weighted by the smaller saturation
      of its pixel pair), in [0, 0.71]; it lights up speckle and red wrap-around seams.

    Pixels whose saturation (the reference's, or the prediction's without one) is
    below ``MIN_SATURATION`` have no meaningful hue: their map value is 0 and they are
    not counted. ``score`` is the mean of the map over the counted pixels (0.0 when
    none count): with a reference, the mean saturation-weighted hue error in turns.

    Returns ``(map float32 (H,W), score float)``.
    """
    hsv = rgb_to_hsv(_tensor(pred_uint8))[0]
    if reference_uint8 is not None:
        if reference_uint8.shape != pred_uint8.shape:
            raise ValueError(f"reference shape {reference_uint8.shape} differs from {pred_uint8.shape}")
        ref = rgb_to_hsv(_tensor(reference_uint8))[0]
        sat = ref[1]
        amap = _circular(hsv[0] - ref[0]).abs() * sat
    else:
        sat = hsv[1]
        amap = _hue_gradient(hsv[0], sat)
    counted = sat >= MIN_SATURATION
    amap = torch.where(counted, amap, torch.zeros_like(amap))
    score = float(amap[counted].mean()) if counted.any() else 0.0
    return amap.numpy().astype(np.float32), score


def artifact_heatmap(amap: np.ndarray, vmax: float = HUE_ERROR_MAX, cmap: str = "inferno") -> np.ndarray:
    """A map (H,W) of values in [0, ``vmax``] -> uint8 (H,W,3) RGB through a matplotlib
    colour map (values above ``vmax`` saturate). The fixed default ``vmax`` (half a
    turn, the largest hue error) keeps heatmaps of different images comparable."""
    if vmax <= 0:
        raise ValueError(f"vmax must be positive, got {vmax}")
    x = np.clip(np.nan_to_num(np.asarray(amap, dtype=np.float64)) / vmax, 0.0, 1.0)
    return matplotlib.colormaps[cmap](x, bytes=True)[..., :3]


def colour_cast(rgb_uint8: np.ndarray) -> np.ndarray:
    """An image's colour cast: its mean CIELAB (a, b) over all pixels, float64 shape (2,)."""
    return rgb_to_lab(_tensor(rgb_uint8))[0, 1:].mean((1, 2)).double().numpy()


def cast_split(pred_uint8: np.ndarray, reference_uint8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pred with the reference's cast, pred as its cast alone), uint8 (H, W, 3) each.

    The first shifts the prediction's a, b by (reference cast - prediction cast): its
    local colour kept, its cast made right. The second replaces every pixel's a, b by
    the prediction's own cast: only the cast kept. Lightness is the prediction's in both.
    """
    if pred_uint8.shape != reference_uint8.shape:
        raise ValueError(f"shapes differ: {pred_uint8.shape} vs {reference_uint8.shape}")
    lab = rgb_to_lab(_tensor(pred_uint8))
    cast = lab[:, 1:].mean((2, 3), keepdim=True)
    shift = torch.from_numpy(colour_cast(reference_uint8)).float().view(1, 2, 1, 1) - cast
    right_cast = torch.cat([lab[:, :1], lab[:, 1:] + shift], 1)
    cast_only = torch.cat([lab[:, :1], cast.expand_as(lab[:, 1:])], 1)
    return tensor_to_array(lab_to_rgb(right_cast)), tensor_to_array(lab_to_rgb(cast_only))
