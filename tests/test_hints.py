"""Colour hints: validation, the maps the network sees, the simulations, the naive
baselines, the fine-tune start, and what hints do to the shipped models."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.checkpoints import WEIGHTS_DIR, get_model, save_checkpoint
from colorlab.colorspaces import AB_SCALE, rgb_to_lab
from colorlab.hints import (
    CROWD,
    HINT_CHANNELS,
    MAX_POINTS,
    POINT_PATCH,
    POINT_REACH,
    SPREAD_SCALE,
    colour_to_ab,
    confidence,
    from_json,
    hint_maps,
    make_hints,
    mean_ab,
    parse_colour,
    simulate,
    simulate_training,
)
from colorlab.hints.baselines import flat_tint, idw_chroma, propagate
from colorlab.models import create_model
from colorlab.pipeline import accepts_hints, colorize

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SHIPPED = [f"{s}-{c}" for s in ("lab", "hsv", "rgb") for c in ("faces", "landscapes", "general")]


def _lab(arr: np.ndarray) -> np.ndarray:
    return rgb_to_lab(torch.from_numpy(np.array(arr)).permute(2, 0, 1)[None].float() / 255)[0].numpy()


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("points, message", [
    ([(1.2, 0.5, "#ff0000")], "x must be in \\[0, 1\\]"),
    ([(0.5, -0.1, "#ff0000")], "y must be in \\[0, 1\\]"),
    ([(float("nan"), 0.5, "#ff0000")], "x must be in"),
    ([("left", 0.5, "#ff0000")], "x must be a number"),
    ([(0.5, 0.5, "#ff00")], "malformed colour"),
    ([(0.5, 0.5, "red")], "malformed colour"),
    ([(0.5, 0.5, (300, 0, 0))], "three ints"),
    ([(0.5, 0.5)], "must be \\[x, y, '#rrggbb'\\]"),
    ([(0.5, 0.5, "#ff0000")] * (MAX_POINTS + 1), f"at most {MAX_POINTS}"),
])
def test_bad_hints_are_refused_clearly(points, message):
    with pytest.raises(ValueError, match=message):
        make_hints(points)


def test_bad_tint_and_json_are_refused():
    with pytest.raises(ValueError, match="malformed colour"):
        make_hints(tint="#12345g")
    with pytest.raises(ValueError, match="not valid JSON"):
        from_json("{points: }")
    with pytest.raises(ValueError, match="unknown hint keys"):
        from_json({"point": []})
    with pytest.raises(ValueError, match="JSON object"):
        from_json("[1, 2]")
    for reach in (0, -1, 100, float("nan"), "far"):
        with pytest.raises(ValueError, match="hint reach must be"):
            make_hints([(0.5, 0.5, "#ff0000")], reach=reach)


def test_colour_forms_agree():
    assert parse_colour("#FF8000") == parse_colour("ff8000") == parse_colour("rgb(255, 128, 0)") == (255, 128, 0)
    assert parse_colour((255, 128, 0)) == (255, 128, 0)
    a, b = colour_to_ab("#ff0000")          # sRGB red: L 53.24, a 80.09, b 67.20 (CIE, D65)
    assert a == pytest.approx(80.09, abs=0.05) and b == pytest.approx(67.20, abs=0.05)
    assert colour_to_ab("#808080") == pytest.approx((0.0, 0.0), abs=0.01)


def test_json_round_trip_keeps_what_was_typed():
    h = from_json('{"points": [[0.25, 0.75, "#00ff00"]], "tint": "#336699"}')
    assert h.points[0][:2] == (0.25, 0.75) and h.tint is not None
    assert h.to_json() == {"points": [[0.25, 0.75, "#00ff00"]], "tint": "#336699"}
    assert not from_json("") and not from_json(None) and not from_json("{}")
    wide = from_json('{"points": [[0.5, 0.5, "#ff0000"]], "reach": 1.5}')
    assert wide.reach == 1.5 and from_json(wide.to_json()) == wide and h.reach == POINT_REACH


# ---------------------------------------------------------------- the network's hint input

def test_hint_maps_put_the_chroma_where_the_point_is():
    h = make_hints([(0.0, 0.0, "#ff0000"), (0.5, 0.75, "#0000ff")], tint="#00ff00")
    maps = hint_maps(h, (32, 64))
    assert maps.shape == (1, HINT_CHANNELS, 32, 64)
    a, b = colour_to_ab("#0000ff")
    cy, cx = int(0.75 * 32), int(0.5 * 64)
    assert maps[0, 0, cy, cx] == pytest.approx(a / AB_SCALE) and maps[0, 1, cy, cx] == pytest.approx(b / AB_SCALE)
    mask = maps[0, 2]
    assert mask[0, 0] == 1 and mask[cy, cx] == 1
    # patches of POINT_PATCH pixels (clipped at the border): nothing else is marked
    assert mask.sum() == (POINT_PATCH // 2 + 1) ** 2 + POINT_PATCH ** 2
    ta, tb = colour_to_ab("#00ff00")
    assert torch.allclose(maps[0, 3], torch.full((32, 64), ta / AB_SCALE))
    assert torch.allclose(maps[0, 4], torch.full((32, 64), tb / AB_SCALE)) and maps[0, 5].min() == 1
    assert hint_maps(make_hints(), (8, 8)).abs().sum() == 0


def test_training_simulation_follows_the_truth():
    gen = torch.Generator().manual_seed(0)
    ab = torch.rand(400, 2, 16, 16) * 2 - 1
    maps = simulate_training(ab, gen)
    has_points = maps[:, 2].flatten(1).amax(1) > 0
    has_tint = maps[:, 5, 0, 0] > 0
    assert 0.2 < 1 - has_points.float().mean() < 0.4          # p_no_points = 0.3
    assert 0.4 < has_tint.float().mean() < 0.6                # p_tint = 0.5
    i = int(torch.nonzero(has_tint)[0])
    assert torch.allclose(maps[i, 3:5, 0, 0], ab[i].mean((1, 2)), atol=1e-6)
    # where a patch is marked, its chroma is a patch mean of the truth: within the truth's range
    m = maps[:, 2] > 0
    assert (maps[:, 0][m].abs() <= 1).all()
    assert (maps[:, 0][~m] == 0).all()


def test_evaluation_simulation_is_deterministic_and_true_to_the_reference(photo):
    arr = np.asarray(photo)
    h1, h2, h3 = simulate(arr, 10, seed=0), simulate(arr, 10, seed=0), simulate(arr, 10, seed=1)
    assert h1 == h2 and h1 != h3 and len(h1.points) == 10
    mirrored = simulate(np.ascontiguousarray(arr[::-1]), 10, seed=0)      # same size, another image
    assert [p[:2] for p in mirrored.points] != [p[:2] for p in h1.points]
    for x, y, ab in h1.points:
        r, c = int(y * arr.shape[0]), int(x * arr.shape[1])
        assert ab == pytest.approx(colour_to_ab(tuple(int(v) for v in arr[r, c])))
    t = simulate(arr, 0, tint=True)
    lab = _lab(arr)
    assert t.tint == pytest.approx((lab[1].mean(), lab[2].mean()), abs=1e-3) and not t.points



def test_guided_spread_follows_lightness_and_reduces_to_idw_on_flat_photos():
    # two surfaces: dark left half, light right half; a red point on each side near the edge
    size = (16, 32)
    light = torch.full(size, 20.0)
    light[:, 16:] = 80.0
    h = make_hints([(0.4, 0.5, "#ff0000"), (0.95, 0.5, "#0000ff")])
    red_a, blue_a = colour_to_ab("#ff0000")[0] / AB_SCALE, colour_to_ab("#0000ff")[0] / AB_SCALE
    plain = hint_maps(h, size)
    guided = hint_maps(h, size, lightness=light.view(1, 1, *size))
    # just right of the edge the red point is nearer, but the blue one is on the same surface
    assert abs(plain[0, 6, 8, 17] - red_a) < abs(plain[0, 6, 8, 17] - blue_a)
    assert abs(guided[0, 6, 8, 17] - blue_a) < 0.05 * abs(red_a - blue_a)
    assert abs(guided[0, 6, 8, 4] - red_a) < 0.05 * abs(red_a - blue_a)
    # the rest of the maps do not depend on the guide; on a flat photo the spreads agree
    assert torch.equal(guided[:, [0, 1, 2, 3, 4, 5, 8]], plain[:, [0, 1, 2, 3, 4, 5, 8]])
    flat = hint_maps(h, size, lightness=torch.full((1, 1, *size), 50.0))
    assert torch.allclose(flat, plain, atol=1e-5)
    # each photo of a batch gets its own guided spread
    pair = hint_maps(h, size, batch=2, lightness=torch.stack([light, torch.full(size, 50.0)])[:, None])
    assert torch.allclose(pair[0], guided[0]) and torch.allclose(pair[1], plain[0], atol=1e-5)


def test_confidence_of_a_lone_point_falls_with_geodesic_distance():
    size = (32, 64)
    flat = torch.full((1, 1, *size), 50.0)
    assert confidence(make_hints(), flat).abs().sum() == 0 and confidence(make_hints(), flat).shape == (1, 1, *size)
    one = make_hints([(0.25, 0.5, "#ff0000")])           # pixel (16, 16)
    conf = confidence(one, flat)[0, 0]
    r2, crowd = (POINT_REACH * 32) ** 2, 1 / (1 + CROWD ** 2)
    for row, col in [(16, 16), (16, 40), (0, 63), (5, 30)]:
        dy, dx = abs(row - 16), abs(col - 16)
        d = max(dy, dx) + (2 ** 0.5 - 1) * min(dy, dx)   # on an even surface: the 8-neighbour path length
        local = np.exp(-d * d / (2 * r2))
        assert conf[row, col] == pytest.approx(1 - (1 - local) * (1 - crowd), rel=1e-5)
    assert conf[16, 16] == pytest.approx(1.0) and conf[0, 63] < 0.11


def test_an_edge_bounds_a_lone_point():
    """Beyond an edge of 30 L* the point has (almost) no say, however near; on its own side
    the same distance keeps most of it."""
    size = (32, 64)
    step = torch.full((1, 1, *size), 60.0)
    step[..., 24:] = 30.0                                # the edge: columns 24 onwards are darker
    one = make_hints([(16.5 / 64, 16.5 / 32, "#ff0000")])   # pixel (16, 16), 8 px left of the edge
    conf = confidence(one, step)[0, 0]
    crowd = 1 / (1 + CROWD ** 2)
    assert conf[16, 8] > 0.75                            # 8 px away on its own surface
    assert conf[16, 26] < crowd + 0.01                   # 10 px away across the edge: only the crowd term
    # a darker band that is not a wall: the way round it keeps the far side reachable
    band = torch.full((1, 1, *size), 60.0)
    band[..., 12:20, 24:28] = 30.0
    assert confidence(one, band)[0, 0, 16, 30] > 2 * conf[16, 30]


def test_a_large_render_measures_distances_on_a_coarser_grid():
    """Above GEODESIC_PIXELS the distances run on an area-reduced grid: same confidence, to
    within the coarser grid's rounding."""
    from colorlab.hints.encoding import GEODESIC_PIXELS
    size = (256, 512)
    assert size[0] * size[1] > GEODESIC_PIXELS
    conf = confidence(make_hints([(0.25, 0.5, "#ff0000")]), torch.full((1, 1, *size), 50.0))[0, 0]
    r2, crowd = (POINT_REACH * 256) ** 2, 1 / (1 + CROWD ** 2)
    for row, col in [(128, 128), (128, 250), (20, 400)]:
        dy, dx = abs(row - 128), abs(col - 128)
        d = max(dy, dx) + (2 ** 0.5 - 1) * min(dy, dx)
        assert conf[row, col] == pytest.approx(1 - (1 - np.exp(-d * d / (2 * r2))) * (1 - crowd), abs=0.03)


