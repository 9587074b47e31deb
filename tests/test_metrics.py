"""colorlab.metrics on images whose scores can be worked out by hand."""
import math

import numpy as np
import pytest

from colorlab.metrics import ciede2000, ciede2000_lab, colorfulness, grey_baseline, psnr, score, ssim, summarize


def const(value, shape=(16, 16)):
    return np.full((*shape, 3), value, dtype=np.uint8)


@pytest.fixture
def red_blue():
    """Left half pure red, right half pure blue."""
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4, 0] = 255
    img[:, 4:, 2] = 255
    return img


def test_psnr_of_a_constant_offset():
    # Every value off by 10: MSE = 100, PSNR = 10 log10(255^2 / 100).
    assert psnr(const(110), const(100)) == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert psnr(const(100), const(100)) == math.inf


def _ssim_reference(x: np.ndarray, y: np.ndarray, win: int = 7) -> float:
    """SSIM of Wang et al. (2004) written out independently: K1 = 0.01, K2 = 0.03, L = 255,
    a win x win uniform window with sample (N - 1) covariances, the mean over the windows that
    fit inside the image, averaged over the three channels."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    out = []
    for c in range(3):
        a, b = x[..., c].astype(np.float64), y[..., c].astype(np.float64)
        wa = np.lib.stride_tricks.sliding_window_view(a, (win, win))
        wb = np.lib.stride_tricks.sliding_window_view(b, (win, win))
        ma, mb = wa.mean((-2, -1)), wb.mean((-2, -1))
        n = win * win
        va = wa.var((-2, -1)) * n / (n - 1)
        vb = wb.var((-2, -1)) * n / (n - 1)
        cov = ((wa - ma[..., None, None]) * (wb - mb[..., None, None])).sum((-2, -1)) / (n - 1)
        s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
        out.append(s.mean())
    return float(np.mean(out))


def _texture(seed: int, shape=(40, 56)) -> np.ndarray:
    """Smooth structure plus noise in each channel: SSIM's structure term has work to do."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    base = np.stack([np.sin(x / (3 + c)) * np.cos(y / (4 + c)) for c in range(3)], -1)
    return np.clip(127 + 80 * base + rng.normal(0, 25, (*shape, 3)), 0, 255).astype(np.uint8)


def test_ssim_on_textured_images_matches_an_independent_implementation():
    truth = _texture(0)
    rng = np.random.default_rng(1)
    noisy = np.clip(truth + rng.normal(0, 30, truth.shape), 0, 255).astype(np.uint8)
    shifted = np.roll(truth, 2, axis=1)
    swapped = truth[..., ::-1].copy()
    for pred in (noisy, shifted, swapped, _texture(5)):
        ref = _ssim_reference(pred, truth)
        assert ssim(pred, truth) == pytest.approx(ref, abs=1e-6)
        assert ssim(pred, truth) == pytest.approx(ssim(truth, pred), abs=1e-9)   # symmetric
    # the settings are pinned: an 11x11 window (or a Gaussian one) scores these differently
    assert abs(_ssim_reference(noisy, truth, 11) - ssim(noisy, truth)) > 1e-3
    assert 0.2 < ssim(noisy, truth) < 0.9 and ssim(_texture(5), truth) < ssim(noisy, truth)


def test_ssim_of_constant_images():
    # No variance: SSIM reduces to the luminance term (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 255)^2.
    c1 = (0.01 * 255) ** 2
    assert ssim(const(110), const(100)) == pytest.approx((2 * 110 * 100 + c1) / (110 ** 2 + 100 ** 2 + c1), abs=1e-6)
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert ssim(noisy, noisy) == pytest.approx(1.0)
    assert ssim(255 - noisy, noisy) < 0


# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations", Table 1: all 34 pairs.
# (L1, a1, b1, L2, a2, b2, dE00)
SHARMA = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


@pytest.mark.parametrize("pair", range(1, 35))
def test_ciede2000_published_test_data(pair):
    L1, a1, b1, L2, a2, b2, expected = SHARMA[pair - 1]
    assert round(float(ciede2000_lab([L1, a1, b1], [L2, a2, b2])), 4) == expected
    assert round(float(ciede2000_lab([L2, a2, b2], [L1, a1, b1])), 4) == expected   # symmetric


def test_ciede2000_all_pairs_at_once():
    table = np.array(SHARMA)
    np.testing.assert_allclose(ciede2000_lab(table[:, :3], table[:, 3:6]), table[:, 6], atol=5e-5)


