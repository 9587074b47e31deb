"""python -m train.hints_curve on a tiny fixture: three hint-aware checkpoints, two val photos."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.checkpoints import save_checkpoint
from colorlab.hints import HINT_CHANNELS
from colorlab.models import create_model
from train import hints_curve


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("curve")
    weights, data = root / "weights", root / "data" / "faces" / "val"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        y, x = np.mgrid[0:48, 0:64]
        arr = np.stack([x * 3 + 40, y * 4 + 30, 200 - x * 2], -1) + rng.integers(0, 20, (48, 64, 3))
        Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(data / f"p{i}.png")
    torch.manual_seed(0)
    for space in ("lab", "hsv", "rgb"):
        net = create_model("mobile_unet", out_channels=3 if space == "rgb" else 2, decoder=(16, 8, 8, 8, 8),
                           hint_channels=HINT_CHANNELS, prior_gate=True).eval()
        save_checkpoint(net, weights / f"{space}-faces", {"name": f"{space}-faces", "space": space,
                                                          "category": "faces", "render_size": 64, "hints": True})
    return root, weights


def test_curve_table_and_figure(fixture, tmp_path):
    root, weights = fixture
    readme = tmp_path / "hints.md"
    readme.write_text("intro\n<!-- hints:start -->\nold\n<!-- hints:end -->\nrest\n")
    out, fig = tmp_path / "curve.json", tmp_path / "curve.png"
    assert hints_curve.main(["--categories", "faces", "--weights", str(weights), "--data", str(root / "data"),
                             "--auto", str(tmp_path / "none"), "--out", str(out), "--figure", str(fig),
                             "--page", str(readme)]) == 0
    data = json.loads(out.read_text())
    cat = data["faces"]
    assert cat["photos"] == ["p0.png", "p1.png"] and set(cat["models"]) == {"lab", "hsv", "rgb"}
    for space in ("lab", "hsv", "rgb"):
        assert set(cat["models"][space]) == {"sha256", "lone_spill", *hints_curve.SETTINGS}
        assert all(len(cat["models"][space][s]["psnr"]) == 2 for s in hints_curve.SETTINGS)
        assert all(0 <= v <= 1 for v in cat["models"][space]["lone_spill"])
    assert {"grey", "flat_tint", "propagation_p10", "guided_p10"} <= set(cat["baselines"])
    # more hints, better naive propagation (the references' own colours)
    assert np.mean(cat["baselines"]["propagation_p50"]["psnr"]) > np.mean(cat["baselines"]["propagation_p1"]["psnr"])
    text = readme.read_text()
    assert text.startswith("intro\n<!-- hints:start -->\n") and text.endswith("<!-- hints:end -->\nrest\n")
    assert "old" not in text and "| faces | 10 points |" in text and "| faces | tint only |" in text
    assert "**One point stays local**" in text
    assert Image.open(fig).size[0] > 300
    # --from-json rewrites the same table without scoring
    readme.write_text("<!-- hints:start -->\n<!-- hints:end -->\n")
    assert hints_curve.main(["--from-json", "--out", str(out), "--figure", str(fig), "--page", str(readme)]) == 0
    assert hints_curve.table(data) in readme.read_text()


def test_bars_compare_with_the_right_baselines():
    def entry(v):
        return {"psnr": [v, v], "ciede2000": [10.0, 10.0]}

    def scores(p0, p10, tint):     # each setting its own score, so a bar reading the wrong one shows
        return {s: entry({"p0": p0, "p10": p10, "tint": tint}.get(s, 20.0)) for s in hints_curve.SETTINGS}
    cat = {"category": "faces", "automatic": {"lab": {"p0": entry(25.0)}, "rgb": {"p0": entry(24.0)}},
           "models": {"lab": scores(24.9, 27.0, 27.4), "hsv": scores(24.7, 26.8, 27.2)},
           "baselines": {"flat_tint": entry(26.5), "propagation_p10": entry(26.4), "grey": entry(21.0)}}
    bars = {b["setting"]: b for b in hints_curve.bars(cat)}
    assert bars["tint alone"]["model"] == "lab" and bars["tint alone"]["psnr"] == pytest.approx(27.4)
    assert bars["tint alone"]["needed"] == pytest.approx(27.5)
    assert not bars["tint alone"]["holds"]                     # faces: 1 dB above the flat tint
    assert bars["10 points"]["psnr"] == pytest.approx(27.0) and bars["10 points"]["needed"] == pytest.approx(26.9)
    assert bars["10 points"]["holds"]                          # 0.5 dB above naive propagation
    assert bars["no hints"]["psnr"] == pytest.approx(24.9)     # 0.2 dB below the best automatic model
    assert bars["no hints"]["holds"] and bars["no hints"]["needed"] == pytest.approx(24.8)
    cat["category"] = "general"                                # elsewhere: the flat tint within 0.1 dB
    assert {b["setting"]: b for b in hints_curve.bars(cat)}["tint alone"]["holds"]
