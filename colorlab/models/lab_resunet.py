"""Design 2: the LAB residual U-Net. L -> ab. Each block is conv-BN-ReLU followed by
a residual block (conv-BN-ReLU-conv-BN + input); two max-pool levels, a residual
bottleneck, transpose-conv up-sampling with skips, 1x1 conv to the chroma, tanh."""
import torch
import torch.nn as nn

from .blocks import conv_bn_relu
from .registry import register


class Residual(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn_relu(ch, ch), nn.Conv2d(ch, ch, 3, 1, 1, bias=False), nn.BatchNorm2d(ch))

    def forward(self, x):
        return torch.relu(x + self.body(x))


def res_block(cin, cout):
    return nn.Sequential(conv_bn_relu(cin, cout), Residual(cout))


@register("lab_resunet", "LAB residual U-Net: 32/64/128 residual blocks, 2 max-pools, transpose-conv up, tanh, MSE")
class LabResUNet(nn.Module):
    def __init__(self, out_channels: int = 2, widths=(32, 64, 128)):
        super().__init__()
        c1, c2, c3 = widths
        self.size_multiple = 4
        self.enc1, self.enc2 = res_block(1, c1), res_block(c1, c2)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = nn.Sequential(res_block(c2, c3), Residual(c3))
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, 2)
        self.dec2 = res_block(2 * c2, c2)
        self.up1 = nn.ConvTranspose2d(c2, c1, 2, 2)
        self.dec1 = res_block(2 * c1, c1)
        self.head = nn.Conv2d(c1, out_channels, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        b = self.bottleneck(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return torch.tanh(self.head(d1))