def test_ciede2000_of_an_asymmetric_rgb_pair():
    """Orange (255, 128, 0) against a mid blue (0, 128, 255): a* and b* differ in size and sign
    (orange: L* 67.05, a* 42.83, b* 74.02; blue: 54.71, 18.77, -70.91), so treating b as a or
    swapping the images' channels changes the score. Reference: the formula on these LAB values."""
    orange = np.full((4, 4, 3), (255, 128, 0), np.uint8)
    blue = np.full((4, 4, 3), (0, 128, 255), np.uint8)
    lab_o, lab_b = np.array([67.0548, 42.8254, 74.0175]), np.array([54.7145, 18.7735, -70.9138])
    expected = float(ciede2000_lab(lab_o, lab_b))
    assert ciede2000(orange, blue) == pytest.approx(expected, abs=2e-3)
    assert ciede2000(blue, orange) == pytest.approx(expected, abs=2e-3)
    swapped = float(ciede2000_lab(lab_o[[0, 2, 1]], lab_b[[0, 2, 1]]))
    assert abs(swapped - expected) > 1.0                  # the pair tells a from b
    # a pure hue pair at equal L* and C*: red-ish vs green-ish with |a| != |b|
    p, q = np.full((2, 2, 3), (200, 60, 90), np.uint8), np.full((2, 2, 3), (90, 160, 60), np.uint8)
    from skimage.color import rgb2lab
    assert ciede2000(p, q) == pytest.approx(float(ciede2000_lab(rgb2lab(p)[0, 0], rgb2lab(q)[0, 0])), abs=1e-9)


def test_ciede2000():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert ciede2000(img, img) == 0.0
    # Black vs white: only lightness differs, by 100, and S_L = 1 at mean L = 50.
    assert ciede2000(const(255), const(0)) == pytest.approx(100.0, abs=0.01)


def test_colorfulness_of_grey_is_zero():
    ramp = np.repeat(np.linspace(0, 255, 16, dtype=np.uint8)[:, None, None], 3, 2).repeat(4, 1)
    assert colorfulness(ramp) == 0.0


def test_colorfulness_of_two_colours_by_hand(red_blue):
    # rg = R - G: 255 (red), 0 (blue); yb = (R + G) / 2 - B: 127.5 (red), -255 (blue).
    std_rg, mean_rg = 127.5, 127.5
    std_yb, mean_yb = (127.5 + 255) / 2, (127.5 - 255) / 2
    expected = math.hypot(std_rg, std_yb) + 0.3 * math.hypot(mean_rg, mean_yb)
    assert colorfulness(red_blue) == pytest.approx(expected)
    assert expected > 100   # colourfulness is not bounded by 100


def test_summarize_and_dcf(red_blue):
    grey = grey_baseline(red_blue)
    out = summarize([(grey, red_blue), (red_blue, red_blue)])
    assert out["n"] == 2
    assert out["psnr"] == pytest.approx((psnr(grey, red_blue) + 100.0) / 2)   # inf is capped at 100 dB
    assert out["colorfulness"] == pytest.approx(colorfulness(red_blue) / 2)
    assert out["truth_colorfulness"] == pytest.approx(colorfulness(red_blue))
    assert out["dcf"] == pytest.approx(colorfulness(red_blue) / 2)
    assert out["ciede2000"] == pytest.approx(ciede2000(grey, red_blue) / 2)
    assert set(score(grey, red_blue)) == {"psnr", "ssim", "ciede2000", "colorfulness"}


def test_summarize_empty():
    with pytest.raises(ValueError, match="no images"):
        summarize([])


def test_grey_baseline(red_blue):
    grey = grey_baseline(red_blue)
    assert grey.shape == red_blue.shape and grey.dtype == np.uint8
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    assert colorfulness(grey) == 0.0
    # Luminance-matched: red is lighter than blue (L* 53 vs 32).
    assert grey[0, 0, 0] > grey[0, -1, 0]
    already_grey = np.repeat(np.arange(0, 256, 4, dtype=np.uint8).reshape(8, 8, 1), 3, 2)
    np.testing.assert_array_equal(grey_baseline(already_grey), already_grey)


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="expected uint8"):
        psnr(np.zeros((4, 4, 3)), const(0, (4, 4)))
    with pytest.raises(ValueError, match="expected uint8"):
        colorfulness(np.zeros((4, 4), np.uint8))
