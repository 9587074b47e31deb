"""Differentiable colour-space conversions and the per-space network encoding.

All tensors are float, shaped (N, C, H, W), on any device.

Conventions
-----------
* sRGB: three channels in [0, 1] (gamma-encoded, as stored in image files).
* CIE LAB (D65, 2 degree observer): L in [0, 100], a and b roughly in [-128, 127].
* HSV: hue as a fraction of a turn in [0, 1) (0 = red), S and V in [0, 1].
* Grey: one channel in [0, 1]; the sRGB encoding of relative luminance Y, i.e. the
  grey that has the same CIE L* as the colour pixel. Every model sees this grey.

Network encoding (``SPACES``): each space maps an RGB batch to the network input
(its lightness channel, in [-1, 1]) and a target (its chroma channels, in [-1, 1]),
and maps a prediction back to RGB at full resolution with ``decode``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# sRGB primaries -> CIE XYZ (D65), IEC 61966-2-1.
_RGB2XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                         [0.212671, 0.715160, 0.072169],
                         [0.019334, 0.119193, 0.950227]])
_XYZ2RGB = torch.linalg.inv(_RGB2XYZ)
_WHITE_D65 = torch.tensor([0.95047, 1.0, 1.08883])
_EPS = 216 / 24389      # CIE epsilon: below it f(t) is linear
_KAPPA = 24389 / 27
AB_SCALE = 110.0        # |a|, |b| of sRGB colours stay below ~110 (except extreme b)


# The piecewise curves below are written as curve(max(x, knee)) + line(min(x, knee)) - the
# value where the two pieces meet, instead of torch.where: the same function (the pieces meet
# at the knee to 1e-8), gradients included, but min/max are ~40x faster than torch.where on
# CPU, and these run on every full-resolution pixel.
_SRGB_KNEE, _LINEAR_KNEE = 0.04045, 0.0031308


def srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    """Undo the sRGB transfer curve; values in [0, 1] -> linear light in [0, 1]."""
    curve = ((c.clamp(min=_SRGB_KNEE) + 0.055) / 1.055) ** 2.4
    return curve + (c.clamp(max=_SRGB_KNEE) - _SRGB_KNEE) / 12.92


def linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    """Apply the sRGB transfer curve; linear light in [0, 1] -> sRGB in [0, 1]."""
    c = c.clamp(0.0, 1.0)
    curve = 1.055 * c.clamp(min=_LINEAR_KNEE) ** (1 / 2.4) - 0.055
    # the standard's pieces miss by 3e-8 at the knee: clamp so that black stays >= 0
    return (curve + (c.clamp(max=_LINEAR_KNEE) - _LINEAR_KNEE) * 12.92).clamp(min=0.0)


def _mix(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", m.to(x), x)


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """Relative luminance Y in [0, 1] of sRGB ``rgb`` (N,3,H,W) -> (N,1,H,W)."""
    return _mix(srgb_to_linear(rgb), _RGB2XYZ[1:2])


def rgb_to_grey(rgb: torch.Tensor) -> torch.Tensor:
    """The grey (N,1,H,W) in [0,1] with the same luminance as sRGB ``rgb`` (N,3,H,W)."""
    return linear_to_srgb(luminance(rgb))


_F_KNEE = 6 / 29        # f(_EPS): the cube root of _EPS, where CIE's f turns linear


def _f(t: torch.Tensor) -> torch.Tensor:
    # (max form, as the sRGB curves) below _EPS: 6/29 + kappa (t - eps) / 116 = (kappa t + 16) / 116
    return t.clamp(min=_EPS) ** (1 / 3) + (t.clamp(max=_EPS) - _EPS) * (_KAPPA / 116)


def _f_inv(f: torch.Tensor) -> torch.Tensor:
    # below the knee: eps + 116 (f - 6/29) / kappa = (116 f - 16) / kappa
    return f.clamp(min=_F_KNEE) ** 3 + (f.clamp(max=_F_KNEE) - _F_KNEE) * (116 / _KAPPA)


def grey_to_L(grey: torch.Tensor) -> torch.Tensor:
    """CIE L* in [0, 100] of a grey image in [0, 1]."""
    return 116 * _f(srgb_to_linear(grey)) - 16


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB (N,3,H,W) in [0,1] -> CIE LAB (N,3,H,W), D65. Matches skimage.color.rgb2lab."""
    xyz = _mix(srgb_to_linear(rgb), _RGB2XYZ) / _WHITE_D65.to(rgb).view(1, 3, 1, 1)
    fx, fy, fz = _f(xyz).unbind(1)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """CIE LAB (N,3,H,W), D65 -> sRGB (N,3,H,W) clipped to [0, 1] (out-of-gamut colours clip)."""
    L, a, b = lab.unbind(1)
    fy = (L + 16) / 116
    f = torch.stack([fy + a / 500, fy, fy - b / 200], 1)
    xyz = _f_inv(f) * _WHITE_D65.to(lab).view(1, 3, 1, 1)
    return linear_to_srgb(_mix(xyz, _XYZ2RGB))


