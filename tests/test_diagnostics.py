"""colorlab.diagnostics: channel views and the hue artefact map on images with known answers."""
import numpy as np
import pytest
import torch

from colorlab.colorspaces import hsv_to_rgb
from colorlab.diagnostics import artifact_heatmap, cast_split, channel_views, colour_cast, hue_artifact_map
from colorlab.imaging import tensor_to_array


def hsv_image(h, s=1.0, v=1.0, shape=(6, 8)) -> np.ndarray:
    """uint8 (H,W,3) from HSV planes (scalars or (H,W) arrays; hue in turns)."""
    planes = [torch.tensor(np.broadcast_to(c, shape), dtype=torch.float32) for c in (h, s, v)]
    return tensor_to_array(hsv_to_rgb(torch.stack(planes).unsqueeze(0)))


def halves(left, right, shape=(6, 8)):
    out = np.full(shape, left, dtype=np.float64)
    out[:, shape[1] // 2:] = right
    return out


# With a reference: circular hue error weighted by the reference's saturation.

def test_identical_images_score_zero():
    img = hsv_image(np.linspace(0, 0.9, 8), 0.8)
    amap, score = hue_artifact_map(img, img)
    assert amap.shape == (6, 8) and amap.dtype == np.float32
    assert score == 0.0 and amap.max() == 0.0


@pytest.mark.parametrize("pred, ref", [(0.4, 0.3), (0.3, 0.4), (0.7, 0.6)])
def test_a_tenth_of_a_turn_on_saturated_pixels_scores_a_tenth(pred, ref):
    amap, score = hue_artifact_map(hsv_image(pred), hsv_image(ref))
    assert score == pytest.approx(0.1, abs=0.005)
    np.testing.assert_allclose(amap, 0.1, atol=0.005)


@pytest.mark.parametrize("pred, ref, expected", [(0.95, 0.05, 0.1), (0.02, 0.98, 0.04), (0.0, 0.5, 0.5)])
def test_hue_error_wraps_around_red(pred, ref, expected):
    assert hue_artifact_map(hsv_image(pred), hsv_image(ref))[1] == pytest.approx(expected, abs=0.005)


def test_error_is_weighted_by_reference_saturation():
    amap, score = hue_artifact_map(hsv_image(0.5, 1.0), hsv_image(0.3, 0.5))
    assert score == pytest.approx(0.2 * 0.5, abs=0.005)


def test_unsaturated_reference_pixels_are_ignored():
    # Left: reference saturated, hue off by 0.1. Right: reference almost grey (S = 0.05),
    # hue off by half a turn -- its hue means nothing, so it must not count.
    pred = hsv_image(halves(0.4, 0.5))
    ref = hsv_image(halves(0.3, 0.0), halves(1.0, 0.05))
    amap, score = hue_artifact_map(pred, ref)
    assert (amap[:, 4:] == 0).all()
    assert score == pytest.approx(0.1, abs=0.005)     # the mean over counted pixels only
    grey = np.full((6, 8, 3), 128, np.uint8)
    assert hue_artifact_map(pred, grey) == (pytest.approx(np.zeros((6, 8))), 0.0)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="differs"):
        hue_artifact_map(hsv_image(0.1), hsv_image(0.1, shape=(6, 9)))
    with pytest.raises(ValueError, match="expected uint8"):
        hue_artifact_map(np.zeros((6, 8, 3)))


# Without a reference: saturation-weighted circular hue gradient.

def test_smooth_hue_has_no_artefacts():
    amap, score = hue_artifact_map(hsv_image(0.3))
    assert score == 0.0 and amap.max() == 0.0


def test_speckle_lights_up_locally():
    hue = np.full((9, 9), 0.3)
    hue[4, 4] = 0.4
    amap, score = hue_artifact_map(hsv_image(hue, shape=(9, 9)))
    # Forward differences: into the speck from above and from the left, out of it both ways.
    assert amap[3, 4] == pytest.approx(0.1, abs=0.01) and amap[4, 3] == pytest.approx(0.1, abs=0.01)
    assert amap[4, 4] == pytest.approx(0.1 * np.sqrt(2), abs=0.01)
    assert amap[:2].max() == 0 and amap[:, 6:].max() == 0
    assert 0 < score < 0.1


def test_red_seam_is_a_small_step_not_a_huge_one():
    # 0.98 next to 0.02 is a 0.04-turn step across red, not 0.96.
    amap, _ = hue_artifact_map(hsv_image(halves(0.98, 0.02)))
    assert amap.max() == pytest.approx(0.04, abs=0.005)
    assert amap[:, 3].min() == pytest.approx(0.04, abs=0.005) and amap[:, :3].max() == 0


def test_hue_jumps_next_to_grey_pixels_do_not_count():
    amap, score = hue_artifact_map(hsv_image(halves(0.6, 0.0), halves(1.0, 0.0)))
    assert amap.max() == 0.0 and score == 0.0


def test_tiny_images():
    for shape in [(1, 1), (1, 5), (5, 1)]:
        amap, score = hue_artifact_map(hsv_image(0.3, shape=shape))
        assert amap.shape == shape and score == 0.0


def test_artifact_heatmap():
    amap = np.linspace(0, 0.5, 12, dtype=np.float32).reshape(3, 4)
    heat = artifact_heatmap(amap)
    assert heat.shape == (3, 4, 3) and heat.dtype == np.uint8
    brightness = heat.astype(int).sum(-1).ravel()
    assert (np.diff(brightness) > 0).all()          # inferno: dark for no error, bright for the most
    assert brightness[0] < 30 and brightness[-1] > 500
    np.testing.assert_array_equal(artifact_heatmap(np.full((1, 1), 7.0)), heat[-1:, -1:])   # saturates
    with pytest.raises(ValueError):
        artifact_heatmap(amap, vmax=0)


