"""train.calibrate: the chroma gain is chosen on training images by its rule, stored in the
sidecar and applied by colorlab at saturation 1.0."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from colorlab import load_checkpoint
from colorlab.checkpoints import Colorizer
from colorlab.colorspaces import AB_SCALE, get_space, lab_to_rgb
from colorlab.imaging import tensor_to_array
from colorlab.pipeline import colorize
from tests.conftest import make_checkpoint
from train import calibrate

A, B = 40.0, -30.0     # the photos' colour: ab = (A, B) * (L - 55) / 25


def ramp_photo(seed: int) -> np.ndarray:
    """A 48x64 photo whose colour is a fixed function of its lightness."""
    rng = np.random.default_rng(seed)
    L = torch.from_numpy(rng.uniform(30, 80, (1, 1, 6, 8))).float()
    L = nn.functional.interpolate(L, size=(48, 64), mode="bilinear", align_corners=False)
    ab = torch.cat([A * (L - 55) / 25, B * (L - 55) / 25], 1)
    return tensor_to_array(lab_to_rgb(torch.cat([L, ab], 1)).clamp(0, 1))


class MutedOracle(nn.Module):
    """Knows the photos' colour rule but predicts only ``fraction`` of its chroma."""
    size_multiple = 1

    def __init__(self, fraction: float):
        super().__init__()
        self.fraction = fraction

    def forward(self, x):              # x = L / 50 - 1
        L = (x + 1) * 50
        return torch.cat([A * (L - 55) / 25, B * (L - 55) / 25], 1) * self.fraction / AB_SCALE


@pytest.fixture(scope="module")
def photos():
    return [ramp_photo(s) for s in range(4)]


def oracle(fraction):
    return Colorizer(MutedOracle(fraction), get_space("lab"), 48, None)


def test_a_half_chroma_model_gets_a_gain_of_about_two(photos):
    gain, table = calibrate.choose_gain(oracle(0.5), photos, step=0.1)
    assert 1.9 <= gain <= 2.0
    gains = [r["gain"] for r in table]
    assert gains[0] == 0.9 and gains[-1] > gain         # tried 0.9 (worse), walked up, stopped past the rule
    assert table[0]["colorfulness"] < table[-1]["colorfulness"]


def test_a_model_as_colourful_as_the_truth_keeps_gain_one(photos):
    gain, table = calibrate.choose_gain(oracle(1.0), photos)
    assert gain == 1.0 and [r["gain"] for r in table] == [0.95, 1.0, 1.05]


def test_the_ciede_limit_stops_the_gain(photos):
    # the oracle's hue is right, so colour only helps until it overshoots: with a 0 % rise allowed the
    # gain stops where CIEDE2000 stops falling, which for a 0.8 model is at or below 1.25
    gain, _ = calibrate.choose_gain(oracle(0.8), photos, step=0.1, max_ciede_rise=0.0)
    assert 1.1 <= gain <= 1.3


def test_a_model_with_wrong_colours_gets_less_of_them(photos):
    # the oracle's colours point the opposite way: every bit of chroma costs CIEDE2000, so the
    # accuracy step walks down to the grid's floor and the 5% allowance lifts it a little
    gain, table = calibrate.choose_gain(oracle(-0.5), photos, step=0.1)
    assert calibrate.MIN_GAIN <= gain < 1.0
    ciede = {r["gain"]: r["ciede2000"] for r in table}
    assert ciede[calibrate.MIN_GAIN] < ciede[1.0]



def test_the_gain_is_the_largest_whose_ciede_is_within_five_percent_of_the_best(photos):
    # the default rule (docs/training.md): from g0, the largest gain whose CIEDE2000 is at most
    # 5% above g0's; the next step up was tried and is over that line
    gain, table = calibrate.choose_gain(oracle(-0.2), photos, max_psnr_drop=99)     # g0: the grid's floor
    ciede = {r["gain"]: r["ciede2000"] for r in table}
    g0 = ciede[calibrate.MIN_GAIN]
    assert gain > calibrate.MIN_GAIN and ciede[gain] <= 1.05 * g0 < ciede[round(gain + 0.05, 3)]