def _lab_to_linear(lab: torch.Tensor) -> torch.Tensor:
    """CIE LAB rows (P, 3) -> linear-light sRGB rows (P, 3), unclipped."""
    fy = (lab[:, 0] + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], 1)
    return (_f_inv(f) * _WHITE_D65.to(lab)) @ _XYZ2RGB.to(lab).T


GAMUT_STEPS = 10        # bisection steps on the chroma scale: 2^-10 of the predicted chroma
_GAMUT_TOL = 1e-5       # linear-light slack (float error at the gamut's surface)


def _fit_chroma(L: torch.Tensor, a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """Per colour (1-D L*, a, b), the largest factor t in [0, 1] (to 2^-steps) whose
    (L*, t a, t b) is in the sRGB gamut: L* and hue stay, only chroma shrinks.

    L* fixes f(Y) and so Y; only X and Z move with t: fx = fy + t a / 500,
    fz = fy - t b / 200, and each linear channel is m0 X(fx) + m1 Y + m2 Z(fz)."""
    m = (_XYZ2RGB * _WHITE_D65).to(L)                # columns scaled by the white point
    fy = (L + 16) / 116
    ka, kb = a / 500, -b / 200
    base = m[:, 1:2] * _f_inv(fy)                    # (3, P): the Y part of each channel

    def fits(t):
        lin = base + m[:, 0:1] * _f_inv(fy + t * ka) + m[:, 2:3] * _f_inv(fy + t * kb)
        return (lin.amin(0) >= -_GAMUT_TOL) & (lin.amax(0) <= 1 + _GAMUT_TOL)
    return _bisect(fits, torch.zeros_like(fy), steps)   # the largest scale known to fit


def _bisect(fits, lo: torch.Tensor, steps: int) -> torch.Tensor:
    """Bisection on [0, 1] for many values at once: ``fits(t)`` (t like ``lo``) -> bool per
    value, True on [0, t*) and False above; returns each t* to 2^-steps from below (lo = 0 if
    none fits). The midpoint of [lo, lo + 2^-i] is lo + 2^-(i+1), exact in binary, so no upper
    bound is kept, and lo moves by arithmetic: torch.where is ~40x slower on CPU."""
    for i in range(steps):
        step = 0.5 ** (i + 1)
        lo = lo + step * fits(lo + step).to(lo.dtype)
    return lo


def _lab_to_linear_nchw(lab: torch.Tensor) -> torch.Tensor:
    L, a, b = lab.unbind(1)
    fy = (L + 16) / 116
    f = torch.stack([fy + a / 500, fy, fy - b / 200], 1)
    return _mix(_f_inv(f) * _WHITE_D65.to(lab).view(1, 3, 1, 1), _XYZ2RGB).contiguous()


def _out_of_gamut(lin: torch.Tensor):
    """Linear RGB (N,3,H,W) -> (image index, flat pixel index) of the colours outside [0, 1]."""
    # amin / amax rather than aminmax, and nonzero only when needed: on CPU the first is
    # ~20x faster, and nonzero costs as much as the whole test when nothing is out of gamut.
    out = ((lin.amin(1) < -_GAMUT_TOL) | (lin.amax(1) > 1 + _GAMUT_TOL)).flatten(1)
    if not out.any():
        return out.new_zeros(0, dtype=torch.long), out.new_zeros(0, dtype=torch.long)
    n, p = out.nonzero(as_tuple=True)
    return n, p


def _gamut_scale(lab: torch.Tensor, lin: torch.Tensor, steps: int):
    """(indices, per-pixel chroma scale) of ``lab``'s out-of-gamut pixels, or None."""
    n, p = _out_of_gamut(lin)
    if n.numel() == 0:
        return None
    sel = lab.flatten(2)[n, :, p]                    # (P, 3)
    return (n, p), sel, _fit_chroma(sel[:, 0], sel[:, 1], sel[:, 2], steps)


def gamut_map_lab(lab: torch.Tensor, steps: int = GAMUT_STEPS) -> torch.Tensor:
    """LAB (N,3,H,W) -> the same with every out-of-sRGB colour's chroma reduced, keeping its L*
    and hue, to the largest fraction of it that fits (bisection on the chroma scale, run only
    on the pixels that are out of gamut). In-gamut colours are returned unchanged; a grey of
    the same L* is always in gamut, so every pixel has a solution. Not differentiable."""
    fit = _gamut_scale(lab, _lab_to_linear_nchw(lab), steps)
    if fit is None:
        return lab
    (n, p), sel, t = fit
    lab = lab.clone()
    flat = lab.view(lab.shape[0], 3, -1)
    flat[n, 1:, p] = sel[:, 1:] * t.unsqueeze(1)
    return lab


def lab_to_rgb_in_gamut(lab: torch.Tensor, steps: int = GAMUT_STEPS) -> torch.Tensor:
    """``lab_to_rgb(gamut_map_lab(lab))`` in one pass: out-of-gamut colours lose chroma, not
    lightness or hue, instead of having their channels clipped."""
    lin = _lab_to_linear_nchw(lab)
    fit = _gamut_scale(lab, lin, steps)
    if fit is not None:
        (n, p), sel, t = fit
        mapped = torch.stack([sel[:, 0], sel[:, 1] * t, sel[:, 2] * t], 1)
        lin.view(lin.shape[0], 3, -1)[n, :, p] = _lab_to_linear(mapped)
    return linear_to_srgb(lin)


def rgb_to_hsv(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB (N,3,H,W) in [0,1] -> HSV with hue in [0,1) turns. Matches skimage.color.rgb2hsv."""
    r, g, b = rgb.unbind(1)
    v = rgb.amax(1)
    delta = v - rgb.amin(1)
    safe = delta.clamp(min=1e-8)
    # The hue's sector is the largest channel's (the first on ties, as skimage). Selected by
    # 0/1 weights, not torch.where (~40x slower on CPU): each term is finite, so 0 x term = 0
    # and the sum is the selected term exactly.
    is_r = (r == v).to(rgb.dtype)
    is_g = (g == v).to(rgb.dtype) * (1 - is_r)
    h = (is_r * (((g - b) / safe) % 6) + is_g * ((b - r) / safe + 2)
         + (1 - is_r - is_g) * ((r - g) / safe + 4)) / 6
    h = (h * (delta > 1e-8).to(rgb.dtype)) % 1.0
    s = delta / v.clamp(min=1e-8) * (v > 1e-8).to(rgb.dtype)
    return torch.stack([h, s, v], 1)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """HSV (hue in turns, any real value; wraps) -> sRGB (N,3,H,W). Smooth in hue."""
    h, s, v = hsv.unbind(1)
    # Each channel is v * (1 - s * clamp(|k - 3| - 1)): continuous, so gradients flow.
    phase = torch.stack([h, h - 1 / 3, h + 1 / 3], 1)          # red, green, blue
    k = (phase - phase.floor()) * 6                            # in [0, 6); x - floor is ~5x faster than %
    ramp = ((k - 3).abs() - 1).clamp(0, 1)
    return v.unsqueeze(1) * (1 - s.unsqueeze(1) * (1 - ramp))


def hue_to_unit(h: torch.Tensor) -> torch.Tensor:
    """Hue in turns -> (cos, sin) stacked on dim 1; the representation to interpolate."""
    ang = 2 * math.pi * h
    return torch.cat([torch.cos(ang), torch.sin(ang)], 1)


def unit_to_hue(cs: torch.Tensor) -> torch.Tensor:
    """(cos, sin) on dim 1 -> hue in [0, 1) turns."""
    return (torch.atan2(cs[:, 1:2], cs[:, 0:1]) / (2 * math.pi)) % 1.0


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ColorSpace:
    """How one colour space is fed to and read from a network.

    ``encode(rgb)`` -> (input (N,1,H,W) in [-1,1], target (N,C,H,W) in [-1,1]).
    ``decode(grey, pred, saturation)`` -> sRGB (N,3,H,W) in [0,1] at the size of
    ``grey`` (full resolution), with ``pred`` (N,C,h,w) up-sampled as needed.
    """
    name = ""
    channels: tuple[str, ...] = ()
    chroma_channels = 0

    def net_input(self, grey: torch.Tensor) -> torch.Tensor:
        return grey * 2 - 1

    def encode(self, rgb: torch.Tensor):
        return self.net_input(rgb_to_grey(rgb)), self.target(rgb)

    def target(self, rgb: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, grey: torch.Tensor, pred: torch.Tensor, saturation: float = 1.0) -> torch.Tensor:
        raise NotImplementedError

    def upsample(self, pred: torch.Tensor, size, grey: torch.Tensor | None = None) -> torch.Tensor:
        """``pred`` resampled to ``size`` as ``decode`` would do it, still in network units,
        so that ``decode`` at that size can then run on any band of rows. ``grey`` is the
        full-size grey input (N,1,*size); spaces that need it for detail use it."""
        return _resize(pred, size)

    def to_channels(self, rgb: torch.Tensor) -> torch.Tensor:
        """sRGB -> this space's three channels in natural units (for display)."""
        raise NotImplementedError

    def chroma(self, t: torch.Tensor) -> torch.Tensor:
        """Network-range chroma (N,C,H,W) -> per-pixel colour strength (N,1,H,W) >= 0,
        differentiable; 0 for grey. Units differ between spaces (LAB: |ab| / AB_SCALE,
        HSV: S, RGB: distance from the pixel's channel mean in [-1, 1] units)."""
        raise NotImplementedError

    def blend(self, pred: torch.Tensor, prior: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``(1 - w) pred + w prior`` in network units, w (N,1,H,W) in [0, 1]; differentiable."""
        return pred + w * (prior - pred)


class LabSpace(ColorSpace):
    name, channels, chroma_channels = "lab", ("L", "a", "b"), 2

    def net_input(self, grey):
        return grey_to_L(grey) / 50 - 1

    def target(self, rgb):
        return (rgb_to_lab(rgb)[:, 1:] / AB_SCALE).clamp(-1, 1)

    def decode(self, grey, pred, saturation=1.0):
        ab = _resize(pred, grey.shape[-2:]) * (AB_SCALE * saturation)
        return lab_to_rgb_in_gamut(torch.cat([grey_to_L(grey), ab], 1))

    def to_channels(self, rgb):
        return rgb_to_lab(rgb)

    def chroma(self, t):
        return (t.square().sum(1, keepdim=True) + 1e-8).sqrt()


class HsvSpace(ColorSpace):
    """V -> (H, S). Hue is stored as 2h-1 in [-1, 1]; it wraps at +-1 (red).

    A grey photo records luminance, not V = max(R, G, B), so ``decode`` solves for
    the brightness that gives each pixel the luminance of the grey input under the
    predicted H and S (in linear light). Without this the recombined image is darker
    than the photo wherever colour is added. Where that luminance is out of reach of the
    predicted saturation, ``decode`` lowers the saturation until it is met
    (``assemble_in_gamut``); the loss uses the differentiable, clipping ``assemble``.
    """
    name, channels, chroma_channels = "hsv", ("H", "S", "V"), 2

    def target(self, rgb):
        hsv = rgb_to_hsv(rgb)
        return torch.stack([hsv[:, 0] * 2 - 1, hsv[:, 1] * 2 - 1], 1)

    @staticmethod
    def hs_from_pred(pred: torch.Tensor, size=None):
        """Network output (N,2,h,w) -> hue in turns and saturation, up-sampled circularly."""
        hue, sat = (pred[:, :1] + 1) / 2, (pred[:, 1:2] + 1) / 2
        if size is not None and tuple(size) != tuple(pred.shape[-2:]):
            hue = unit_to_hue(_resize(hue_to_unit(hue), size))
            sat = _resize(sat, size)
        return hue, sat.clamp(0, 1)

    @staticmethod
    def assemble(grey, hue, sat):
        """Hue, saturation and the grey's luminance -> sRGB; differentiable."""
        unit = srgb_to_linear(hsv_to_rgb(torch.cat([hue, sat, torch.ones_like(sat)], 1)))
        y_unit = _mix(unit, _RGB2XYZ[1:2]).clamp(min=1e-6)
        return linear_to_srgb(unit * (srgb_to_linear(grey) / y_unit))

    @staticmethod
    def _unit_luminance(hue, sat):
        """Linear RGB of (hue, sat, V = 1) and its luminance Y."""
        unit = srgb_to_linear(hsv_to_rgb(torch.cat([hue, sat, torch.ones_like(sat)], 1)))
        return unit, _mix(unit, _RGB2XYZ[1:2])

    @classmethod
    def assemble_in_gamut(cls, grey, hue, sat, steps: int = GAMUT_STEPS):
        """``assemble`` that meets the grey's luminance exactly: where the scaling to it would
        push a channel past 1 (a saturated colour brighter than its hue allows), the saturation
        is lowered, hue kept, to the largest value whose V = 1 colour is at least that bright
        (bisection on the pixels concerned; Y(V=1) falls as S rises). Not differentiable."""
        y = srgb_to_linear(grey)
        unit, y_unit = cls._unit_luminance(hue, sat)
        over = (y > y_unit + _GAMUT_TOL).flatten(1)            # (N, H*W): out of reach
        if over.any():                                         # (nonzero is slow even on no hits)
            n, p = over.nonzero(as_tuple=True)
            h, s, t = hue.flatten(2)[n, 0, p], sat.flatten(2)[n, 0, p], y.flatten(2)[n, 0, p]
            hv = h.view(1, 1, 1, -1)

            def bright_enough(f):   # the V = 1 colour at saturation f s still reaches the grey's Y
                return cls._unit_luminance(hv, (s * f).view(1, 1, 1, -1))[1].flatten() >= t
            lo = _bisect(bright_enough, torch.zeros_like(s), steps)
            u, yu = cls._unit_luminance(hv, (s * lo).view(1, 1, 1, -1))
            unit, y_unit = unit.contiguous(), y_unit.contiguous()
            unit.view(unit.shape[0], 3, -1)[n, :, p] = u.view(3, -1).T
            y_unit.view(y_unit.shape[0], 1, -1)[n, 0, p] = yu.flatten()
        return linear_to_srgb(unit * (y / y_unit.clamp(min=1e-6)))

    def upsample(self, pred, size, grey=None):
        if tuple(size) == tuple(pred.shape[-2:]):
            return pred
        hue, sat = self.hs_from_pred(pred, size)   # hue interpolated around the circle
        return torch.cat([hue * 2 - 1, sat * 2 - 1], 1)

    def decode(self, grey, pred, saturation=1.0):
        hue, sat = self.hs_from_pred(pred, grey.shape[-2:])
        return self.assemble_in_gamut(grey, hue, (sat * saturation).clamp(0, 1))

    def blend(self, pred, prior, w):
        """Hue is blended around the circle (as cos/sin), so red does not pass through cyan."""
        hp, hq = hue_to_unit((pred[:, :1] + 1) / 2), hue_to_unit((prior[:, :1] + 1) / 2)
        hue = unit_to_hue(hp + w * (hq - hp) + 1e-6 * hp)    # the 1e-6 keeps atan2 off (0, 0)
        return torch.cat([hue * 2 - 1, pred[:, 1:] + w * (prior[:, 1:] - pred[:, 1:])], 1)

    def to_channels(self, rgb):
        return rgb_to_hsv(rgb)

    def chroma(self, t):
        return ((t[:, 1:2] + 1) / 2).clamp(0, 1)


class RgbSpace(ColorSpace):
    """Grey -> all three sRGB channels; the network's RGB is the output.

    RGB has no separate lightness channel to recombine, so when the network ran below
    full size, up-sampling would blur the photo. ``upsample`` adds back exactly the
    detail the pipeline's own down-sampling removed from the grey input
    (grey - up(down(grey))), equally to R, G and B: at the network's resolution the
    output is the network's own RGB, luminance included.
    """
    name, channels, chroma_channels = "rgb", ("R", "G", "B"), 3

    def upsample(self, pred, size, grey=None):
        if tuple(size) == tuple(pred.shape[-2:]):
            return pred
        up = _resize(pred, size)
        if grey is None:
            return up
        low = F.interpolate(grey, size=pred.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
        return up + 2 * (grey - _resize(low, size))     # x2: network units span [-1, 1]

    def target(self, rgb):
        return rgb * 2 - 1

    def decode(self, grey, pred, saturation=1.0):
        rgb = ((self.upsample(pred, grey.shape[-2:], grey) + 1) / 2).clamp(0, 1)
        if saturation != 1.0:
            rgb = self.scale_chroma(rgb, saturation)
        return rgb.clamp(0, 1)

    @staticmethod
    def scale_chroma(rgb: torch.Tensor, saturation: float) -> torch.Tensor:
        """Each pixel moved from its grey g (same luminance) by ``saturation`` times its distance
        d = rgb - g, but per pixel no further than keeps every channel in [0, 1] (the largest
        t <= saturation with g + t d in gamut, in closed form), so the pixel keeps its direction
        from grey instead of having channels clipped."""
        g = rgb_to_grey(rgb)
        d = rgb - g
        room = torch.where(d > 1e-6, (1 - g) / d.clamp(min=1e-6),
                           torch.where(d < -1e-6, g / (-d).clamp(min=1e-6), torch.full_like(d, math.inf)))
        t = room.amin(1, keepdim=True).clamp(min=0).clamp(max=saturation)
        return g + d * t

    def to_channels(self, rgb):
        return rgb

    def chroma(self, t):
        return ((t - t.mean(1, keepdim=True)).square().sum(1, keepdim=True) + 1e-8).sqrt()


SPACES: dict[str, ColorSpace] = {s.name: s for s in (LabSpace(), HsvSpace(), RgbSpace())}


def get_space(name: str) -> ColorSpace:
    try:
        return SPACES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown colour space {name!r}; choose from {sorted(SPACES)}") from None