# Channel views.

@pytest.mark.parametrize("space", ["lab", "hsv", "rgb", "LAB"])
def test_channel_views_shapes(space):
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    views = channel_views(img, space)
    assert len(views) == 3
    for label, view in views:
        assert isinstance(label, str) and label
        assert view.shape == (5, 7, 3) and view.dtype == np.uint8


def test_channel_views_unknown_space():
    with pytest.raises(ValueError, match="unknown colour space"):
        channel_views(np.zeros((2, 2, 3), np.uint8), "cmyk")


def pixel(rgb):
    return np.array(rgb, np.uint8).reshape(1, 1, 3)


def test_lab_views():
    (_, L), (_, a), (_, b) = channel_views(pixel([128, 128, 128]), "lab")
    assert L[0, 0, 0] == L[0, 0, 1] == L[0, 0, 2] and 120 < L[0, 0, 0] < 140   # L* 54 of 100
    for view in (a, b):   # no chroma: the neutral middle of the diverging maps
        assert np.ptp(view[0, 0].astype(int)) <= 2
    assert (channel_views(pixel([255, 255, 255]), "lab")[0][1] == 255).all()
    _, (_, a_mag), (_, b_yel) = channel_views(pixel([255, 0, 255]), "lab")     # magenta: a > 0, b < 0
    assert a_mag[0, 0, 0] > a_mag[0, 0, 1] + 100                               # a view magenta
    assert b_yel[0, 0, 2] > b_yel[0, 0, 0] + 100                               # b view blue
    _, (_, a_green), (_, b_yellow) = channel_views(pixel([0, 200, 0]), "lab")  # green: a < 0, b > 0
    assert a_green[0, 0, 1] > a_green[0, 0, 0] + 100
    assert b_yellow[0, 0, 0] > b_yellow[0, 0, 2] + 100 and b_yellow[0, 0, 1] > b_yellow[0, 0, 2] + 100


def test_lab_views_use_a_fixed_range():
    # Chroma beyond +-80 saturates, so a vivid image and a more vivid one look alike there.
    (_, _), (_, a1), _ = channel_views(pixel([255, 0, 200]), "lab")    # a* ~ 95
    (_, _), (_, a2), _ = channel_views(pixel([255, 0, 255]), "lab")    # a* ~ 98
    np.testing.assert_array_equal(a1, a2)


def test_hsv_and_rgb_views():
    (_, h), (_, s), (_, v) = channel_views(pixel([100, 50, 50]), "hsv")   # dark, half-saturated red
    np.testing.assert_array_equal(h[0, 0], [255, 0, 0])                  # hue at full S and V
    np.testing.assert_array_equal(s[0, 0], [128, 128, 128])
    np.testing.assert_array_equal(v[0, 0], [100, 100, 100])
    (_, r), (_, g), (_, b) = channel_views(pixel([10, 20, 30]), "rgb")
    np.testing.assert_array_equal(np.stack([r[0, 0], g[0, 0], b[0, 0]]), [[10, 0, 0], [0, 20, 0], [0, 0, 30]])


# Colour cast: the mean a, b, and the split of a prediction's error into cast and the rest.

def test_colour_cast_of_flat_colours():
    orange = np.full((4, 6, 3), (200, 120, 60), np.uint8)
    assert np.allclose(colour_cast(orange), (26.18, 45.19), atol=0.02)      # skimage.color.rgb2lab
    assert np.allclose(colour_cast(np.full((4, 6, 3), 128, np.uint8)), 0, atol=0.01)
    two = orange.copy()
    two[:, 3:] = (60, 120, 200)
    assert np.allclose(colour_cast(two), (colour_cast(orange) + colour_cast(two[:, 3:])) / 2, atol=1e-3)


@pytest.fixture
def photo():
    import skimage.data
    return np.ascontiguousarray(skimage.data.astronaut()[::8, ::8])


def test_a_prediction_off_only_by_a_cast_is_put_right(photo):
    # The photo with a cast added in LAB: cast_split restores the photo.
    from colorlab.colorspaces import lab_to_rgb, rgb_to_lab
    from colorlab.imaging import array_to_tensor
    lab = rgb_to_lab(array_to_tensor(photo))
    lab[:, 1:] += torch.tensor([6.0, -9.0]).view(1, 2, 1, 1)
    tinted = tensor_to_array(lab_to_rgb(lab))
    right, cast_only = cast_split(tinted, photo)
    assert np.abs(tinted.astype(int) - photo).mean() > 5
    assert np.abs(right.astype(int) - photo).mean() < 1.0
    assert np.allclose(colour_cast(right), colour_cast(photo), atol=0.5)


def test_cast_only_is_one_colour_at_the_prediction_lightness(photo):
    from colorlab.colorspaces import rgb_to_lab
    from colorlab.imaging import array_to_tensor
    right, cast_only = cast_split(photo, photo)
    assert np.abs(right.astype(int) - photo).max() <= 1           # already the right cast
    lab, lab_pred = rgb_to_lab(array_to_tensor(cast_only)), rgb_to_lab(array_to_tensor(photo))
    mid = ((lab_pred[0, 0] > 25) & (lab_pred[0, 0] < 80)).flatten()   # away from the sRGB gamut's ends
    assert mid.float().mean() > 0.5
    assert (lab[0, 0].flatten() - lab_pred[0, 0].flatten())[mid].abs().max() < 0.7     # lightness kept
    ab = lab[0, 1:].flatten(1)[:, mid]
    assert (ab - torch.from_numpy(colour_cast(photo)).float()[:, None]).abs().max() < 2.5


def test_cast_split_shapes_must_match(photo):
    with pytest.raises(ValueError, match="shapes differ"):
        cast_split(photo, photo[1:])
