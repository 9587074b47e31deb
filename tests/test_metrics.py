"""colorlab.metrics on images whose scores can be worked out by hand."""
import math

import numpy as np
import pytest

from colorlab.metrics import ciede2000, colorfulness, grey_baseline, psnr, score, ssim, summarize


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


def test_ssim_of_constant_images():
    # No variance: SSIM reduces to the luminance term (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 255)^2.
    c1 = (0.01 * 255) ** 2
    assert ssim(const(110), const(100)) == pytest.approx((2 * 110 * 100 + c1) / (110 ** 2 + 100 ** 2 + c1), abs=1e-6)
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert ssim(noisy, noisy) == pytest.approx(1.0)
    assert ssim(255 - noisy, noisy) < 0


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
