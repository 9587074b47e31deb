"""Design 3: the HSV 4-level U-Net. V -> (H, S). Four down-sampling levels of double
3x3 convolutions; the paper uses widths 64..1024 (31M parameters), here ``base``
sets the first width and each level doubles it. Trained with the vividness losses."""
import torch
import torch.nn as nn

from .blocks import double_conv
from .registry import register


@register("hsv_unet", "HSV 4-level U-Net (paper: 64..1024 channels, 31M params) with vividness losses")
class HsvUNet(nn.Module):
    def __init__(self, out_channels: int = 2, base: int = 16):
        super().__init__()
        w = [base * 2 ** i for i in range(5)]
        self.size_multiple = 16
        self.enc = nn.ModuleList([double_conv(1, w[0])] + [double_conv(w[i], w[i + 1]) for i in range(4)])
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList([nn.ConvTranspose2d(w[i + 1], w[i], 2, 2) for i in reversed(range(4))])
        self.dec = nn.ModuleList([double_conv(2 * w[i], w[i]) for i in reversed(range(4))])
        self.head = nn.Conv2d(w[0], out_channels, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.enc):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.ups, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return torch.tanh(self.head(x))
