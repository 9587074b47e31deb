"""Turing-test sessions (deterministic plans, identical preparation) and the app's
library side in colorlab.showcase."""
from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from colorlab import showcase, turing
from colorlab.checkpoints import list_checkpoints
from colorlab.ratings import COLORIZED, REAL, RatingStore

MODELS = [{"name": "lab-faces", "sha256": "a" * 64}, {"name": "hsv-general", "sha256": "b" * 64},
          {"name": "rgb-general", "sha256": "c" * 64}]


@pytest.fixture(scope="module")
def pool():
    return turing.example_pool()


def test_example_pool(pool):
    assert Counter(p.category for p in pool) == {"faces": 4, "landscapes": 4, "general": 4}
    assert [p.category for p in turing.example_pool(["faces"])] == ["faces"] * 4


def test_plan_is_deterministic_per_session(pool):
    a = turing.plan_session("abc", pool, MODELS, 20)
    assert a == turing.plan_session("abc", pool, MODELS, 20)
    assert a == turing.plan_session("other", pool, MODELS, 20, seed=turing.session_seed("abc"))
    assert a != turing.plan_session("abd", pool, MODELS, 20)


def test_plan_is_balanced_and_never_repeats_a_condition(pool):
    for sid in map(str, range(50)):
        items = turing.plan_session(sid, pool, MODELS, 20)
        assert len(items) == 20 and [i.index for i in items] == list(range(20))
        assert len({i.image_id for i in items}) == 20
        truths = Counter(i.truth for i in items)
        assert truths[REAL] == 10 and truths[COLORIZED] == 10
        per_model = Counter(i.model for i in items if i.truth == COLORIZED)
        assert max(per_model.values()) - min(per_model.values()) <= 1
        uses = Counter(i.photo.photo_id for i in items)
        assert max(uses.values()) - min(uses.values()) <= 1          # photos used evenly
        for i in items:
            assert (i.checkpoint_sha256 == "") == (i.truth == REAL)


def test_plan_caps_and_errors(pool):
    two = pool[:2]
    items = turing.plan_session("x", two, MODELS[:1], 50)
    assert len(items) == turing.max_images(2, 1) == 4
    assert Counter(i.truth for i in items) == {REAL: 2, COLORIZED: 2}
    odd = Counter(len([i for i in turing.plan_session(str(s), pool, MODELS, 5) if i.truth == REAL])
                  for s in range(40))
    assert set(odd) == {2, 3}
    with pytest.raises(ValueError, match="no photos"):
        turing.plan_session("x", [], MODELS, 5)
    with pytest.raises(ValueError, match="model"):
        turing.plan_session("x", pool, [], 5)


def test_real_and_colorized_are_prepared_identically(weights_dir, pool):
    metas = list_checkpoints(weights_dir)
    wide = next(p for p in pool if Image.open(p.path).size[0] != Image.open(p.path).size[1])
    real = turing.Item(0, wide, REAL, REAL)
    fake = turing.Item(1, wide, COLORIZED, metas[0]["name"], metas[0]["sha256"])
    a, b = turing.prepare(real, 128, weights_dir), turing.prepare(fake, 128, weights_dir)
    for img in (a, b):
        assert img.size == (128, 128) and img.mode == "RGB" and not img.info
        buf = io.BytesIO()
        img.save(buf, "PNG")
        assert not Image.open(io.BytesIO(buf.getvalue())).info
    # the colorization is of the very image shown as real: same luminance structure
    ga, gb = np.asarray(a.convert("L"), float), np.asarray(b.convert("L"), float)
    assert np.corrcoef(ga.ravel(), gb.ravel())[0, 1] > 0.95