def test_the_psnr_guard_stops_the_vividness_step(photos):
    # wrong colours: above g0 (the grid's floor) every step costs PSNR; a generous CIEDE2000
    # allowance alone would lift the gain, the guard keeps it where PSNR allows
    free, table = calibrate.choose_gain(oracle(-0.5), photos, step=0.1, max_ciede_rise=1.0, max_psnr_drop=99)
    guarded, _ = calibrate.choose_gain(oracle(-0.5), photos, step=0.1, max_ciede_rise=1.0, max_psnr_drop=0.05)
    psnr = {r["gain"]: r["psnr"] for r in table}
    assert guarded < free
    assert psnr[guarded] >= psnr[calibrate.MIN_GAIN] - 0.05 > psnr[round(guarded + 0.1, 3)]

def test_the_truths_colourfulness_caps_the_vividness_step(photos):
    # right hues at half strength, CIEDE2000 and PSNR allowances too loose to stop anything: the
    # gain stops at the last step whose colourfulness is not above the truth's (about 2), not at
    # the grid's top
    model = oracle(0.5)
    gain, table = calibrate.choose_gain(model, photos, step=0.1, max_ciede_rise=10.0, max_psnr_drop=99)
    truth = calibrate.score(model, photos, 1.0)["truth_colorfulness"]
    colourful = {r["gain"]: r["colorfulness"] for r in table}
    assert 1.8 <= gain < calibrate.MAX_GAIN
    assert colourful[gain] <= truth < colourful[round(gain + 0.1, 3)]


def test_calibrate_chooses_on_train_only_writes_the_sidecar_and_colorlab_applies_the_gain(
        tmp_path, photos, photo, monkeypatch):
    """Train photos follow the colour rule, val photos the opposite one (ab -> -ab). A model that
    knows the train rule at half strength gets a gain of about 2 from train; chosen on val, where
    its colours are all wrong, it would get less than 1."""
    opposite = [tensor_to_array(lab_to_rgb(_flip_ab(a))) for a in photos[:2]]
    for split, imgs in (("train", photos), ("val", opposite)):
        (tmp_path / split).mkdir()
        for i, a in enumerate(imgs):
            Image.fromarray(a).save(tmp_path / split / f"{i}.png")
    meta = make_checkpoint(tmp_path, "lab-test", "lab")
    meta.data = {"train_dir": str(tmp_path / "train"), "val_dir": str(tmp_path / "val")}
    (tmp_path / "lab-test.json").write_text(json.dumps(meta.to_json()))
    before = colorize(photo, load_checkpoint(tmp_path / "lab-test"))
    half = oracle(0.5)
    monkeypatch.setattr(calibrate, "load_checkpoint", lambda path: dataclasses.replace(half, meta=meta))
    assert calibrate.choose_gain(half, opposite)[0] < 1.0            # what calibrating on val would give

    calibrate.main(["lab-test", "--weights", str(tmp_path), "--images", "4", "--threads", "1"])

    side = json.loads((tmp_path / "lab-test.json").read_text())
    assert 1.9 <= side["chroma_gain"] <= 2.0, side["chroma_gain"]
    assert side["calibration"]["images"] == 4 and side["calibration"]["train_dir"] == str(tmp_path / "train")
    assert side["calibration"]["command"].startswith("python -m train.calibrate lab-test --images 4")
    val = [np.asarray(Image.open(tmp_path / "val" / f"{i}.png")) for i in range(2)]
    assert side["val_metrics"] == pytest.approx(calibrate.score(half, val, side["chroma_gain"]))
    assert side["val_metrics_uncalibrated"] == pytest.approx(calibrate.score(half, val, 1.0))
    assert side["val_metrics"]["ciede2000"] > side["val_metrics_uncalibrated"]["ciede2000"]   # val disagrees

    monkeypatch.undo()
    model = load_checkpoint(tmp_path / "lab-test")       # the sha256 still matches: only the sidecar changed
    assert model.chroma_gain == side["chroma_gain"]
    # the shipped default is the raw output times the gain
    raw = colorize(photo, model, saturation=1 / model.chroma_gain)
    assert np.abs(np.asarray(raw, int) - np.asarray(before, int)).max() <= 1


def _flip_ab(arr: np.ndarray) -> torch.Tensor:
    from colorlab.colorspaces import rgb_to_lab
    from colorlab.imaging import array_to_tensor
    lab = rgb_to_lab(array_to_tensor(arr))
    return torch.cat([lab[:, :1], -lab[:, 1:]], 1)
