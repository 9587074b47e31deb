"""Design 4: CU-Net (LAB). Three average-pool down-sampling stages, then four dilated
3x3 convolutions (growing receptive field without further down-sampling), two more
convolutions, transpose-conv up-sampling with skips, tanh output."""
import torch
import torch.nn as nn

from .blocks import conv_bn_relu, double_conv
from .registry import register


@register("cunet", "CU-Net: 3 avg-pool stages, 4 dilated convs, 2 convs, transpose-conv up with skips, tanh, MSE")
class CUNet(nn.Module):
    def __init__(self, out_channels: int = 2, widths=(32, 64, 128, 128), dilations=(2, 4, 8, 16)):
        super().__init__()
        c = list(widths)
        self.size_multiple = 8
        self.enc = nn.ModuleList([double_conv(1, c[0]), double_conv(c[0], c[1]), double_conv(c[1], c[2])])
        self.pool = nn.AvgPool2d(2)
        self.context = nn.Sequential(conv_bn_relu(c[2], c[3]),
                                     *[conv_bn_relu(c[3], c[3], dilation=d) for d in dilations],
                                     conv_bn_relu(c[3], c[3]))
        self.ups = nn.ModuleList([nn.ConvTranspose2d(c[3], c[2], 2, 2), nn.ConvTranspose2d(c[2], c[1], 2, 2),
                                  nn.ConvTranspose2d(c[1], c[0], 2, 2)])
        self.dec = nn.ModuleList([double_conv(2 * c[i], c[i]) for i in (2, 1, 0)])
        self.head = nn.Conv2d(c[0], out_channels, 1)

    def forward(self, x):
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.context(x)
        for up, dec in zip(self.ups, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return torch.tanh(self.head(x))