def test_session_flow(weights_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("colorlab.checkpoints.WEIGHTS_DIR", weights_dir)
    metas = list_checkpoints(weights_dir)
    study = turing.Study(models=[m["name"] for m in metas], categories=["landscapes"], n_images=5, size=64)
    session = turing.Session.start(study, metas, study_id="7", session_id="rater-1")
    assert session.items == turing.plan_session("rater-1", turing.example_pool(["landscapes"]), metas, 5)
    store = RatingStore(tmp_path)
    while not session.done:
        img = session.serve()
        assert img.size == (64, 64)
        assert session.answer(REAL, store, "v1", score=3)
    with pytest.raises(ValueError, match="finished"):
        session.answer(REAL, store, "v1")
    s = session.summary()
    assert s["answered"] == 5 and s["correct"] == s["real_shown"] and s["fooled"] == s["colorized_shown"]
    rows = store.rows("rater-1")
    assert len(rows) == 5 and {r["study_id"] for r in rows} == {"7"} and all(r["response_ms"] >= 0 for r in rows)
    with pytest.raises(ValueError, match="not available"):
        turing.Session.start(turing.Study(models=["nope"]), metas)


# ---------------------------------------------------------------- showcase

def test_choose_checkpoint_prefers_exact_then_general():
    metas = [{"name": n, "space": n.split("-")[0], "category": n.split("-")[1]}
             for n in ("lab-faces", "lab-general", "hsv-landscapes", "rgb-general-unet")]
    assert showcase.choose_checkpoint("LAB", "faces", metas) == (metas[0], "")
    meta, note = showcase.choose_checkpoint("lab", "landscapes", metas)
    assert meta["name"] == "lab-general" and "lab-landscapes is not installed" in note
    assert showcase.choose_checkpoint("hsv", "faces", metas)[0]["name"] == "hsv-landscapes"
    assert showcase.choose_checkpoint("rgb", "faces", metas)[0]["name"] == "rgb-general-unet"
    with pytest.raises(LookupError, match="no HSV"):
        showcase.choose_checkpoint("hsv", "faces", metas[:2])


def test_read_upload_keeps_colour_as_reference(photo):
    up = showcase.read_upload(photo)
    assert up.reference is not None and up.grey_scores["colorfulness"] == 0
    grey = showcase.read_upload(photo.convert("L"))
    assert grey.reference is None and grey.grey_scores is None
    assert np.abs(grey.grey.astype(int) - grey.grey[..., :1]).max() == 0


def test_best_per_metric():
    ref = np.zeros((4, 4, 3), np.uint8)
    ref[..., 0] = 200     # colourful reference
    from colorlab.metrics import colorfulness
    cf = colorfulness(ref)
    mk = lambda name, t, psnr, ssim, de, c: showcase.Result(   # noqa: E731
        name, "lab", "general", None, t, {"psnr": psnr, "ssim": ssim, "ciede2000": de, "colorfulness": c})
    results = [mk("a", 0.5, 20, 0.9, 10, cf + 30), mk("b", 0.1, 25, 0.8, 12, cf - 1), mk("c", 0.2, 22, 0.95, 8, 0)]
    best = showcase.best_per_metric(results, ref)
    assert best == {"seconds": "b", "psnr": "b", "ssim": "c", "ciede2000": "c", "colorfulness": "b"}
    assert showcase.best_per_metric(results, None) == {"seconds": "b"}
    assert showcase.caption(results[1], best).count("★") == 3
    rows = showcase.compare_rows(results, best)
    assert rows[2][-1] == "ssim, ciede2000" and len(rows[0]) == len(showcase.COMPARE_HEADERS)


def test_model_rows_and_card(weights_dir):
    metas = list_checkpoints(weights_dir)
    meta = dict(metas[0], val_metrics={"psnr": 24.0, "ssim": 0.9, "ciede2000": 9.0, "colorfulness": 30.0, "n": 5},
                grey_metrics={"psnr": 21.0, "ssim": 0.88, "ciede2000": 12.0},
                training={"seconds_total": 600.0, "history": []}, design="Design X (Someone 2020)")
    row = showcase.model_rows([meta])[0]
    assert len(row) == len(showcase.MODEL_HEADERS) and row[4] == 24.0 and row[5] == 21.0 and row[-1] == 10.0
    card = showcase.model_card(meta)
    assert "Design X (Someone 2020)" in card and "Licence" in card and meta["sha256"] in card
    assert "PSNR 24.00 dB (grey 21.00)" in card
    assert "UTKFace" in showcase.model_card(dict(meta, category="faces"))
    assert "Chroma gain" not in card
    calibrated = dict(meta, chroma_gain=1.2, calibration={"images": 100, "command": "python -m train.calibrate x"})
    assert "**Chroma gain:** 1.20, calibrated on 100 training images" in showcase.model_card(calibrated)
