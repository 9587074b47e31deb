"""``python -m colorlab``: end to end through subprocesses, the details in-process."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorlab.cli import count_params, main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, env=None):
    # One thread: the commands are tiny, and thread start-up dominates on a busy machine.
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "colorlab", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@pytest.fixture
def inputs(tmp_path, photo):
    good = tmp_path / "in" / "good.jpg"
    good.parent.mkdir()
    photo.resize((37, 23)).save(good)
    corrupt = tmp_path / "in" / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    return good, tmp_path / "in" / "missing.png", corrupt


@pytest.fixture
def folder(tmp_path, photo):
    """A small data set: two images in nested folders and a non-image file."""
    (tmp_path / "data" / "sub").mkdir(parents=True)
    photo.save(tmp_path / "data" / "a.png")
    photo.resize((40, 30)).save(tmp_path / "data" / "sub" / "b.jpg", quality=95)
    (tmp_path / "data" / "readme.txt").write_text("not scored")
    return tmp_path / "data"


def test_colorize_subprocess(weights_dir, inputs, tmp_path):
    good, missing, corrupt = inputs
    out = tmp_path / "out"
    res = run_cli("colorize", "--weights-dir", weights_dir, "--model", "lab-general", "--out", out,
                  good, missing, corrupt)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    errors = error_lines(res.stderr)
    assert errors == [f"error: {missing}: no such file",
                      f"error: {corrupt}: not a readable image (unknown format or corrupt header)"]
    assert sorted(p.name for p in out.iterdir()) == ["good.png"]
    with Image.open(out / "good.png") as img:
        assert img.size == (37, 23) and img.mode == "RGB"


def test_models_json_subprocess(weights_dir):
    # the environment's weights folder, as a fresh process reads it (the other commands: in-process)
    res = run_cli("models", "--json", env={"COLORLAB_WEIGHTS": str(weights_dir)})
    assert res.returncode == 0, res.stderr
    assert [r["name"] for r in json.loads(res.stdout)] == ["hsv-general", "lab-general", "rgb-general"]


def test_models_json(weights_dir, capsys):
    assert main(["models", "--json", "--weights-dir", str(weights_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["hsv-general", "lab-general", "rgb-general"]
    lab = rows[1]
    assert lab["space"] == "lab" and lab["category"] == "general" and lab["architecture"] == "lab_resunet"
    assert lab["params"] == count_params(weights_dir / "lab-general.safetensors") > 0
    assert lab["size_bytes"] == (weights_dir / "lab-general.safetensors").stat().st_size
    assert {"val_metrics", "grey_metrics", "render_size", "train_size"} <= set(lab)


def test_evaluate_json(weights_dir, folder, capsys):
    # in-process: a subprocess's interpreter start-up cost more than the command (test_colorize_subprocess
    # and test_models_json_subprocess cover the entry point)
    assert main(["evaluate", "--weights-dir", str(weights_dir), "--model", "hsv-general", "--data", str(folder),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "hsv-general" and report["n"] == 2 and report["errors"] == []
    for key in ("psnr", "ssim", "ciede2000", "colorfulness", "dcf"):
        assert np.isfinite(report["scores"][key]) and np.isfinite(report["grey"][key])
    assert report["grey"]["colorfulness"] == 0.0
    assert report["grey"]["dcf"] == pytest.approx(report["scores"]["truth_colorfulness"])


# In-process: the same code without the interpreter start-up.

def test_count_params_skips_batchnorm_statistics(weights_dir):
    from colorlab.checkpoints import load_checkpoint
    net = load_checkpoint(weights_dir / "rgb-general.safetensors").net
    assert count_params(weights_dir / "rgb-general.safetensors") == sum(p.numel() for p in net.parameters())
    assert count_params(weights_dir / "missing.safetensors") is None


def test_colorize_options(weights_dir, inputs, tmp_path, capsys):
    good = inputs[0]
    out = tmp_path / "o"
    assert main(["colorize", "--weights-dir", str(weights_dir), "--model", "rgb-general", "--out", str(out),
                 "--render-size", "64", "--saturation", "0", str(good)]) == 0
    arr = np.asarray(Image.open(out / "good.png")).astype(int)
    assert arr.shape == (23, 37, 3) and np.abs(arr - arr[..., :1]).max() <= 1   # saturation 0: grey
    assert capsys.readouterr().err == ""


def test_colorize_same_stem_is_an_error_not_an_overwrite(weights_dir, inputs, tmp_path, capsys):
    good = inputs[0]
    twin = good.with_suffix(".png")
    Image.open(good).save(twin)
    assert main(["colorize", "--weights-dir", str(weights_dir), "--model", "lab-general",
                 "--out", str(tmp_path / "o"), str(good), str(twin)]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"error: {twin}: output {tmp_path / 'o' / 'good.png'} was already written for {good}"]


@pytest.mark.parametrize("args, message", [
    (["colorize", "--model", "nope", "--out", "o", "x.png"], "error: nope: no checkpoint named 'nope'"),
    (["evaluate", "--model", "lab-general", "--data", "/nonexistent/dir"], "error: /nonexistent/dir: no such folder"),
])
def test_unusable_model_or_folder_exit_2(weights_dir, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(args + ["--weights-dir", str(weights_dir)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and len(err.splitlines()) == 1


@pytest.mark.parametrize("bad", [["--saturation", "5"], ["--saturation", "x"], ["--render-size", "0"]])
def test_bad_option_values(weights_dir, bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["colorize", "--weights-dir", str(weights_dir), "--model", "lab-general", "--out", "o", *bad, "x.png"])
    assert exit_info.value.code == 2
    assert bad[0] in capsys.readouterr().err


def test_evaluate_table_limit_and_unreadable(weights_dir, folder, capsys):
    (folder / "broken.jpg").write_bytes(b"nope")
    code = main(["evaluate", "--weights-dir", str(weights_dir), "--model", "lab-general", "--data", str(folder),
                 "--render-size", "32"])
    captured = capsys.readouterr()
    assert code == 1   # one file could not be read; the rest are still scored
    assert error_lines(captured.err) == [f"error: {folder / 'broken.jpg'}: "
                                         "not a readable image (unknown format or corrupt header)"]
    lines = captured.out.splitlines()
    assert lines[0] == f"lab-general on 2 images from {folder} (render size 32; no hints, seed 0)"
    assert lines[1].split() == ["metric", "model", "grey", "flat_tint", "better"]   # the baselines beside the model
    assert [line.split()[0] for line in lines[2:7]] == ["psnr", "ssim", "ciede2000", "colorfulness", "dcf"]
    assert main(["evaluate", "--weights-dir", str(weights_dir), "--model", "lab-general", "--data", str(folder),
                 "--limit", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 1


def test_models_table(weights_dir, tmp_path, capsys):
    assert main(["models", "--weights-dir", str(weights_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["name", "space", "category", "architecture"]
    assert [line.split()[0] for line in out[1:4]] == ["hsv-general", "lab-general", "rgb-general"]
    assert main(["models", "--weights-dir", str(tmp_path)]) == 0
    assert "no checkpoints" in capsys.readouterr().out
