"""The shipped product: every checkpoint in weights/ as it is, not the tiny fixtures of conftest.

* each checkpoint loads (its sha256 verified against the sidecar) and beats the grey input on
  CIEDE2000 over the example photos of its category (examples/CATEGORY);
* LAB and HSV keep the photo's lightness through gamut mapping at saturation 1.0 and 2.0;
* a fixed sample of each category's val photos re-scores close to the sidecar's full-val metrics;
* the generated results blocks are what `python -m train.report` writes from the current sidecars
  and scores; the hint curve and the benchmark are of the shipped weights.

All slow; CI runs them. They read weights/ and never write there.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints, load_checkpoint, sha256_file
from colorlab.colorspaces import grey_to_L, rgb_to_grey, rgb_to_lab
from colorlab.imaging import pil_to_tensor
from colorlab.metrics import ciede2000, grey_baseline, score
from colorlab.pipeline import colorize
from train.hints_curve import LOCALITY_TARGET

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [m.to_json() for m in list_checkpoints(WEIGHTS_DIR)]   # the sidecars as written
NAMES = [m["name"] for m in SHIPPED]
VAL_SAMPLE = 16          # val photos per checkpoint: every k-th of the sorted val set
Z = 4.0                  # tolerance in standard errors of the sample's mean (see test below)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SHIPPED, reason=f"no checkpoints in {WEIGHTS_DIR}")]


def _meta(name: str) -> dict:
    return next(m for m in SHIPPED if m["name"] == name)


def _examples(category: str) -> list[np.ndarray]:
    files = sorted((ROOT / "examples" / category).glob("*.jpg"))
    return [np.asarray(Image.open(f).convert("RGB")) for f in files]


@pytest.fixture(scope="module")
def models():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_checkpoint(WEIGHTS_DIR / _meta(name)["file"])
        return cache[name]
    return get


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_loads_verified_and_beats_grey_on_the_examples(name, models):
    meta = _meta(name)
    path = WEIGHTS_DIR / meta["file"]
    assert sha256_file(path) == meta["sha256"]            # load_checkpoint refuses otherwise
    model = models(name)
    photos = _examples(meta["category"])
    assert photos, f"no example photos in examples/{meta['category']}"
    ours = [ciede2000(np.asarray(colorize(Image.fromarray(p), model)), p) for p in photos]
    grey = [ciede2000(grey_baseline(p), p) for p in photos]
    assert np.mean(ours) < np.mean(grey), (
        f"{name}: CIEDE2000 {np.mean(ours):.2f} on examples/{meta['category']}, grey input {np.mean(grey):.2f}")


@pytest.mark.parametrize("saturation", [1.0, 2.0])
@pytest.mark.parametrize("name", [n for n in NAMES if _meta(n)["space"] in ("lab", "hsv")])
def test_lab_and_hsv_keep_the_photos_lightness_through_gamut_mapping(name, saturation, models):
    """Every pixel's L* out equals the grey input's L* within 0.5 (8-bit rounding alone moves
    it by up to ~0.25): out-of-gamut colours lose chroma, never lightness."""
    model = models(name)
    for photo in _examples(_meta(name)["category"]):
        img = Image.fromarray(photo)
        out = pil_to_tensor(colorize(img, model, saturation=saturation))
        lightness = grey_to_L(rgb_to_grey(pil_to_tensor(img)))
        err = (rgb_to_lab(out)[:, :1] - lightness).abs()
        assert err.max() < 0.5, f"{name} at saturation {saturation}: L* moved by up to {err.max():.2f}"


def _val_sample(meta: dict) -> list[np.ndarray]:
    val_dir = Path(meta["data"]["val_dir"])
    val_dir = val_dir if val_dir.is_absolute() else ROOT / val_dir
    files = sorted(p for p in val_dir.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        pytest.skip(f"val photos of {meta['name']} not here ({val_dir})")
    step = max(1, len(files) // VAL_SAMPLE)
    return [np.asarray(Image.open(f).convert("RGB")) for f in files[::step][:VAL_SAMPLE]], len(files)


@pytest.mark.parametrize("name", NAMES)
def test_val_sample_rescores_like_the_sidecar(name, models):
    """The sidecar's val metrics are means over the N val photos. The test re-scores a fixed
    sample of n of them and compares the mean of the per-photo *differences from grey*
    (model - grey input on the same photo) with the sidecar's (val - grey): pairing removes
    most of the photo-to-photo spread. The tolerance is Z standard errors of that sample mean,
    estimated from the sample itself, with the finite-population correction
    sqrt((N - n) / (N - 1)); a sidecar that does not describe these weights (other weights,
    another pipeline, a grey checkpoint) is many standard errors off."""
    meta = _meta(name)
    model = models(name)
    photos, n_total = _val_sample(meta)
    n = len(photos)
    diffs = {k: [] for k in ("psnr", "ciede2000", "ssim")}
    for p in photos:
        ours = score(np.asarray(colorize(Image.fromarray(p), model)), p)
        grey = score(grey_baseline(p), p)
        for k in diffs:
            diffs[k].append(ours[k] - grey[k])
    fpc = math.sqrt(max(0.0, (n_total - n) / max(1, n_total - 1)))
    for k, d in diffs.items():
        d = np.array(d)
        claimed = meta["val_metrics"][k] - meta["grey_metrics"][k]
        se = d.std(ddof=1) / math.sqrt(n) * fpc
        tol = Z * se + 1e-3
        assert abs(d.mean() - claimed) <= tol, (
            f"{name} {k}: model - grey on {n} of {n_total} val photos is {d.mean():+.3f}, the sidecar says "
            f"{claimed:+.3f} (tolerance {tol:.3f} = {Z:g} SE); rescore with `python -m train.calibrate {name}`")



@pytest.mark.parametrize("name", [m["name"] for m in SHIPPED if m.get("hints") and m["name"].count("-") == 1])
def test_one_point_stays_on_its_surface(name, models):
    """One point of a foreign colour at a random place (``train.hints_curve.lone_point``) moves
    the CIE a, b of at most LOCALITY_TARGET of the pixels by more than 10, averaged over the
    fixed val sample of each hint-aware matrix model (the hints curve reports the full val)."""
    from train.hints_curve import spill
    photos, _ = _val_sample(_meta(name))
    shares = [spill(models(name), p, 0) for p in photos]
    assert np.mean(shares) <= LOCALITY_TARGET, f"{name}: one point moved {np.mean(shares):.0%} of the pixels"


# ---------------------------------------------------------------- generated blocks, in full
# (tests/test_docblocks.py checks them fast; here the results are regenerated, intervals and all)

def _generated(tmp_path, monkeypatch) -> dict[str, str]:
    """What `python -m train.report` would write now into docs/results.md and the README (the
    example figure is not redrawn: only its link goes into the block)."""
    from colorlab.tools import docblocks
    from train import report
    (tmp_path / "docs").mkdir()
    results, readme = tmp_path / "docs" / "results.md", tmp_path / "README.md"
    results.write_text(docblocks.page("results").read_text())
    readme.write_text(docblocks.page("headline").read_text())
    (tmp_path / "docs" / "examples.png").write_bytes(b"")
    report.main(["--no-figure", "--results", str(results), "--readme", str(readme),
                 "--figure", str(tmp_path / "docs" / "examples.png")])
    return {"results": docblocks.blocks(results.read_text())["results"],
            "headline": docblocks.blocks(readme.read_text())["headline"]}


def test_results_blocks_are_what_the_report_writes_now(tmp_path, monkeypatch):
    from colorlab.tools import docblocks
    want = _generated(tmp_path, monkeypatch)
    for name, text in want.items():
        assert docblocks.blocks(docblocks.page(name).read_text())[name] == text, (
            f"the {name} block is not what the current sidecars and scores give: rerun `python -m train.report`")


def test_hints_curve_scored_the_shipped_weights():
    import json
    data = json.loads((ROOT / "docs" / "hints_curve.json").read_text())
    for cat in data.values():
        for space, entry in cat["models"].items():
            meta = next(m for m in SHIPPED if m["name"] == f"{space}-{cat['category']}")
            assert entry["sha256"] == meta["sha256"], (
                f"docs/hints_curve.json scored another {meta['name']}: rerun `python -m train.hints_curve`")


def test_bench_rows_are_the_shipped_models():
    """Timings cannot be regenerated here, but the models they describe can be checked."""
    import json
    data = json.loads((ROOT / "bench" / "results.json").read_text())
    rows = {r["model"]: (r["space"], r["architecture"]) for r in data["latency"] or []}
    want = {m["name"]: (m["space"], m["architecture"]) for m in SHIPPED}
    assert rows == want, (f"bench/results.json measured {sorted(rows)}, weights/ has {sorted(want)}: "
                          "rerun `python -m bench.run`")