def test_many_points_speak_for_the_whole_photo():
    size = (32, 64)
    flat = torch.full((1, 1, *size), 50.0)
    flat[..., 32:] = 10.0                                # an edge no single point crosses
    grid = make_hints([((i + 0.5) / 5, (j + 0.5) / 2, "#ff0000") for i in range(5) for j in range(2)])
    assert confidence(grid, flat).min() > 0.9
    one = make_hints([(0.1, 0.5, "#ff0000")])
    assert confidence(one, flat)[0, 0, :, 40:].max() < 0.11


def test_guided_training_simulation_draws_the_same_hints():
    ab = torch.rand(50, 2, 16, 16) * 2 - 1
    light = torch.rand(50, 1, 16, 16) * 100
    plain = simulate_training(ab, torch.Generator().manual_seed(3))
    guided = simulate_training(ab, torch.Generator().manual_seed(3), lightness=light)
    assert torch.equal(guided[:, :6], plain[:, :6]) and torch.equal(guided[:, 8], plain[:, 8])
    has = plain[:, 2].flatten(1).amax(1) > 0
    assert not torch.allclose(guided[has, 6:8], plain[has, 6:8])

# ---------------------------------------------------------------- naive baselines

def test_flat_tint_has_the_tint_as_its_mean_and_keeps_lightness(photo):
    arr = np.asarray(photo)
    out = flat_tint(arr, (20.0, -15.0))
    lab_in, lab_out = _lab(arr), _lab(out)
    assert lab_out[1].mean() == pytest.approx(20.0, abs=1.0) and lab_out[2].mean() == pytest.approx(-15.0, abs=1.0)
    assert np.abs(lab_out[0] - lab_in[0]).max() < 1.5      # uint8 rounding only


