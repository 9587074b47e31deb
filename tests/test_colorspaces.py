"""colorlab.colorspaces against scikit-image, known values, hue wrap-around and gradients."""
import math

import numpy as np
import pytest
import torch
from skimage import color

from colorlab.colorspaces import (
    SPACES,
    HsvSpace,
    get_space,
    grey_to_L,
    hsv_to_rgb,
    hue_to_unit,
    lab_to_rgb,
    luminance,
    rgb_to_grey,
    rgb_to_hsv,
    rgb_to_lab,
    srgb_to_linear,
    unit_to_hue,
)


def _nchw(arr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).float()


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).double().numpy()


def _circ(a, b):
    """Circular distance between hues in turns."""
    d = np.abs(np.asarray(a) - np.asarray(b)) % 1.0
    return np.minimum(d, 1.0 - d)


@pytest.fixture
def rgb_np():
    rng = np.random.default_rng(0)
    arr = rng.random((24, 32, 3))
    arr[0, :8] = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0.5, 0.5, 0.5], [0, 1, 1]]
    return arr


def _hsv_pixel(h, s=1.0, v=1.0, shape=(1, 1)):
    return torch.tensor([h, s, v], dtype=torch.float32).view(1, 3, 1, 1).expand(1, 3, *shape)


def test_rgb_to_lab_matches_skimage(rgb_np):
    ours = _hwc(rgb_to_lab(_nchw(rgb_np)))
    ref = color.rgb2lab(rgb_np)
    assert color.deltaE_ciede2000(ref, ours).max() < 0.5
    np.testing.assert_allclose(ours, ref, atol=0.05)


def test_lab_to_rgb_matches_skimage_and_round_trips(rgb_np):
    lab = color.rgb2lab(rgb_np)
    ours = _hwc(lab_to_rgb(_nchw(lab)))
    np.testing.assert_allclose(ours, color.lab2rgb(lab), atol=1e-3)
    np.testing.assert_allclose(ours, rgb_np, atol=1e-3)


