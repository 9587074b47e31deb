"""train.report against a tmp weights/ of tiny untrained checkpoints whose sidecars carry
fake but well-formed metrics (this tests the report code, not the models)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_checkpoint
from PIL import Image

from colorlab.checkpoints import load_checkpoint
from colorlab.metrics import score
from colorlab.pipeline import colorize
from train import report

GREY = {"psnr": 20.0, "ssim": 0.80, "ciede2000": 10.0, "colorfulness": 0.0, "dcf": 40.0,
        "truth_colorfulness": 40.0, "n": 2}


def metrics(psnr, ciede, cf, ssim=0.85):
    return {"psnr": psnr, "ssim": ssim, "ciede2000": ciede, "colorfulness": cf, "dcf": abs(cf - 40.0),
            "truth_colorfulness": 40.0, "n": 2}


# faces: the bar holds (best lab-faces: +3 dB, CF -10%); general: lab-general is best but only
# +1 dB and half the truth's CF, hsv-general is worse than grey on PSNR, no rgb-general;
# landscapes: one checkpoint without metrics and without a val folder.
MODELS = {
    "lab-faces": ("lab", "faces", metrics(23.0, 6.0, 36.0)),
    "hsv-faces": ("hsv", "faces", metrics(21.0, 8.0, 30.0)),
    "rgb-faces": ("rgb", "faces", metrics(20.5, 9.0, 12.0)),
    "lab-general": ("lab", "general", metrics(21.0, 9.0, 20.0)),
    "hsv-general": ("hsv", "general", metrics(19.0, 9.5, 25.0)),
    "rgb-landscapes": ("rgb", "landscapes", None),
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    import skimage.data
    root = tmp_path_factory.mktemp("report")
    data, weights = root / "data", root / "weights"
    for cat, names in (("faces", ("astronaut", "chelsea")), ("general", ("coffee", "rocket"))):
        (data / cat / "val").mkdir(parents=True)
        for name in names:
            img = Image.fromarray(getattr(skimage.data, name)())
            img.thumbnail((48, 48))
            img.save(data / cat / "val" / f"{name}.png")
    weights.mkdir()
    for name, (space, cat, val) in MODELS.items():
        make_checkpoint(weights, name, space, cat)
        if val is None:
            continue
        side = weights / f"{name}.json"
        meta = json.loads(side.read_text())
        if name == "lab-faces":     # calibrated: gain 1.2 raised CF from 30 to 36
            meta.update(chroma_gain=1.2, val_metrics_uncalibrated=metrics(23.5, 5.8, 30.0))
        meta.update(val_metrics=val, grey_metrics=GREY, val_images=2,
                    data={"val_dir": str(data / cat / "val"), "train_dir": "x", "val_sha256": "0" * 64},
                    training={"seconds_per_epoch": 90.0, "seconds_total": 720.0, "images_per_s": 13.3})
        side.write_text(json.dumps(meta))
    return root, data, weights


def run(root, weights, *extra):
    scores = [] if "--scores" in extra else ["--scores", "none"]     # not the repository's docs/scores
    return report.main(["--weights-dir", str(weights), "--results", str(root / "docs" / "results.md"),
                        "--figure", str(root / "docs" / "examples.png"), "--readme", str(root / "README.md"),
                        "--examples", "2", *scores, *extra])


@pytest.mark.slow      # ~5 s on an idle 2-core machine (matplotlib figure of 20 panels)
def test_results_table_quality_bar_figure_and_readme(setup, capsys):
    root, _, weights = setup
    readme = root / "README.md"
    readme.write_text("# colorlab\n\nintro\n\n<!-- headline:start -->\nold table\n<!-- headline:end -->\n\nafter\n")
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "results.md").write_text(
        "# Results\n\nprose\n\n<!-- results:start -->\n<!-- results:end -->\n\nmore prose\n")
    assert run(root, weights) == 0
    assert run(root, weights, "--strict") == 1            # the bar fails in general and landscapes
    out = capsys.readouterr().out
    assert "faces: quality bar holds" in out and "general: quality bar FAILS" in out

    md = (root / "docs" / "results.md").read_text()
    rows = {}     # first row per model: the results table (the calibration table comes later)
    for line in md.splitlines():
        if line.startswith("| "):
            rows.setdefault(line.split(" | ")[0].strip("| *★ "), line)  # noqa: B005  (strips a set of characters)
    assert set(MODELS) <= set(rows)
    lab = rows["lab-faces"]
    assert "**lab-faces** ★" in lab and "| faces | lab | lab_resunet | 1.20 |" in lab
    assert "23.00 (20.00)" in lab and "0.850 (0.800)" in lab and "6.00 (10.00)" in lab
    assert "36.0 (0.0)" in lab and "4.0 (40.0)" in lab                # CF and dCF next to grey's
    assert "| 90 | 12.0 min | 13.3 |" in lab                         # s/epoch, total, images/s
    assert "**lab-general** ★" in rows["lab-general"]
    assert "★" not in rows["hsv-faces"] + rows["rgb-faces"] + rows["hsv-general"] + rows["rgb-landscapes"]
    assert "| rgb-landscapes | landscapes | rgb | rgb_unet | 1.00 | — |" in rows["rgb-landscapes"]
    assert "| lab-faces | 1.20 | 23.50 → 23.00 | 5.80 → 6.00 | 30.0 → 36.0 (40.0) |" in md   # calibration
    assert "| hsv-faces | 1.00 | 21.00 → 21.00" not in md    # only calibrated models are listed

    bar = {r["category"]: r for r in report.quality_bar([m.to_json() for m in report.list_checkpoints(weights)])}
    assert list(bar) == ["faces", "landscapes", "general"]
    assert bar["faces"]["holds"] and bar["faces"]["best"] == "lab-faces"
    assert bar["faces"]["psnr_gain"] == pytest.approx(3.0) and bar["faces"]["cf_error"] == pytest.approx(-0.1)
    assert not bar["general"]["holds"] and bar["general"]["beat_grey"] == 1
    assert "| faces | 3 of 3 | lab-faces | +3.00 dB | 36.0 vs 40.0 (-10%) | holds |" in md
    assert "| general | 1 of 2 | lab-general | +1.00 dB | 20.0 vs 40.0 (-50%) | **fails** |" in md
    assert "not better than grey on CIEDE2000 and PSNR: hsv-general" in md
    assert "gains +1.00 dB PSNR over grey (needs +1.5)" in md and "-50% off the truth's 40.0" in md
    assert "no val metrics: rgb-landscapes" in md
    assert "holds in 1 of 3 categories" in md
    assert "](examples.png)" in md

    assert md.startswith("# Results\n\nprose\n\n<!-- results:start -->\n") and md.endswith(
        "<!-- results:end -->\n\nmore prose\n")                     # the page's prose stays
    text = readme.read_text()
    assert text.startswith("# colorlab\n\nintro\n\n<!-- headline:start -->\n") and text.endswith(
        "<!-- headline:end -->\n\nafter\n")
    assert "old table" not in text and "★" not in text                # the headline, not the full table
    assert "| faces | 2 | lab-faces | 23.00 (20.00) | 6.00 (10.00) | 36.0 (40.0) | holds |" in text
    assert "| general | 2 | lab-general |" in text and "| **fails** |" in text

    # 2 val images x 2 categories with a val folder (landscapes has none); 5 columns
    with Image.open(root / "docs" / "examples.png") as fig:
        assert fig.format == "PNG" and fig.size == (1050, 920)


def test_readme_without_markers_is_left_alone(setup, capsys):
    root, _, weights = setup
    readme = root / "README.md"
    readme.write_text("# no markers here\n")
    figure = root / "docs" / "examples.png"
    figure.unlink(missing_ok=True)
    assert run(root, weights, "--no-figure") == 0
    assert readme.read_text() == "# no markers here\n"
    assert "no <!-- headline:start -->" in capsys.readouterr().err
    assert "examples.png" not in (root / "docs" / "results.md").read_text()
    figure.write_bytes(b"")          # --no-figure does not redraw, but links a figure that is there
    assert run(root, weights, "--no-figure") == 0
    assert "](examples.png)" in (root / "docs" / "results.md").read_text() and figure.read_bytes() == b""


def test_recompute_scores_through_the_pipeline(setup, capsys):
    root, data, weights = setup
    assert run(root, weights, "--no-figure", "--recompute", "--data", str(data)) == 0
    md = (root / "docs" / "results.md").read_text()
    assert "--recompute" in md
    # Independently of train.trainer.evaluate (which recompute calls): colorize each val file
    # through the public colorlab.colorize and average the per-image scores by hand.
    model = load_checkpoint(weights / "hsv-faces.safetensors")
    per_image = []
    for f in sorted((data / "faces" / "val").glob("*.png")):
        truth = np.asarray(Image.open(f).convert("RGB"))
        per_image.append(score(np.asarray(colorize(f, model)), truth))
    real = {k: float(np.mean([r[k] for r in per_image])) for k in ("psnr", "ssim", "ciede2000", "colorfulness")}
    grey = report.recompute([json.loads((weights / "hsv-faces.json").read_text())], weights, data)[0]
    for k, v in real.items():
        assert grey["val_metrics"][k] == pytest.approx(v, rel=1e-6, abs=1e-9), k
    assert grey["val_metrics"]["n"] == len(per_image) == 2
    assert grey["grey_metrics"]["colorfulness"] == pytest.approx(0, abs=1e-6)
    row = next(line for line in md.splitlines() if line.startswith("| hsv-faces"))
    assert f"{real['psnr']:.2f} ({grey['grey_metrics']['psnr']:.2f})" in row
    assert "21.00 (20.00)" not in row                                 # not the sidecar's fake numbers
    assert "rgb-landscapes: val folder" in capsys.readouterr().err    # no val set: sidecar kept


def test_quality_bar_thresholds_are_inclusive():
    def model(name, psnr, cf, ciede=5.0):
        return {"name": name, "category": "c", "space": "lab", "val_metrics": metrics(psnr, ciede, cf),
                "grey_metrics": GREY}
    assert report.quality_bar([model("a", 21.5, 32.0)])[0]["holds"]                 # +1.5 dB, -20%
    assert report.quality_bar([model("a", 21.5, 48.0)])[0]["holds"]                 # +20%
    assert not report.quality_bar([model("a", 21.49, 40.0)])[0]["holds"]
    assert not report.quality_bar([model("a", 25.0, 31.0)])[0]["holds"]
    # the best (lowest CIEDE2000) decides, but every model must beat grey
    row = report.quality_bar([model("a", 25.0, 40.0, 4.0), model("b", 20.5, 40.0, 10.5)])[0]
    assert row["best"] == "a" and not row["holds"] and row["beat_grey"] == 1


def test_replace_block():
    text = "a\n<!-- results:start -->\nx\n<!-- results:end -->\nb\n"
    assert report.replace_block(text, "NEW\n") == "a\n<!-- results:start -->\nNEW\n<!-- results:end -->\nb\n"
    assert report.replace_block("a\n<!-- results:end --> <!-- results:start -->", "N") is None
    assert report.replace_block("plain", "N") is None


def test_intervals_and_paired_differences_from_per_image_scores(setup, capsys):
    from train import scores as scores_mod
    from train import stats
    root, data, weights = setup
    out = root / "scores"
    assert scores_mod.main(["--weights-dir", str(weights), "--out", str(out)]) == 0
    assert run(root, weights, "--no-figure", "--scores", str(out)) == 0
    md = (root / "docs" / "results.md").read_text()
    assert "95% bootstrap intervals" in md
    per = json.loads((out / "hsv-faces.json").read_text())["sets"]["faces"]["variants"]["shipped"]["metrics"]
    psnr = stats.mean_ci(per["psnr"])
    row = next(line for line in md.splitlines() if line.startswith("| hsv-faces"))
    assert f"| {psnr.format('.2f')} (" in row                       # mean [low, high] (grey)
    assert "rgb-landscapes | landscapes | rgb | rgb_unet | 1.00 | — |" in md   # no scores: no interval
    grey = json.loads((out / "grey.json").read_text())["sets"]["faces"]["variants"]["grey"]["metrics"]
    diff = stats.paired_diff_ci(per["ciede2000"], grey["ciede2000"])
    line = next(x for x in md.splitlines() if x.startswith("| hsv-faces | faces | +") or
                x.startswith("| hsv-faces | faces | -"))
    assert diff.format(".2f", signed=True) in line                   # model - grey, paired
    assert "| faces | lab-faces - hsv-faces |" in md and "| faces | lab-faces - rgb-faces |" in md
    assert "| faces | lab-faces - lab-general |" in md               # category model - general, on faces
    assert "| general | lab-general - hsv-general |" in md