def test_propagation_weights_by_inverse_distance():
    pts = [(0.0, 0.0, (40.0, 0.0)), (1.0, 1.0, (0.0, 40.0))]
    ab = idw_chroma(pts, (9, 9))[0]
    assert ab[0, 0, 0] > 35 and ab[1, 8, 8] > 35                    # each corner takes its own hint
    assert float(ab[0, 4, 4]) == pytest.approx(float(ab[1, 4, 4]), abs=1e-4)     # the centre is equidistant
    w1, w2 = 1 / (4.5 ** 2 + 0.5 ** 2 + 0.25), 1 / (4.5 ** 2 + 8.5 ** 2 + 0.25)  # pixel (0, 4): 1 / (d^2 + 1/4)
    assert float(ab[0, 0, 4]) == pytest.approx(40 * w1 / (w1 + w2), rel=1e-4)
    one = propagate(np.full((20, 30, 3), 128, np.uint8), make_hints([(0.3, 0.3, "#c04040")]))
    flat = flat_tint(np.full((20, 30, 3), 128, np.uint8), colour_to_ab("#c04040"))
    assert np.abs(one.astype(int) - flat).max() <= 1               # one point: its chroma everywhere


# ---------------------------------------------------------------- model and pipeline

def test_hint_aware_model_starts_as_the_automatic_one(tmp_path):
    from train.trainer import init_weights
    torch.manual_seed(0)
    auto = create_model("mobile_unet", out_channels=2, decoder=(16, 8, 8, 8, 8)).eval()
    for p in auto.parameters():
        p.data.normal_(0, 0.1)
    save_checkpoint(auto, tmp_path / "auto", {"name": "auto", "space": "lab"}, half=False)
    hinted = create_model("mobile_unet", out_channels=2, decoder=(16, 8, 8, 8, 8), hint_channels=HINT_CHANNELS)
    init_weights(hinted, str(tmp_path / "auto.safetensors"))
    hinted.eval()
    x = torch.rand(1, 1, 64, 64) * 2 - 1
    maps = hint_maps(make_hints([(0.5, 0.5, "#ff0000")], tint="#0000ff"), (64, 64))
    with torch.no_grad():
        assert torch.allclose(hinted(x), auto(x), atol=1e-6)
        assert torch.allclose(hinted(x, maps), auto(x), atol=1e-6)     # zero-initialised: hints ignored at first
    with pytest.raises(ValueError, match="without hints"):
        auto(x, maps)