def test_lab_known_values():
    lab = rgb_to_lab(torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]).T.reshape(1, 3, 1, 3))
    white, black, red = lab[0, :, 0, :].T
    np.testing.assert_allclose(white, [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(black, [0, 0, 0], atol=0.01)
    np.testing.assert_allclose(red, [53.24, 80.09, 67.20], atol=0.05)   # the textbook sRGB red


def test_rgb_to_hsv_matches_skimage(rgb_np):
    ours = _hwc(rgb_to_hsv(_nchw(rgb_np)))
    ref = color.rgb2hsv(rgb_np)
    np.testing.assert_allclose(ours[..., 1:], ref[..., 1:], atol=1e-5)
    coloured = ref[..., 1] > 1e-6
    assert _circ(ours[..., 0], ref[..., 0])[coloured].max() < 1e-5
    assert (ours[..., 0] >= 0).all() and (ours[..., 0] < 1).all()


def test_hsv_to_rgb_matches_skimage_and_round_trips(rgb_np):
    hsv = color.rgb2hsv(rgb_np)
    ours = _hwc(hsv_to_rgb(_nchw(hsv)))
    np.testing.assert_allclose(ours, color.hsv2rgb(hsv), atol=1e-5)
    np.testing.assert_allclose(ours, rgb_np, atol=1e-5)


@pytest.mark.parametrize("rgb, hue", [((1, 0, 0), 0.0), ((1, 1, 0), 1 / 6), ((0, 1, 0), 1 / 3),
                                      ((0, 1, 1), 0.5), ((0, 0, 1), 2 / 3), ((1, 0, 1), 5 / 6)])
def test_hsv_known_hues(rgb, hue):
    hsv = rgb_to_hsv(torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1)).flatten().tolist()
    assert hsv == pytest.approx([hue, 1.0, 1.0], abs=1e-6)
    back = hsv_to_rgb(_hsv_pixel(hue)).flatten().tolist()
    assert back == pytest.approx(list(rgb), abs=1e-6)


def test_hsv_of_grey_has_zero_hue_and_saturation():
    hsv = rgb_to_hsv(torch.full((1, 3, 1, 1), 0.4)).flatten().tolist()
    assert hsv == pytest.approx([0.0, 0.0, 0.4])


def test_hsv_to_rgb_hue_wraps():
    for h in (0.1, 0.45, 0.9):
        base = hsv_to_rgb(_hsv_pixel(h, 0.7, 0.8))
        for shift in (-2, -1, 1, 3):
            torch.testing.assert_close(hsv_to_rgb(_hsv_pixel(h + shift, 0.7, 0.8)), base, atol=1e-5, rtol=0)


def test_hue_unit_round_trip():
    h = torch.linspace(0, 0.999, 50).view(1, 1, 5, 10)
    back = unit_to_hue(hue_to_unit(h))
    assert _circ(back.numpy(), h.numpy()).max() < 1e-5


def test_hs_from_pred_upsamples_hue_circularly():
    # Reds either side of the wrap: 0.02 and 0.98 turns, alternating like a checkerboard.
    hue = torch.where((torch.arange(8).view(-1, 1) + torch.arange(8)) % 2 == 0, 0.02, 0.98).view(1, 1, 8, 8)
    pred = torch.cat([hue * 2 - 1, torch.ones_like(hue)], 1)
    up, sat = HsvSpace.hs_from_pred(pred, (32, 32))
    assert up.shape == sat.shape == (1, 1, 32, 32)
    assert _circ(up.numpy(), 0.0).max() < 0.03          # red, not the cyan (0.5) a plain average gives
    rgb = HsvSpace.assemble(torch.full((1, 1, 32, 32), 0.5), up, sat)
    assert (rgb[:, 0] > rgb[:, 1] + 0.3).all() and (rgb[:, 0] > rgb[:, 2] + 0.3).all()


def test_grey_has_the_lightness_of_the_colour(rgb_np):
    rgb = _nchw(rgb_np)
    grey = rgb_to_grey(rgb)
    assert grey.shape == (1, 1, 24, 32)
    torch.testing.assert_close(grey_to_L(grey), rgb_to_lab(rgb)[:, :1], atol=1e-3, rtol=0)
    assert luminance(torch.ones(1, 3, 1, 1)).item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("name, tol", [("lab", 1e-4), ("rgb", 1e-6), ("hsv", 0.06)])
def test_encode_decode_round_trip(rgb_np, name, tol):
    space = get_space(name)
    rgb = _nchw(rgb_np)
    inp, target = space.encode(rgb)
    assert inp.shape == (1, 1, 24, 32) and target.shape == (1, space.chroma_channels, 24, 32)
    assert inp.min() >= -1 and inp.max() <= 1 and target.min() >= -1 and target.max() <= 1
    out = space.decode(rgb_to_grey(rgb), target)
    assert out.shape == rgb.shape
    # HSV rebuilds brightness from luminance by scaling in linear light, which is
    # close to but not exactly the sRGB V (the transfer curve is not a pure power law).
    assert (out - rgb).abs().max() < tol
    assert (out - rgb).abs().mean() < min(tol, 0.01)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_decode_upsamples_to_the_grey(name):
    space = get_space(name)
    pred = torch.zeros(2, space.chroma_channels, 4, 6)
    assert space.decode(torch.rand(2, 1, 13, 17), pred).shape == (2, 3, 13, 17)


def test_to_channels_are_natural_units(rgb_np):
    rgb = _nchw(rgb_np)
    torch.testing.assert_close(get_space("lab").to_channels(rgb), rgb_to_lab(rgb))
    torch.testing.assert_close(get_space("HSV").to_channels(rgb), rgb_to_hsv(rgb))
    torch.testing.assert_close(get_space("rgb").to_channels(rgb), rgb)


def test_unknown_space():
    with pytest.raises(ValueError, match="unknown colour space 'xyz'"):
        get_space("xyz")


def test_gradients_flow():
    torch.manual_seed(0)
    rgb = (torch.rand(1, 3, 3, 3, dtype=torch.float64) * 0.8 + 0.1).requires_grad_()
    assert torch.autograd.gradcheck(rgb_to_lab, (rgb,))
    hsv = torch.rand(1, 3, 3, 3, dtype=torch.float64).requires_grad_()
    hsv_to_rgb(hsv).sum().backward()
    assert torch.isfinite(hsv.grad).all() and hsv.grad.abs().sum() > 0

    grey = torch.rand(1, 1, 3, 3) * 0.8 + 0.1
    hue = torch.rand(1, 1, 3, 3, requires_grad=True)
    sat = torch.rand(1, 1, 3, 3, requires_grad=True)
    HsvSpace.assemble(grey, hue, sat)[:, 0].sum().backward()
    for g in (hue.grad, sat.grad):
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0


def test_rgb_upsampling_restores_the_detail_down_sampling_removed():
    """A network that returns its input grey at low resolution must give back the full-resolution
    grey exactly: RGB output loses no detail to the pipeline's resampling."""
    import torch.nn.functional as F

    from colorlab.colorspaces import get_space
    torch.manual_seed(0)
    grey = torch.rand(1, 1, 64, 48)
    low = F.interpolate(grey, size=(16, 12), mode="bilinear", antialias=True, align_corners=False)
    out = get_space("rgb").decode(grey, (low * 2 - 1).expand(-1, 3, -1, -1))
    assert torch.allclose(out, grey.expand(-1, 3, -1, -1), atol=1e-5)
    # and the network's own colour survives at its resolution: a red prediction stays red
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1).expand(1, 3, 16, 12)
    out = get_space("rgb").decode(torch.full((1, 1, 64, 48), 0.5), red)
    assert (out[:, 0] > 0.9).all() and (out[:, 1:] < 0.1).all()


