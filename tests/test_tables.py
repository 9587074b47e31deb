"""What the Compare, Channels and Models tabs show, as data (fast, no server): the grey-input and
true-photo rows, the best per metric starred, whole model names; every training stage of a
checkpoint (``training_stages``, ``train.stages``, ``train.trainer.init_weights``); the metric
and verdict legends; the hue map's colour bar."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import make_checkpoint
from PIL import Image

from colorlab.checkpoints import CheckpointMeta, list_checkpoints, training_stages
from colorlab.metrics import colorfulness
from colorlab.serving import runs, tables, uploads
from colorlab.serving.huemap import hue_map_png


def result(name, seconds, psnr, ssim, de, cf):
    return runs.Result(name, "lab", "general", None, seconds,
                       {"psnr": psnr, "ssim": ssim, "ciede2000": de, "colorfulness": cf})


@pytest.fixture
def upload(photo):
    return uploads.read_upload(photo)


def test_compare_rows_add_the_grey_input_and_the_truth(upload):
    g = upload.grey_scores
    results = [result("lab-general", 0.5, g["psnr"] + 1, g["ssim"] - 0.01, g["ciede2000"] - 2, 20.0),
               result("hsv-general-pyramid", 0.2, g["psnr"] - 1, g["ssim"] + 0.01, g["ciede2000"] - 1, 5.0)]
    best = runs.best_per_metric(results, upload.reference)
    rows = tables.compare_rows(results, best, upload)
    assert [r[0] for r in rows] == ["lab-general", "hsv-general-pyramid", tables.GREY_ROW, tables.TRUTH_ROW]
    assert all(len(r) == len(tables.COMPARE_HEADERS) for r in rows)
    grey, truth = rows[2], rows[3]
    assert grey[1] == "" and grey[2] == f"{g['psnr']:.2f}" and grey[4] == f"{g['ciede2000']:.2f}" and grey[5] == "0.0"
    assert truth[:5] == [tables.TRUTH_ROW, "", "", "", ""]
    assert truth[5] == f"{colorfulness(upload.metric_reference):.1f}"
    # one star per column, on the best model, never on the grey or truth rows
    for col in range(1, len(tables.COMPARE_HEADERS)):
        assert sum(r[col].endswith("★") for r in rows) == 1
        assert not grey[col].endswith("★") and not truth[col].endswith("★")
    assert rows[0][2].endswith("★") and rows[1][1].endswith("★") and rows[1][3].endswith("★")
    assert tables.versus_grey(results, upload) == (
        "Against the grey input: 1 of 2 models have a higher PSNR, 1 a higher SSIM and 2 a lower CIEDE2000.")


def test_compare_rows_of_a_grey_upload_have_no_reference_rows(photo):
    grey = uploads.read_upload(photo.convert("L"))
    results = [runs.Result("lab-general", "lab", "general", None, 0.3)]
    rows = tables.compare_rows(results, runs.best_per_metric(results, None), grey)
    assert rows == [["lab-general", "0.30 ★", "", "", "", ""]]
    assert tables.versus_grey(results, grey) == ""


def test_captions_keep_the_model_name_whole_on_its_own_line():
    r = result("hsv-general-pyramid", 0.25, 23.1, 0.93, 11.0, 15.3)
    first, rest = tables.caption(r, {"psnr": "hsv-general-pyramid"}).split("\n")
    assert first == "hsv-general-pyramid" and "PSNR 23.10 ★" in rest and rest.count("★") == 1


def test_every_metric_has_an_arrow_and_a_line():
    for key, arrow in tables.ARROWS.items():
        assert tables.METRIC_HELP[key].split(" ")[1].startswith(arrow) or arrow in tables.METRIC_HELP[key]
    legend = tables.metric_legend()
    assert legend.count("\n") == len(tables.METRIC_HELP) - 1 and "lower is better" in legend
    assert all(a in " ".join(tables.MODEL_HEADERS) for a in ("PSNR ↑", "SSIM ↑", "CIEDE2000 ↓", "colourfulness ≈"))
    verdicts = tables.verdict_legend()
    for v in ("supported", "refuted", "no detectable difference"):
        assert f"**{v}**:" in verdicts


def meta(**fields) -> CheckpointMeta:
    return CheckpointMeta.from_json({"name": "lab-x", "space": "lab", **fields})


def test_training_stages_read_the_nested_records():
    first = {"command": "python -m train --config a.yaml", "epochs": 8, "best_epoch": 7, "seconds": 600.0}
    second = {"command": "python -m train --config b.yaml", "epochs": 4, "best_epoch": 4, "seconds": 300.0}
    m = meta(epochs=3, best_epoch=2, training={"seconds_total": 120.0},
             commands=[{"command": "python -m train --config c.yaml", "from_epoch": 0, "to_epoch": 3}],
             init={"file": "runs/b.safetensors", "command": "a && b", "stages": [first, second]})
    stages = training_stages(m)
    assert [s["epochs"] for s in stages] == [8, 4, 3] and stages[-1]["command"].endswith("c.yaml")
    assert tables.stage_totals(m) == ("15 (8+4+3)", 17.0)
    card = tables.model_card(m)
    assert "3 stages, 15 epochs in all, 17 min" in card
    assert "*Stage 1:* 8 epochs (best: 7) · 10 min · `python -m train --config a.yaml`" in card
    assert "*Stage 3:* 3 epochs (best: 2) · 2 min · this checkpoint's own run" in card
    # an older sidecar: the start's stages unknown, said so rather than guessed
    old = meta(epochs=2, best_epoch=1, command="a && b && c", init={"file": "x", "command": "a && b"},
               commands=[{"command": "c"}], training={"seconds_total": 60.0})
    assert tables.stage_totals(old) == ("? (?+2)", None)
    assert "epochs not recorded" in tables.model_card(old)
    single = meta(epochs=5, best_epoch=5, command="python -m train --config d.yaml")
    assert training_stages(single) == [{"command": "python -m train --config d.yaml", "epochs": 5,
                                        "best_epoch": 5, "seconds": None}]
    assert tables.stage_totals(single) == ("5", None)


def test_shipped_cards_show_every_stage():
    for m in list_checkpoints():
        stages = training_stages(m)
        n = len(stages)
        if "init" not in m.extra:
            continue
        # one stage per training run in the recorded command (a resumed run is one stage)
        assert n >= 2, m.name
        assert all(s.get("epochs") is not None or "not committed" in s.get("source", "") for s in stages), m.name
        assert f"{n} stages" in tables.model_card(m)


def test_fine_tune_records_its_start_stages(tmp_path):
    from colorlab.models import create_model
    from train.trainer import init_weights
    start = make_checkpoint(tmp_path, "lab-general", "lab")
    net = create_model("lab_resunet", out_channels=2, widths=(4, 8, 8))
    record = init_weights(net, str(tmp_path / "lab-general.safetensors"))
    assert record["stages"] == training_stages(start)
    assert record["stages"][0]["command"] == "tests/conftest.py (untrained)"


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def test_stages_are_recovered_from_the_sidecars_git_history(tmp_path, monkeypatch):
    import train.stages as stages_tool
    repo = tmp_path / "repo"
    (repo / "weights").mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@t")
    git(repo, "config", "user.name", "t")
    side = repo / "weights" / "lab-x.json"

    def commit(d):
        side.write_text(json.dumps(d, indent=2) + "\n")
        git(repo, "add", "weights/lab-x.json")
        git(repo, "commit", "-q", "-m", "x")

    commit({"name": "lab-x", "space": "lab", "epochs": 8, "best_epoch": 8, "sha256": "aaa", "command": "A",
            "commands": [{"command": "A"}], "training": {"seconds_total": 60.0}})
    commit({"name": "lab-x", "space": "lab", "epochs": 4, "best_epoch": 3, "sha256": "bbb", "command": "A && B",
            "commands": [{"command": "B"}], "training": {"seconds_total": 30.0},
            "init": {"file": "runs/a", "sha256": "aaa", "command": "A"}})
    # the last stage started from a stage (C) whose sidecar was never committed
    final = {"name": "lab-x", "space": "lab", "epochs": 2, "best_epoch": 2, "sha256": "ddd",
             "command": "A && B && C && D", "commands": [{"command": "D"}], "training": {"seconds_total": 12.0},
             "init": {"file": "runs/c", "sha256": "ccc", "command": "A && B && C"}}
    commit(final)
    monkeypatch.setattr(stages_tool, "ROOT", repo)
    stages_tool.main(["--weights", str(repo / "weights")])
    written = json.loads(side.read_text())
    assert list(written) == list(final)   # keys kept in their order: a small diff
    m = CheckpointMeta.from_json(written)
    got = training_stages(m)
    assert [(s["command"], s["epochs"]) for s in got] == [("A", 8), ("B", 4), ("C", None), ("D", 2)]
    assert "matched by command" in got[1]["source"] and "not committed" in got[2]["source"]
    assert "matched by sha256" in json.loads(side.read_text())["init"]["stages"][0]["source"]


def test_hue_map_has_the_photos_aspect_and_a_colour_bar(tmp_path):
    amap = np.zeros((90, 240), np.float32)
    amap[:, 120:] = 0.5
    path = hue_map_png(amap, tmp_path / "map.png", with_reference=True)
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    h, w, _ = img.shape
    map_h = round(w * 90 / 240)
    assert w == 800 and h > map_h + 40            # the map at 8:3, the bar's strip under it
    left, right = img[map_h // 2, w // 4], img[map_h // 2, 3 * w // 4]
    assert left.sum() < 30 and right.sum() > 500   # inferno: 0 black, 0.5 (the top) pale yellow
    bar = img[map_h + 5:]
    assert (np.abs(np.diff(bar, axis=1)).sum(-1) > 0).any(axis=1).sum() > 3   # a gradient strip, not blank
