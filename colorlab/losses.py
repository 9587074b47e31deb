"""Training losses. Predictions and targets are network-range tensors (N, C, H, W)
in [-1, 1] as produced by ``colorlab.colorspaces`` (HSV: channel 0 = 2h-1, channel
1 = 2s-1). ``get_loss(name)`` returns ``fn(pred, target, grey) -> scalar``; ``grey``
(N,1,H,W) in [0,1] is the input photo, needed by losses that rebuild V.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .colorspaces import HsvSpace, rgb_to_hsv

VIVID_LAMBDA = 1.15


def cyclic_hue_l1(h_pred: torch.Tensor, h_true: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean circular L1 between hues in [-1, 1] (one turn = 2): d = |a-b|, 2-d where d > 1.

    Hue 0.05 and 0.95 of a turn (-0.9 and 0.9 here) are 0.2 apart here, i.e. 0.1 turn.
    ``weight`` (same shape) gives a weighted mean, e.g. by saturation.
    """
    d = (h_pred - h_true).abs() % 2
    d = torch.where(d > 1, 2 - d, d)
    if weight is None:
        return d.mean()
    return (d * weight).sum() / weight.sum().clamp(min=1e-6)


def hue_cossin_loss(h_pred: torch.Tensor, h_true: torch.Tensor) -> torch.Tensor:
    """MSE between hues embedded on the unit circle as (cos, sin); hue in [-1, 1]."""
    a, b = math.pi * h_pred, math.pi * h_true
    return ((torch.cos(a) - torch.cos(b)) ** 2 + (torch.sin(a) - torch.sin(b)) ** 2).mean()


def vividness_k(s_pred: torch.Tensor) -> torch.Tensor:
    """K = mean(1 - S) with S in [0, 1]: small when the prediction is vivid."""
    return (1 - s_pred).mean()


def _hs(t: torch.Tensor):
    """Network-range HSV chroma -> hue in [-1, 1], saturation in [0, 1]."""
    return t[:, :1], (t[:, 1:2] + 1) / 2


def _assembled_v(pred: torch.Tensor, grey: torch.Tensor) -> torch.Tensor:
    hue, sat = HsvSpace.hs_from_pred(pred)
    return rgb_to_hsv(HsvSpace.assemble(grey, hue, sat))[:, 2:3]


def weighted_mae(pred, target, grey, lam: float = VIVID_LAMBDA):
    """(MAE(H) + lam * MAE(S) + MAE(V)) / 3, hue error circular, V of the assembled output."""
    (hp, sp), (ht, st) = _hs(pred), _hs(target)
    v_true = rgb_to_hsv(HsvSpace.assemble(grey, (ht + 1) / 2, st))[:, 2:3]
    return (cyclic_hue_l1(hp, ht) + lam * (sp - st).abs().mean() + (_assembled_v(pred, grey) - v_true).abs().mean()) / 3


def l1_vivid(pred, target, grey, lam: float = VIVID_LAMBDA):
    """L1 + lam * K: the HSV U-Net's vividness-encouraging loss."""
    return F.l1_loss(pred, target) + lam * vividness_k(_hs(pred)[1])


def hsv_cyclic(pred, target, grey, lam: float = 1.0):
    """S_L1 + lam * H_cyclic: the pyramid's loss; hue error weighted by true saturation."""
    (hp, sp), (ht, st) = _hs(pred), _hs(target)
    return (sp - st).abs().mean() + lam * cyclic_hue_l1(hp, ht, weight=st)


def hsv_l1hue(pred, target, grey, lam: float = 1.0):
    """``hsv_cyclic`` without the wrap-around: S_L1 + lam * plain |H_p - H_t| weighted by true
    saturation, so hue 0.05 and 0.95 of a turn are 0.9 turn apart. The control for the
    pyramid paper's claim that the cyclic hue loss reduces hue artefacts."""
    (hp, sp), (ht, st) = _hs(pred), _hs(target)
    hue = ((hp - ht).abs() * st).sum() / st.sum().clamp(min=1e-6)
    return (sp - st).abs().mean() + lam * hue


def hsv_cossin(pred, target, grey):
    """S_L1 + hue on the unit circle, weighted by true saturation."""
    (hp, sp), (ht, st) = _hs(pred), _hs(target)
    a, b = math.pi * hp, math.pi * ht
    d = ((torch.cos(a) - torch.cos(b)) ** 2 + (torch.sin(a) - torch.sin(b)) ** 2) * st
    return (sp - st).abs().mean() + d.sum() / st.sum().clamp(min=1e-6)


def chroma_deficit(c_pred: torch.Tensor, c_true: torch.Tensor) -> torch.Tensor:
    """Mean over images of max(0, mean chroma of the truth - mean chroma of the prediction).

    ``c_pred``, ``c_true``: (N,1,H,W) colour strength (``ColorSpace.chroma``). Regression
    losses pull uncertain pixels towards grey, so outputs come out muted; this term
    pushes back only while an image is less colourful than its truth, so unlike
    ``l1_vivid`` it cannot reward colour beyond the photo's own.
    """
    return F.relu(c_true.mean((1, 2, 3)) - c_pred.mean((1, 2, 3))).mean()


LOSSES = {
    "mse": lambda p, t, g: F.mse_loss(p, t),
    "l1": lambda p, t, g: F.l1_loss(p, t),
    "smooth_l1": lambda p, t, g: F.smooth_l1_loss(p, t, beta=0.1),
    "l1_vivid": l1_vivid,
    "weighted_mae": weighted_mae,
    "hsv_cyclic": hsv_cyclic,
    "hsv_l1hue": hsv_l1hue,
    "hsv_cossin": hsv_cossin,
}
WEIGHTED = ("l1_vivid", "weighted_mae", "hsv_cyclic", "hsv_l1hue")   # take a weight: NAME@LAMBDA


def get_loss(name: str):
    """``LOSSES[name]``; ``NAME@LAMBDA`` (e.g. ``l1_vivid@0.25``) sets the weight ``lam`` of a
    loss in ``WEIGHTED`` (the vividness or hue term)."""
    base, sep, lam = name.partition("@")
    try:
        fn = LOSSES[base]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose from {sorted(LOSSES)}") from None
    if not sep:
        return fn
    try:
        value = float(lam)
    except ValueError:
        raise ValueError(f"loss {name!r}: weight {lam!r} is not a number") from None
    if base not in WEIGHTED or not math.isfinite(value) or value < 0:
        raise ValueError(f"loss {name!r}: a weight >= 0 is only for {', '.join(WEIGHTED)}")

    def weighted(pred, target, grey):
        return fn(pred, target, grey, lam=value)
    return weighted