@pytest.mark.parametrize("name", ["lab", "hsv", "rgb"])
def test_chroma_is_zero_for_grey_and_grows_with_colour(name):
    space = get_space(name)
    grey = torch.full((1, 3, 4, 4), 0.5)
    dull = torch.tensor([0.6, 0.5, 0.45]).view(1, 3, 1, 1).expand(1, 3, 4, 4)
    vivid = torch.tensor([0.9, 0.4, 0.2]).view(1, 3, 1, 1).expand(1, 3, 4, 4)
    c = [space.chroma(space.target(x)).mean().item() for x in (grey, dull, vivid)]
    assert c[0] == pytest.approx(0, abs=1e-3)
    assert 0 < c[1] < c[2]


def test_chroma_known_values():
    lab = get_space("lab").chroma(torch.tensor([0.3, 0.4]).view(1, 2, 1, 1))
    assert lab.item() == pytest.approx(0.5, abs=1e-6)
    hsv = get_space("hsv").chroma(torch.tensor([0.2, 0.5]).view(1, 2, 1, 1))   # s = (0.5 + 1) / 2
    assert hsv.item() == pytest.approx(0.75)
    rgb = get_space("rgb").chroma(torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1))
    assert rgb.item() == pytest.approx(math.sqrt(2), abs=1e-6)


# ---------------------------------------------------------------- gamut mapping

