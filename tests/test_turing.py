"""The app's library side in colorlab.serving (the Turing studies are tested in
tests/test_studies.py and tests/test_study_load.py)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from colorlab.checkpoints import CheckpointMeta, list_checkpoints
from colorlab.serving import runs, tables, uploads

# ---------------------------------------------------------------- serving

def test_choose_checkpoint_prefers_exact_then_general():
    metas = [CheckpointMeta(n, n.split("-")[0], n.split("-")[1])
             for n in ("lab-faces", "lab-general", "hsv-landscapes", "rgb-general-unet")]
    assert runs.choose_checkpoint("LAB", "faces", metas) == (metas[0], "")
    meta, note = runs.choose_checkpoint("lab", "landscapes", metas)
    assert meta.name == "lab-general" and "lab-landscapes is not installed" in note
    assert runs.choose_checkpoint("hsv", "faces", metas)[0].name == "hsv-landscapes"
    assert runs.choose_checkpoint("rgb", "faces", metas)[0].name == "rgb-general-unet"
    with pytest.raises(LookupError, match="no HSV"):
        runs.choose_checkpoint("hsv", "faces", metas[:2])


def test_read_upload_keeps_colour_as_reference(photo):
    up = uploads.read_upload(photo)
    assert up.reference is not None and up.grey_scores["colorfulness"] == 0
    grey = uploads.read_upload(photo.convert("L"))
    assert grey.reference is None and grey.grey_scores is None
    assert np.abs(grey.grey.astype(int) - grey.grey[..., :1]).max() == 0


def test_best_per_metric():
    ref = np.zeros((4, 4, 3), np.uint8)
    ref[..., 0] = 200     # colourful reference
    from colorlab.metrics import colorfulness
    cf = colorfulness(ref)
    mk = lambda name, t, psnr, ssim, de, c: runs.Result(   # noqa: E731
        name, "lab", "general", None, t, {"psnr": psnr, "ssim": ssim, "ciede2000": de, "colorfulness": c})
    results = [mk("a", 0.5, 20, 0.9, 10, cf + 30), mk("b", 0.1, 25, 0.8, 12, cf - 1), mk("c", 0.2, 22, 0.95, 8, 0)]
    best = runs.best_per_metric(results, ref)
    assert best == {"seconds": "b", "psnr": "b", "ssim": "c", "ciede2000": "c", "colorfulness": "b"}
    assert runs.best_per_metric(results, None) == {"seconds": "b"}
    assert tables.caption(results[1], best).count("★") == 3
    rows = tables.compare_rows(results, best)
    starred = [tables.COMPARE_HEADERS[i] for i, cell in enumerate(rows[2]) if cell.endswith("★")]
    assert starred == ["SSIM ↑", "ΔE00 ↓"] and len(rows[0]) == len(tables.COMPARE_HEADERS)


def test_model_rows_and_card(weights_dir):
    metas = list_checkpoints(weights_dir)
    meta = dataclasses.replace(
        metas[0], val_metrics={"psnr": 24.0, "ssim": 0.9, "ciede2000": 9.0, "colorfulness": 30.0, "n": 5},
        grey_metrics={"psnr": 21.0, "ssim": 0.88, "ciede2000": 12.0},
        training={"seconds_total": 600.0, "history": []}, design="Design X (Someone 2020)")
    row = tables.model_rows([meta])[0]
    assert len(row) == len(tables.MODEL_HEADERS) and row[4] == 24.0 and row[5] == 21.0 and row[-1] == 10.0
    card = tables.model_card(meta)
    assert "Design X (Someone 2020)" in card and "Licence" in card and meta.sha256 in card
    assert "PSNR 24.00 dB (grey 21.00)" in card
    assert "UTKFace" in tables.model_card(dataclasses.replace(meta, category="faces"))
    assert "Chroma gain" not in card
    calibrated = dataclasses.replace(meta, chroma_gain=1.2,
                                     calibration={"images": 100, "command": "python -m train.calibrate x"})
    assert "**Chroma gain:** 1.20, calibrated on 100 training images" in tables.model_card(calibrated)