def test_hints_to_an_automatic_model_are_refused(weights_dir, photo):
    model = get_model("lab-general", weights_dir)
    assert not accepts_hints(model)
    with pytest.raises(ValueError, match="automatic-only"):
        colorize(photo, model, hints=[(0.5, 0.5, "#ff0000")])
    colorize(photo, model, hints=[])       # no hints is always fine


# ---------------------------------------------------------------- the shipped models (slow)

def _shipped(name):
    if not (WEIGHTS_DIR / f"{name}.safetensors").is_file():
        pytest.skip(f"{name} not shipped")
    model = get_model(name)
    if not accepts_hints(model):
        pytest.fail(f"{name} is shipped without hint support")
    return model


@pytest.fixture(scope="module")
def grey_photo():
    """A real photo (an example), as a user's grey upload."""
    path = sorted(EXAMPLES.rglob("*.jpg"))[0]
    return Image.open(path).convert("L").convert("RGB")


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_a_strong_hint_pulls_the_colour_near_its_point(name, grey_photo):
    model = _shipped(name)
    w, h = grey_photo.size
    win = (slice(h // 2 - h // 40, h // 2 + h // 40 + 1), slice(w // 2 - w // 40, w // 2 + w // 40 + 1))
    base = _lab(np.asarray(colorize(grey_photo, model)))
    ratios = []
    for colour in ("#40a050", "#4070b0"):     # green and blue: far from what any model puts there
        target = np.array(colour_to_ab(colour))
        out = _lab(np.asarray(colorize(grey_photo, model, hints=[(0.5, 0.5, colour)])))
        before = np.linalg.norm(base[1:, win[0], win[1]].mean((1, 2)) - target)
        after = np.linalg.norm(out[1:, win[0], win[1]].mean((1, 2)) - target)
        assert after < 0.9 * before, f"{name}: hint {colour} moved the chroma near it from {before:.1f} to {after:.1f}"
        ratios.append(after / before)
    assert np.mean(ratios) < 0.8, f"{name}: one hint closes only {1 - np.mean(ratios):.0%} of the gap"


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_a_lone_point_does_not_repaint_the_photo(name):
    # The reported case: a blue point on a landscape's tree line once turned the whole photo
    # blue: with most models over 90% of the pixels' a, b moved by more than 10, and the
    # football field below by 32-65 on average.
    model = _shipped(name)
    photo = Image.open(EXAMPLES / "landscapes" / "01f87fed5ca7.jpg").convert("L").convert("RGB")
    base = _lab(np.asarray(colorize(photo, model)))[1:]
    out = _lab(np.asarray(colorize(photo, model, hints=[(0.5, 0.15, "#3060c0")])))[1:]
    change = np.linalg.norm(out - base, axis=0)
    moved, field = float((change > 10).mean()), float(change[int(0.6 * change.shape[0]):].mean())
    assert moved < 0.88, f"{name}: one point recoloured {moved:.0%} of the photo"
    assert field < 25, f"{name}: one point on the tree line moved the field's a, b by {field:.1f}"
    # ... while its own surface does take the colour (the tree line around it)
    h, w = base.shape[1:]
    near = (slice(int(0.1 * h), int(0.2 * h)), slice(int(0.4 * w), int(0.6 * w)))
    target = np.array(colour_to_ab("#3060c0")).reshape(2, 1)
    gap = [np.linalg.norm(x[:, near[0], near[1]].reshape(2, -1).mean(1, keepdims=True) - target) for x in (base, out)]
    assert gap[1] < 0.7 * gap[0], f"{name}: the point's surroundings moved from {gap[0]:.1f} to {gap[1]:.1f}"
    # the user's reach: a wider one lets the same point speak for more of the photo
    wide = _lab(np.asarray(colorize(photo, model, hints=make_hints([(0.5, 0.15, "#3060c0")], reach=2.0))))[1:]
    assert (np.linalg.norm(wide - base, axis=0) > 10).mean() > moved


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_a_tint_moves_the_mean_chroma_towards_it(name, grey_photo):
    model = _shipped(name)
    for colour in ("#3060c0", "#c08030"):
        target = np.array(colour_to_ab(colour))
        base = np.array(mean_ab(np.asarray(colorize(grey_photo, model))))
        out = np.array(mean_ab(np.asarray(colorize(grey_photo, model, tint=colour))))
        assert np.linalg.norm(out - target) < 0.6 * np.linalg.norm(base - target), name


# ---------------------------------------------------------------- CLI

def test_cli_hints_file_and_single_file_flags(tmp_path, photo, monkeypatch):
    import colorlab.cli as cli
    from colorlab.hints import Hints
    seen = {}

    def fake_colorize(src, model, render_size=None, saturation=1.0, hints=None):
        seen[str(src)] = hints
        return Image.new("RGB", (4, 4))
    monkeypatch.setattr(cli, "colorize", fake_colorize)
    monkeypatch.setattr(cli, "accepts_hints", lambda m: True)
    monkeypatch.setattr(cli, "get_model", lambda name, d=None: object())
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    photo.save(a)
    photo.save(b)
    spec = tmp_path / "hints.json"
    spec.write_text(json.dumps({"a.png": {"points": [[0.1, 0.2, "#ff0000"]], "tint": "#00ff00"}}))
    out = str(tmp_path / "o")
    assert cli.main(["colorize", "--model", "m", "--out", out, "--hints", str(spec), str(a), str(b)]) == 0
    assert seen[str(a)].points[0][:2] == (0.1, 0.2) and seen[str(a)].tint is not None
    assert seen[str(b)] == Hints()                   # not in the map: no hints
    assert cli.main(["colorize", "--model", "m", "--out", str(tmp_path / "o"), "--point", "0.5,0.5,#0000ff",
                     "--point", "0.1,0.9,#00ff00", "--tint", "#808000", str(a)]) == 0
    given = seen[str(a)]
    assert [p[:2] for p in given.points] == [(0.5, 0.5), (0.1, 0.9)]      # X,Y in that order, each kept
    assert given.points[1][2] == pytest.approx(colour_to_ab("#00ff00"))
    assert given.tint == pytest.approx(colour_to_ab("#808000"))
    assert seen[str(a)].reach == POINT_REACH
    assert cli.main(["colorize", "--model", "m", "--out", str(tmp_path / "o"), "--point", "0.5,0.5,#0000ff",
                     "--reach", "0.3", str(a)]) == 0
    assert seen[str(a)].reach == 0.3
    with pytest.raises(SystemExit):
        cli.main(["colorize", "--model", "m", "--out", str(tmp_path / "o"), "--reach", "0", str(a)])
    with pytest.raises(SystemExit) as e:             # flags are for one input only
        cli.main(["colorize", "--model", "m", "--out", str(tmp_path / "o"), "--tint", "#808000", str(a), str(b)])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["colorize", "--model", "m", "--out", str(tmp_path / "o"), "--point", "1.5,0.5,#0000ff", str(a)])
    spec.write_text(json.dumps({"a.png": {"points": [[0.1, 0.2, "nope"]]}}))
    with pytest.raises(SystemExit):
        cli.main(["colorize", "--model", "m", "--out", str(tmp_path / "o"), "--hints", str(spec), str(a)])


@pytest.mark.slow
def test_cli_evaluate_with_points_is_deterministic(tmp_path, capsys):
    name = "lab-faces"
    _shipped(name)
    from colorlab.cli import main
    data = tmp_path / "data"
    data.mkdir()
    for p in sorted((EXAMPLES / "faces").glob("*.jpg"))[:3]:
        (data / p.name).write_bytes(p.read_bytes())
    runs = []
    for seed in (3, 3, 4):
        assert main(["evaluate", "--model", name, "--data", str(data), "--points", "10", "--seed", str(seed),
                     "--json"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0]["scores"] == runs[1]["scores"] and runs[0]["baselines"] == runs[1]["baselines"]
    assert runs[0]["scores"]["psnr"] != runs[2]["scores"]["psnr"]
    assert set(runs[0]["baselines"]) == {"grey", "flat_tint", "naive_propagation"}


# ---------------------------------------------------------------- the app's hint editor

def test_hint_editor_edits_keep_valid_json():
    from colorlab.serving import hint_editor as he
    t = he.add_point("", 0.25, 0.5, "rgb(255, 0, 0)")
    t = he.add_point(t, 1.0, 0.0, "#00ff00")
    t = he.set_tint(t, "#336699")
    assert he.rows(t) == [[1, 0.25, 0.5, "#ff0000"], [2, 1.0, 0.0, "#00ff00"]]
    t = he.recolour(t, -1, "#0000ff")
    assert he.rows(t)[1][3] == "#0000ff"
    t = he.remove_point(t, 0)
    assert he.rows(t) == [[1, 1.0, 0.0, "#0000ff"]]
    t = he.clear_points(t)
    assert json.loads(t) == {"tint": "#336699"}              # clearing points keeps the tint
    assert he.set_tint(t, None) == ""
    t = he.set_reach(he.add_point("", 0.5, 0.5, "#ff0000"), 0.7)
    assert json.loads(t)["reach"] == 0.7 and "reach" not in json.loads(he.set_reach(t, POINT_REACH))
    with pytest.raises(ValueError):
        he.set_reach(t, 0)
    with pytest.raises(ValueError):
        he.add_point("", 1.5, 0.5, "#ff0000")
    with pytest.raises(ValueError):
        he.add_point("", 0.5, 0.5, "bluish")


def test_hint_editor_selects_moves_and_undoes():
    from colorlab.serving import hint_editor as he
    t = he.add_point(he.add_point("", 0.25, 0.5, "#ff0000"), 0.75, 0.5, "#00ff00")
    assert he.point_colour(t, 1) == "#00ff00" and he.point_colour(t, 2) is None
    # a click within the marker's radius selects the nearest marker's hint; elsewhere, none
    assert he.nearest_point(t, 0.26, 0.5, (200, 100), 5) == 0
    assert he.nearest_point(t, 0.74, 0.51, (200, 100), 5) == 1
    assert he.nearest_point(t, 0.5, 0.5, (200, 100), 5) is None
    moved = he.move_point(t, 0, 0.1, 1.3)                   # clamped into the photo, colour kept
    assert he.rows(moved)[0] == [1, 0.1, 1.0, "#ff0000"]
    with pytest.raises(ValueError):
        he.move_point(t, 5, 0.1, 0.1)
    with pytest.raises(ValueError, match="no hint #3"):   # removing a hint that is not there is refused
        he.remove_point(t, 2)
    # undo and redo walk the history; a new edit drops the redo branch
    h = he.history_push(None, "")
    for state in (t, moved):
        h = he.history_push(h, state)
    h, back = he.history_step(h, -1)
    assert back == t
    h, again = he.history_step(h, +1)
    assert again == moved
    h, _ = he.history_step(h, -1)
    h = he.history_push(h, "")
    assert he.history_step(h, +1)[1] == "" and he.history_step(h, -1)[1] == t


def test_tint_helpers_clamp_and_blend():
    from colorlab.hints import blend_tint, chroma_of, colour_to_ab, tint_of
    from colorlab.hints.spec import MAX_TINT_CHROMA
    vivid = np.zeros((8, 8, 3), np.uint8)
    vivid[..., 1] = 200                                     # a neon green photo
    assert chroma_of(tint_of(vivid, None)) > 60
    assert chroma_of(tint_of(vivid)) == pytest.approx(MAX_TINT_CHROMA, abs=1.5)
    cast, tint = "#808080", "#a06040"
    assert blend_tint(cast, tint, 0.0) != tint and chroma_of(blend_tint(cast, tint, 0.0)) < 1.5
    assert colour_to_ab(blend_tint(cast, tint, 1.0)) == pytest.approx(colour_to_ab(tint), abs=1.5)
    half = colour_to_ab(blend_tint(cast, tint, 0.5))
    assert half == pytest.approx([v / 2 for v in colour_to_ab(tint)], abs=1.5)
    with pytest.raises(ValueError):
        blend_tint(cast, tint, 1.5)


def test_markers_are_drawn_at_the_hints(photo):
    from colorlab.serving import hint_editor as he
    t = he.add_point("", 0.5, 0.5, "#00ff00")
    out = np.asarray(he.draw_markers(photo, t))
    cy, cx = round(0.5 * (photo.height - 1)), round(0.5 * (photo.width - 1))
    assert tuple(out[cy, cx]) == (0, 255, 0)
    assert np.array_equal(np.asarray(he.draw_markers(photo, "")), np.asarray(photo))


@pytest.mark.parametrize("space", ["lab", "hsv", "rgb"])
def test_the_output_mean_chroma_is_the_tint(space, photo):
    from colorlab.checkpoints import CheckpointMeta, Colorizer
    from colorlab.colorspaces import get_space
    torch.manual_seed(1)
    sp = get_space(space)
    net = create_model("mobile_unet", out_channels=sp.chroma_channels, decoder=(16, 8, 8, 8, 8),
                       hint_channels=HINT_CHANNELS).eval()
    model = Colorizer(net, sp, 64, 64, CheckpointMeta(f"tiny-{space}", space))
    for tint in ("#6080a0", "#a08060"):        # casts as photos have them (|a|, |b| < 25): in gamut
        out = np.asarray(colorize(photo, model, tint=tint))
        assert np.array(mean_ab(out)) == pytest.approx(np.array(colour_to_ab(tint)), abs=1.5), (space, tint)
        lab_in, lab_out = _lab(np.asarray(photo)), _lab(out)        # the grey input has the photo's L*
        if space != "rgb":                      # LAB and HSV keep the photo's lightness; RGB predicts its own
            assert np.abs(lab_out[0] - lab_in[0]).mean() < 1.0


@pytest.mark.parametrize("space", ["lab", "hsv", "rgb"])
def test_prior_gate_leaves_automatic_output_alone_and_pulls_to_the_points(space, tmp_path, photo):
    from colorlab.checkpoints import CheckpointMeta, Colorizer
    from colorlab.colorspaces import get_space
    from train.trainer import init_weights
    sp = get_space(space)
    torch.manual_seed(0)
    kw = {"out_channels": sp.chroma_channels, "decoder": (16, 8, 8, 8, 8), "hint_channels": HINT_CHANNELS}
    stage1 = create_model("mobile_unet", **kw).eval()
    for p in stage1.parameters():
        p.data.normal_(0, 0.05)
    save_checkpoint(stage1, tmp_path / "s1", {"name": "s1", "space": space, "hints": True}, half=False)
    gated = create_model("mobile_unet", prior_gate=True, **kw)
    init_weights(gated, str(tmp_path / "s1.safetensors"))
    gated.eval()
    a, b = (Colorizer(n, sp, 64, 64, CheckpointMeta("m", space)) for n in (stage1, gated))
    np.testing.assert_array_equal(np.asarray(colorize(photo, a)), np.asarray(colorize(photo, b)))
    tint_only = make_hints(tint="#807060")
    np.testing.assert_array_equal(np.asarray(colorize(photo, a, hints=tint_only)),
                                  np.asarray(colorize(photo, b, hints=tint_only)))
    green = make_hints([(0.2, 0.3, "#40a050")])
    target = np.array(colour_to_ab("#40a050"))
    r, c = int(0.3 * photo.height), int(0.2 * photo.width)
    d1, d2 = (np.linalg.norm(_lab(np.asarray(colorize(photo, m, hints=green)))[1:, r, c] - target) for m in (a, b))
    assert d2 < 0.7 * d1, (d1, d2)            # at the start, half of the propagated colour at the point



def test_the_gate_reads_the_closeness_channel_at_the_hint_maps_scale():
    # The architecture takes the scale as a parameter (models/ does not import hints/);
    # its default must be the one the hint maps are made with, or the gate's reach is off.
    net = create_model("mobile_unet", out_channels=2, hint_channels=HINT_CHANNELS, prior_gate=True)
    assert net.spread_scale == SPREAD_SCALE


def test_uncapped_gate_reaches_far_from_the_points_and_only_with_points():
    torch.manual_seed(0)
    kw = {"out_channels": 2, "decoder": (16, 8, 8, 8, 8), "hint_channels": HINT_CHANNELS, "prior_gate": True}
    capped, free = (create_model("mobile_unet", gate_reach=r, **kw).eval() for r in (32.0, 0.0))
    free.load_state_dict(capped.state_dict())
    x = torch.rand(1, 1, 64, 64) * 2 - 1
    prior = torch.full((1, 2, 64, 64), 0.5)
    blend = lambda pred, pri, gate: pred + gate * (pri - pred)     # noqa: E731  (LAB's blend)
    with torch.no_grad():
        maps = hint_maps(make_hints([(0.05, 0.05, "#40a050")]), (64, 64))
        far = (slice(None), slice(None), slice(48, None), slice(48, None))
        gap = [(m(x, maps, prior, blend) - prior)[far].abs().mean() for m in (capped, free)]
        assert gap[1] < 0.5 * gap[0]          # far from the only point the free gate still blends
        none = hint_maps(make_hints(), (64, 64))
        assert torch.equal(free(x, none, prior, blend), free(x, none))   # no points: untouched

def test_tint_taken_from_a_colour_photo_is_its_mean_chroma():
    from colorlab.hints import tint_of
    y, x = np.mgrid[0:40, 0:60]
    warm = np.stack([150 + x, 110 + y, 80 + 0 * x], -1).astype(np.uint8)       # an orange-brown scene
    assert np.array(colour_to_ab(tint_of(warm, None))) == pytest.approx(np.array(mean_ab(warm)), abs=1.5)
    # by default its chroma is cut to a plausible cast, the hue kept
    from colorlab.hints.spec import MAX_TINT_CHROMA
    a, b = colour_to_ab(tint_of(warm))
    assert np.hypot(a, b) == pytest.approx(MAX_TINT_CHROMA, abs=1.5) and np.hypot(*mean_ab(warm)) > MAX_TINT_CHROMA + 2
    assert np.arctan2(b, a) == pytest.approx(np.arctan2(*mean_ab(warm)[::-1]), abs=0.05)


def test_the_point_free_pass_is_reused_and_changes_nothing(photo):
    from colorlab import pipeline
    model = _shipped("lab-general")
    hints = make_hints([(0.3, 0.3, "#3060c0"), (0.7, 0.6, "#c04020")])
    runs = []
    hook = model.net.register_forward_hook(lambda *_: runs.append(1))
    pipeline._RECENT.items.clear()
    fresh = np.asarray(colorize(photo, model, hints=hints))
    assert len(pipeline._RECENT.items) == 1 and len(runs) == 2       # with the points, and without
    again = np.asarray(colorize(photo, model, hints=make_hints([(0.3, 0.3, "#3060c0"), (0.7, 0.6, "#20c040")])))
    assert len(pipeline._RECENT.items) == 1                          # the same photo: one entry, reused
    assert len(runs) == 3, "the point-free pass ran again"
    hook.remove()
    other = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)         # same size, another photo: its own pass
    kept = np.asarray(colorize(other, model, hints=hints))
    pipeline._RECENT.items.clear()
    assert np.array_equal(kept, np.asarray(colorize(other, model, hints=hints)))
    assert np.array_equal(np.asarray(colorize(photo, model, hints=hints)), fresh)
    pipeline._RECENT.items.clear()
    colorize(photo, model)                                           # an automatic run fills it too
    assert np.array_equal(np.asarray(colorize(photo, model, hints=hints)), fresh)
    assert not np.array_equal(again, fresh)
    colorize(photo, model, hints=make_hints([(0.3, 0.3, "#3060c0")], tint="#a08060"))
    assert len(pipeline._RECENT.items) == 2                          # a tint is a different point-free pass


# ---------------------------------------------------------------- hint-aware pipeline (fast: tiny checkpoints)

def _grey_of(photo):
    return photo.convert("L").convert("RGB")


def _moved(out, base, limit=5.0):
    """Share of pixels whose a, b moved by more than ``limit`` between two outputs."""
    return float((np.linalg.norm(_lab(np.asarray(out))[1:] - _lab(np.asarray(base))[1:], axis=0) > limit).mean())


def test_a_point_pulls_its_colour_and_the_reach_sets_how_far_it_speaks(hint_weights_dir, photo):
    model = get_model("lab-faces", hint_weights_dir)
    grey = _grey_of(photo)
    base = colorize(grey, model)
    target = np.array(colour_to_ab("#40a050"))
    r, c = photo.height // 2, photo.width // 2
    outs = {reach: colorize(grey, model, hints=make_hints([(0.5, 0.5, "#40a050")], reach=reach))
            for reach in (0.1, 2.0)}
    gap = [np.linalg.norm(_lab(np.asarray(x))[1:, r, c] - target) for x in (base, outs[0.1])]
    assert gap[1] < 0.6 * gap[0], gap                    # the point's colour, where it was put
    near, wide = _moved(outs[0.1], base), _moved(outs[2.0], base)
    assert near < 0.5 and wide > near + 0.3, (near, wide)  # a short reach keeps it local


def test_the_calibrated_gain_is_applied_only_without_hints(hint_weights_dir, photo):
    import dataclasses
    model = get_model("lab-faces", hint_weights_dir)
    vivid = dataclasses.replace(model, chroma_gain=2.0)
    grey = _grey_of(photo)
    assert not np.array_equal(np.asarray(colorize(grey, model)), np.asarray(colorize(grey, vivid)))
    for hints in (make_hints([(0.3, 0.4, "#c04040")]), make_hints(tint="#a08060")):
        np.testing.assert_array_equal(np.asarray(colorize(grey, model, hints=hints)),
                                      np.asarray(colorize(grey, vivid, hints=hints)))
