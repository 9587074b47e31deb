"""Design 5: the two-stage multi-scale pyramid (HSV).

Stage 1 sees the grey input at 1/4 scale and predicts (H, S) there with twelve 3x3
convolutions (ReLU, last one tanh). Stage 2 has two branches: the grey at 1/4 with
the stage-1 output, and the grey at 1/2 with the stage-1 output up-scaled; they are
merged at 1/2 and up-sampled to full-size (H, S). The stage-1 output of the last
forward pass is kept in ``self.aux`` so the trainer can supervise it too.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import conv_bn_relu
from .registry import register


@register("pyramid", "Two-stage multi-scale HSV pyramid: 12-conv stage at 1/4, two-branch refinement, cyclic hue loss")
class Pyramid(nn.Module):
    def __init__(self, out_channels: int = 2, width: int = 32, stage1_layers: int = 12):
        super().__init__()
        self.size_multiple = 4
        layers = [conv_bn_relu(1, width)] + [conv_bn_relu(width, width) for _ in range(stage1_layers - 2)]
        self.stage1 = nn.Sequential(*layers, nn.Conv2d(width, out_channels, 3, 1, 1))
        cin = 1 + out_channels
        self.branch_quarter = nn.Sequential(conv_bn_relu(cin, width), conv_bn_relu(width, width))
        self.branch_half = nn.Sequential(conv_bn_relu(cin, width), conv_bn_relu(width, width))
        self.merge = nn.Sequential(conv_bn_relu(2 * width, width), conv_bn_relu(width, width))
        self.full = nn.Sequential(conv_bn_relu(width + 1, width // 2), nn.Conv2d(width // 2, out_channels, 3, 1, 1))
        self.aux = None

    def forward(self, x):
        half, quarter = F.avg_pool2d(x, 2), F.avg_pool2d(x, 4)
        s1 = torch.tanh(self.stage1(quarter))
        self.aux = s1
        q = self.branch_quarter(torch.cat([quarter, s1], 1))
        s1_half = F.interpolate(s1, scale_factor=2, mode="bilinear", align_corners=False)
        h = self.branch_half(torch.cat([half, s1_half], 1))
        m = self.merge(torch.cat([F.interpolate(q, scale_factor=2, mode="bilinear", align_corners=False), h], 1))
        m = F.interpolate(m, scale_factor=2, mode="bilinear", align_corners=False)
        return torch.tanh(self.full(torch.cat([m, x], 1)))
