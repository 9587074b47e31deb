"""Design 1: the RGB U-Net. Grey -> RGB with six stride-2 3x3 convolutions down
(LeakyReLU), six transpose convolutions up (ReLU), skip concatenations, tanh."""
import torch
import torch.nn as nn

from .registry import register


@register("rgb_unet", "RGB U-Net: 6 stride-2 convs down, 6 up, skips, tanh, MSE")
class RGBUNet(nn.Module):
    def __init__(self, out_channels: int = 3, widths=(16, 32, 64, 128, 128, 128)):
        super().__init__()
        assert len(widths) == 6, "the design has six levels"
        self.size_multiple = 64
        self.down = nn.ModuleList()
        cin = 1
        for w in widths:
            self.down.append(nn.Sequential(nn.Conv2d(cin, w, 3, 2, 1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2, True)))
            cin = w
        self.up = nn.ModuleList()
        skips = list(widths[:-1])[::-1] + [1]          # what each up level concatenates
        outs = list(widths[:-1])[::-1] + [widths[0]]
        for skip, w in zip(skips, outs):
            self.up.append(nn.Sequential(nn.ConvTranspose2d(cin, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(True)))
            cin = w + skip
        self.head = nn.Conv2d(cin, out_channels, 3, 1, 1)

    def forward(self, x):
        feats = [x]
        for layer in self.down:
            feats.append(layer(feats[-1]))
        h = feats.pop()
        for layer in self.up:
            h = torch.cat([layer(h), feats.pop()], 1)
        return torch.tanh(self.head(h))
