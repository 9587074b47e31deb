"""colorlab.pipeline with the tiny untrained checkpoints of conftest: sizes, saturation,
batching, and that the full-resolution detail of the input survives."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.checkpoints import load_checkpoint
from colorlab.colorspaces import grey_to_L, rgb_to_grey, rgb_to_lab
from colorlab.imaging import ImageError, pil_to_tensor
from colorlab.metrics import grey_baseline
from colorlab.pipeline import colorize, colorize_batch, grey_tensor, net_shape, predict
from colorlab.serving.limits import MAX_HINT_WORK

SPACES = ("lab", "hsv", "rgb")


@pytest.fixture(scope="module")
def models(weights_dir):
    return {s: load_checkpoint(weights_dir / f"{s}-general.safetensors") for s in SPACES}


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("size", [(1, 1), (3, 1000), (97, 61)])
def test_output_has_the_input_size(models, space, size):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    out = colorize(img, models[space])
    assert out.mode == "RGB" and out.size == size


def test_render_size_does_not_change_output_size(models, photo):
    for render in (32, 100):
        assert colorize(photo, models["lab"], render_size=render).size == photo.size


def test_saturation_zero_gives_the_input_grey(models, photo):
    grey_img = Image.fromarray(grey_baseline(np.asarray(photo))[..., 0], "L")
    out = np.asarray(colorize(grey_img, models["lab"], saturation=0.0))
    np.testing.assert_array_equal(out, np.asarray(grey_img.convert("RGB")))
    # From the colour photo the grey is computed in float, so rounding may differ by one level.
    out = np.asarray(colorize(photo, models["lab"], saturation=0.0)).astype(int)
    assert np.abs(out - grey_baseline(np.asarray(photo))).max() <= 1


@pytest.mark.parametrize("space", SPACES)
def test_saturation_scales_colour(models, photo, space):
    def chroma(s):
        lab = rgb_to_lab(pil_to_tensor(colorize(photo, models[space], saturation=s)))
        return lab[:, 1:].norm(dim=1).mean().item()
    assert chroma(0.0) < 1.0 < chroma(0.5) < chroma(1.0)


def test_saturation_out_of_range(models, photo):
    with pytest.raises(ValueError, match="saturation"):
        colorize(photo, models["lab"], saturation=-0.1)
    with pytest.raises(ValueError, match="saturation"):
        colorize_batch([photo], models["lab"], saturation=4.5)


def test_colour_input_is_seen_as_grey(models, photo):
    # The model only ever sees the grey: a colour photo and its grey version colorize alike.
    a = np.asarray(colorize(photo, models["hsv"])).astype(int)
    b = np.asarray(colorize(Image.fromarray(grey_baseline(np.asarray(photo))), models["hsv"])).astype(int)
    assert np.abs(a - b).mean() < 1.0


def test_lab_keeps_the_full_resolution_lightness(models):
    # One-pixel stripes at 200x150, far finer than the 64-pixel render size: L* of the
    # output must still be L* of the input, pixel for pixel (chroma kept low so nothing
    # is clipped by the sRGB gamut).
    y, x = np.mgrid[0:150, 0:200]
    grey = torch.from_numpy(0.3 + 0.4 * ((x + y) % 2) * (x / 199)).float().view(1, 1, 150, 200)
    rgb = predict(models["lab"], grey, saturation=0.2)
    assert rgb.shape == (1, 3, 150, 200)
    assert (rgb_to_lab(rgb)[:, :1] - grey_to_L(grey)).abs().max() < 0.05
    assert (rgb_to_grey(rgb) - grey).abs().max() < 1e-3


def test_colorize_batch_keeps_order_and_passes_errors(models, photo, tmp_path):
    small = photo.resize((40, 30))
    buf = io.BytesIO()
    small.save(buf, "PNG")
    inputs = [photo, tmp_path / "missing.png", small, b"garbage", buf.getvalue(), photo.transpose(Image.ROTATE_90)]
    results = colorize_batch(inputs, models["lab"], batch_size=2)
    assert len(results) == len(inputs)
    assert isinstance(results[1], ImageError) and "no such file" in str(results[1])
    assert isinstance(results[3], ImageError)
    for i in (0, 2, 4, 5):
        single = np.asarray(colorize(inputs[i], models["lab"])).astype(int)
        assert results[i].size == load_size(inputs[i])
        assert np.abs(np.asarray(results[i]).astype(int) - single).max() <= 1   # batching changes nothing


def load_size(src):
    return Image.open(io.BytesIO(src)).size if isinstance(src, bytes) else src.size


@pytest.mark.parametrize("h, w, render, multiple, expected", [
    (72, 96, 64, 4, (64, 84)),          # short side to 64, aspect kept, multiples of 4
    (72, 96, None, 32, (64, 96)),       # native, rounded to multiples of 32
    (1, 1, 64, 64, (64, 64)),           # at least one multiple
    (3, 1000, 64, 4, (64, 256)),        # very thin: the long side is capped at 4x the short
    (4000, 3000, 640, 8, (856, 640)),     # within both caps: as asked
    (4000, 3000, 2048, 8, (1176, 880)),   # short side capped at MAX_RENDER, then the area at MAX_NET_PIXELS
    (1024, 4096, 1024, 32, (512, 2048)),  # a wide photo at the largest render size: area-capped, aspect kept
])
def test_net_shape(h, w, render, multiple, expected):
    assert net_shape(h, w, render, multiple) == expected


def test_many_points_shrink_the_network_to_the_hint_work_limit():
    assert net_shape(3000, 4000, 1024, 32, points=64) == net_shape(3000, 4000, 1024, 32)   # 64 x 1 MP: within
    h, w = net_shape(3000, 4000, 1024, 32, points=256)
    assert h * w * 256 <= MAX_HINT_WORK and abs(w / h - 4 / 3) < 0.1 and h >= 384


@pytest.mark.parametrize("space", SPACES)
def test_a_grey_tensor_colorizes_exactly_as_its_image(models, photo, space):
    grey = grey_tensor(photo)
    assert grey.shape == (1, 1, 72, 96) and grey.dtype == torch.float32
    torch.testing.assert_close(grey, rgb_to_grey(pil_to_tensor(photo)), atol=1e-6, rtol=0)
    torch.testing.assert_close(grey_tensor(np.asarray(photo)), grey, atol=0, rtol=0)   # an RGB array: as it is
    np.testing.assert_array_equal(np.asarray(colorize(grey, models[space])), np.asarray(colorize(photo, models[space])))


@pytest.mark.parametrize("bad", [torch.zeros(1, 3, 8, 8), torch.zeros(8, 8), torch.zeros(1, 1, 8, 8, dtype=torch.uint8),
                                 np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.float32)])
def test_grey_tensor_refuses_what_is_not_an_image(bad):
    with pytest.raises(ValueError):
        grey_tensor(bad)