def _vivid_lab(seed=0, n=4000):
    """LAB colours over every lightness and hue with chroma up to 150: most are outside sRGB."""
    g = torch.Generator().manual_seed(seed)
    L = torch.rand(n, generator=g) * 100
    h = torch.rand(n, generator=g) * 2 * math.pi
    c = torch.rand(n, generator=g) * 150
    return torch.stack([L, c * torch.cos(h), c * torch.sin(h)]).view(1, 3, 40, n // 40)


def test_gamut_map_lab_keeps_lightness_and_hue_and_reduces_chroma_only_as_needed():
    from colorlab.colorspaces import GAMUT_STEPS, _lab_to_linear_nchw, gamut_map_lab
    lab = _vivid_lab()
    lin = _lab_to_linear_nchw(lab)
    outside = ((lin < -1e-5) | (lin > 1 + 1e-5)).any(1)
    assert 0.3 < outside.float().mean() < 0.95                     # the test has both kinds
    mapped = gamut_map_lab(lab)
    torch.testing.assert_close(mapped[:, 0], lab[:, 0], rtol=0, atol=0)   # L* untouched
    scale = mapped[:, 1:].norm(dim=1) / lab[:, 1:].norm(dim=1)
    assert (scale <= 1 + 1e-6).all()
    assert (scale[~outside] == 1).all()                            # in-gamut colours unchanged
    assert (scale[outside] < 1).all()
    # the hue angle is kept: mapped ab is the original ab times one scale
    torch.testing.assert_close(mapped[:, 1:], lab[:, 1:] * scale.unsqueeze(1), atol=1e-4, rtol=1e-5)
    # in gamut now, and as much chroma as fits: 2^-steps more would not
    lin_m = _lab_to_linear_nchw(mapped)
    assert lin_m.min() >= -2e-5 and lin_m.max() <= 1 + 2e-5
    more = torch.cat([lab[:, :1], lab[:, 1:] * (scale + 2.0 ** -GAMUT_STEPS * 1.01).unsqueeze(1)], 1)
    lin_more = _lab_to_linear_nchw(more)
    assert ((lin_more < -1e-5) | (lin_more > 1 + 1e-5)).any(1)[outside].all()


def test_lab_decode_keeps_the_photos_lightness_where_clipping_would_not():
    # A saturated prediction (a = b = 100) over a lightness ramp: most of it outside sRGB.
    grey = torch.linspace(0, 1, 64).view(1, 1, 1, 64).expand(1, 1, 8, 64).contiguous()
    pred = torch.full((1, 2, 2, 2), 100 / 110)
    out = get_space("lab").decode(grey, pred, saturation=1.0)
    err = (rgb_to_lab(out)[:, :1] - grey_to_L(grey)).abs().max()
    assert err < 0.05, f"L* moved by {err:.3f}"
    clipped = lab_to_rgb(torch.cat([grey_to_L(grey), torch.full((1, 2, 8, 64), 100.0)], 1))
    assert (rgb_to_lab(clipped)[:, :1] - grey_to_L(grey)).abs().max() > 5   # what channel clipping did
    lab = rgb_to_lab(out)
    hue = torch.atan2(lab[:, 2], lab[:, 1])[lab[:, 1:].norm(dim=1) > 5]
    assert (hue - math.pi / 4).abs().max() < 0.02                   # hue of (100, 100) kept


@pytest.mark.parametrize("saturation", [1.0, 2.0])
def test_hsv_decode_meets_the_luminance_by_lowering_saturation(saturation):
    torch.manual_seed(0)
    grey = torch.rand(1, 1, 32, 32)
    pred = torch.rand(1, 2, 8, 8) * 2 - 1
    hue, sat = HsvSpace.hs_from_pred(pred, (32, 32))
    out = get_space("hsv").decode(grey, pred, saturation)
    assert out.min() >= 0 and out.max() <= 1
    torch.testing.assert_close(luminance(out), luminance(grey.expand(-1, 3, -1, -1)), atol=2e-5, rtol=0)
    hsv = rgb_to_hsv(out)
    want = (sat * saturation).clamp(0, 1)
    reach = (srgb_to_linear(grey) <= HsvSpace._unit_luminance(hue, want)[1]).expand(-1, 3, -1, -1)
    assert 0.05 < reach.float().mean() < 0.95                       # both kinds of pixel
    plain = HsvSpace.assemble(grey, hue, want)
    torch.testing.assert_close(out[reach], plain[reach])            # within reach: the plain assembly
    coloured = (hsv[:, 1:2] > 0.2) & (grey > 0.2)                  # away from the transfer curve's linear toe
    # hue kept (up to the transfer curve: scaling happens in linear light)
    assert _circ(hsv[:, :1][coloured].numpy(), hue[coloured].numpy()).max() < 0.03
    # the clipping assembly (the loss's) falls short of the luminance on bright saturated pixels
    short = (luminance(HsvSpace.assemble(grey, hue, want)) - srgb_to_linear(grey)).abs().max()
    assert short > 0.05


def test_rgb_saturation_scales_towards_the_gamut_edge_without_clipping():
    from colorlab.colorspaces import RgbSpace
    rgb = torch.tensor([[0.9, 0.5, 0.2], [0.3, 0.6, 0.3], [0.5, 0.5, 0.5], [0.98, 0.02, 0.5]]).T.reshape(1, 3, 1, 4)
    g = rgb_to_grey(rgb)
    for s in (0.5, 1.5, 3.0):
        out = RgbSpace.scale_chroma(rgb, s)
        assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6
        d0, d1 = rgb - g, out - g                                  # same direction from the pixel's grey
        cos = (d0 * d1).sum(1) / (d0.norm(dim=1) * d1.norm(dim=1)).clamp(min=1e-9)
        assert (cos[d0.norm(dim=1) > 0] > 1 - 1e-5).all()
        t = d1.norm(dim=1) / d0.norm(dim=1).clamp(min=1e-9)
        assert (t <= s + 1e-5).all()
    torch.testing.assert_close(RgbSpace.scale_chroma(rgb, 0.5), g + (rgb - g) * 0.5)   # inside: exact


def _textbook_curves():
    """The piecewise curves as the standards write them (torch.where), to check the fast forms."""
    eps, kappa = 216 / 24389, 24389 / 27
    return {
        "srgb_to_linear": lambda c: torch.where(c <= 0.04045, c / 12.92,
                                                ((c.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4),
        "linear_to_srgb": lambda c: torch.where(c.clamp(0, 1) <= 0.0031308, c.clamp(0, 1) * 12.92,
                                                1.055 * c.clamp(0.0031308, 1) ** (1 / 2.4) - 0.055),
        "_f": lambda t: torch.where(t > eps, t.clamp(min=eps) ** (1 / 3), (kappa * t + 16) / 116),
        "_f_inv": lambda f: torch.where(f ** 3 > eps, f ** 3, (116 * f - 16) / kappa),
    }


@pytest.mark.parametrize("name", ["srgb_to_linear", "linear_to_srgb", "_f", "_f_inv"])
def test_fast_piecewise_curves_equal_the_textbook_ones(name):
    import colorlab.colorspaces as cs
    knees = torch.tensor([0.04045, 0.0031308, 216 / 24389, 6 / 29])
    x = torch.cat([torch.linspace(-0.1, 1.2, 20001), knees, knees * (1 + 1e-6), knees * (1 - 1e-6)])
    x.requires_grad_(True)
    fast, book = getattr(cs, name)(x), _textbook_curves()[name](x)
    torch.testing.assert_close(fast, book, atol=1e-7, rtol=1e-6)
    g_fast, = torch.autograd.grad(fast.sum(), x)
    g_book, = torch.autograd.grad(book.sum(), x)
    away = (x.detach()[:, None] - knees).abs().min(1).values > 1e-4   # the one-sided derivatives differ only at a knee
    torch.testing.assert_close(g_fast[away], g_book[away], atol=1e-4, rtol=1e-4)
    if name == "linear_to_srgb":
        assert fast.min() >= 0 and fast.max() <= 1                 # still a valid sRGB value at black


def _textbook_fit_chroma(L, a, b, steps):
    """The chroma scale bisection with an explicit upper bound and torch.where (as first written)."""
    from colorlab.colorspaces import _GAMUT_TOL, _WHITE_D65, _XYZ2RGB, _f_inv
    m = _XYZ2RGB * _WHITE_D65
    fy = (L + 16) / 116
    base = m[:, 1:2] * _f_inv(fy)
    lo, hi = torch.zeros_like(fy), torch.ones_like(fy)
    for _ in range(steps):
        mid = (lo + hi) * 0.5
        lin = base + m[:, 0:1] * _f_inv(fy + mid * a / 500) + m[:, 2:3] * _f_inv(fy - mid * b / 200)
        ok = (lin.amin(0) >= -_GAMUT_TOL) & (lin.amax(0) <= 1 + _GAMUT_TOL)
        lo, hi = torch.where(ok, mid, lo), torch.where(ok, hi, mid)
    return lo


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_gamut_bisection_equals_the_textbook_one_and_lands_in_gamut(seed):
    from colorlab.colorspaces import GAMUT_STEPS, _fit_chroma, _lab_to_linear, lab_to_rgb_in_gamut
    L, a, b = _vivid_lab(seed).flatten(2)[0]
    t = _fit_chroma(L, a, b, GAMUT_STEPS)
    torch.testing.assert_close(t, _textbook_fit_chroma(L, a, b, GAMUT_STEPS), atol=0, rtol=0)
    assert ((t * 2 ** GAMUT_STEPS) % 1 == 0).all() and t.max() < 1   # on the 2^-steps grid, below 1
    lin = _lab_to_linear(torch.stack([L, a * t, b * t], 1))
    assert lin.min() >= -2e-5 and lin.max() <= 1 + 2e-5                # every mapped colour is in gamut
    rgb = lab_to_rgb_in_gamut(_vivid_lab(seed))
    assert rgb.min() >= 0 and rgb.max() <= 1


def test_bisect_finds_each_threshold_from_below():
    from colorlab.colorspaces import _bisect
    star = torch.rand(1000, generator=torch.Generator().manual_seed(0))
    found = _bisect(lambda t: t < star, torch.zeros_like(star), 10)
    torch.testing.assert_close(found, torch.floor(star * 1024) / 1024, atol=0, rtol=0)
    assert (_bisect(lambda t: t < 0, torch.zeros(3), 10) == 0).all()   # nothing fits: 0


def test_rgb_to_hsv_on_ties_and_greys_matches_skimage():
    vals = np.array([0.0, 0.2, 0.5, 0.5, 1.0])
    rgb = np.stack(np.meshgrid(vals, vals, vals, indexing="ij"), -1).reshape(5, 25, 3)   # every tie, greys, black
    ours = _hwc(rgb_to_hsv(_nchw(rgb)))
    ref = color.rgb2hsv(rgb)
    np.testing.assert_allclose(ours[..., 1:], ref[..., 1:], atol=1e-6)
    np.testing.assert_allclose(_circ(ours[..., 0], ref[..., 0]), 0, atol=1e-6)
