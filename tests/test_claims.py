"""train.claims, train.seeds, train.scores and the claims' control loss, on tiny fixtures:
synthetic per-image scores whose differences are known, tiny sidecars, tiny checkpoints."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import make_checkpoint
from PIL import Image

from colorlab import metrics
from colorlab.checkpoints import load_checkpoint
from colorlab.losses import get_loss, hsv_cyclic, hsv_l1hue, l1_vivid
from train import claims, scores, seeds
from train.data import load_folder
from train.trainer import evaluate

N = {"faces": 60, "landscapes": 40, "general": 50}
METRICS = scores.METRICS


def _files(cat):
    return [f"{cat}{i:03d}.jpg" for i in range(N[cat])]


def _base(cat, seed=0):
    rng = np.random.default_rng([seed, len(cat)])
    n = N[cat]
    return {"psnr": rng.normal(22, 2, n), "ssim": rng.uniform(0.85, 0.95, n), "ciede2000": rng.normal(11, 2, n),
            "colorfulness": rng.normal(20, 4, n), "hue_artifact": rng.uniform(0.05, 0.1, n),
            "hue_speckle": rng.uniform(0.001, 0.003, n)}


def _write(folder, name, space, cat_sets, gain=1.0):
    data = {"name": name, "space": space, "category": next(iter(cat_sets)), "chroma_gain": gain,
            "weights_sha256": "0" * 64, "takes_hints": False, "sets": {}}
    for cat, m in cat_sets.items():
        variants = {"shipped": {"gain": gain, "metrics": {k: list(map(float, v)) for k, v in m.items()}}}
        variants["raw"] = {"same_as": "shipped"}
        data["sets"][cat] = {"val_dir": f"data/{cat}/val", "val_sha256": "1" * 64, "files": _files(cat),
                             "variants": variants}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data))


def _shift(m, noise_seed, **shifts):
    rng = np.random.default_rng(noise_seed)
    return {k: v + shifts.get(k, 0.0) + rng.normal(0, 0.2 if k in ("psnr", "ciede2000", "colorfulness") else 0.0,
                                                    v.size) for k, v in m.items()}


@pytest.fixture
def fixture(tmp_path):
    """Scores where: HSV is 5 more colourful than LAB (claim 1 supported); LAB's CIEDE2000 is
    0.1 below HSV's and RGB's (interval excludes 0 but the seed SD is 0.5: no detectable
    difference); category models 1.0 better than general (claim 4 supported); the pyramid's
    plain-L1 control was not run; lambda 0.25 raises colourfulness but also CIEDE2000 (refuted)."""
    main, extra = tmp_path / "scores", tmp_path / "scores" / "claims"
    grey = {"name": "grey", "sets": {}}
    for cat in N:
        b = _base(cat)
        grey["sets"][cat] = {"val_dir": f"data/{cat}/val", "val_sha256": "1" * 64, "files": _files(cat),
                             "truth_colorfulness": list(map(float, b["colorfulness"] + 20)),
                             "variants": {"grey": {"metrics": {k: list(map(float, v - (1 if k == "psnr" else 0)))
                                                               for k, v in b.items()}}}}
    main.mkdir(parents=True)
    (main / "grey.json").write_text(json.dumps(grey))
    for cat in N:
        b = _base(cat)
        offset = 0.0 if cat == "general" else -1.0      # category models: CIEDE2000 1.0 lower than general's
        _write(main, f"lab-{cat}", "lab", {cat: _shift(b, 1, ciede2000=offset)})
        _write(main, f"hsv-{cat}", "hsv", {cat: _shift(b, 2, ciede2000=offset + 0.1, colorfulness=5)})
        _write(main, f"rgb-{cat}", "rgb", {cat: _shift(b, 3, ciede2000=offset + 0.1)})
    for s, i in (("lab", 1), ("hsv", 2), ("rgb", 3)):       # the general models on every val set
        sets = {c: _shift(_base(c), i, ciede2000=0.1 if s != "lab" else 0.0, colorfulness=5 if s == "hsv" else 0)
                for c in N}
        sets = {"general": sets["general"], "faces": sets["faces"], "landscapes": sets["landscapes"]}
        _write(main, f"{s}-general", s, sets)
    g = _base("general")
    for i, d in enumerate(("lab-general-cunet", "lab-general-resunet", "hsv-general-pyramid", "hsv-general-unet4")):
        _write(main, d, d[:3], {"general": _shift(g, 10 + i)})
    _write(main, "rgb-general-unet", "rgb", {"general": _shift(g, 20, ciede2000=2.0)})     # clearly the weakest
    _write(extra, "hsv-general-unet4-lambda0", "hsv", {"general": _shift(g, 30)})
    _write(extra, "hsv-general-unet4-lambda0.25", "hsv", {"general": _shift(g, 31, colorfulness=6, ciede2000=2)})
    seed_file = tmp_path / "seeds.json"
    sd = {"psnr": 0.3, "ciede2000": 0.5, "colorfulness": 1.0}
    seed_file.write_text(json.dumps({"groups": {"faces": {s: {"stats": {k: {"sd": v} for k, v in sd.items()}}
                                                           for s in ("lab", "hsv", "rgb")}}}))
    return tmp_path, main, extra, seed_file


def table_rows(md):
    """Rows of the first markdown table (header, separator, body)."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| # | claim"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_claims_table_on_a_fixture(fixture, capsys):
    root, main, extra, seed_file = fixture
    out = root / "docs" / "claims.md"
    assert claims.main(["--out", str(out), "--scores", str(main), "--extra", str(extra), "--seeds", str(seed_file),
                        "--json", str(root / "claims.json")]) == 0
    md = out.read_text()
    rows = table_rows(md)
    head = rows[0].count("|")
    assert rows[1] == "|---|---|---|---|---|---|" and all(r.count("|") == head for r in rows)
    keys = [r.split("|")[1].strip() for r in rows[2:]]
    assert keys == ["1", "2", "3", "4", "5", "6", "6b", "H", "S"]
    verdict = {e["key"]: e["verdict"] for e in json.loads((root / "claims.json").read_text())}
    assert verdict["1"] == "supported"                       # +5 colourfulness, seed SD 1.0
    assert verdict["2"] == "no detectable difference"        # 0.1 CIEDE2000: excludes 0, below the seed spread
    assert verdict["3"] == "no detectable difference"        # the RGB U-Net is worst, but matrix RGB only by 0.1
    assert verdict["4"] == "supported"
    assert verdict["5"] == "not run"                         # no hsv-general-pyramid-l1hue scores
    assert verdict["6"] == "refuted"                         # lambda 1.15 not run: the recorded collapse
    assert verdict["6b"] == "refuted"                        # more colourful, but CIEDE2000 +2
    assert "not run" in verdict["H"]                         # no hint scores
    row5 = next(r for r in rows if r.startswith("| 5 |"))
    assert "not run (missing hsv-general-pyramid-l1hue)" in row5
    row6 = next(r for r in rows if r.startswith("| 6 |"))
    assert "recorded run" in row6 and "PSNR 12.4 dB" in row6
    row1 = next(r for r in rows if r.startswith("| 1 |"))
    est = float(row1.split("colourfulness: ")[1].split(" [")[0])
    assert est == pytest.approx(5.0, abs=0.3)
    assert "## Every comparison" in md and "| 2 | LAB - HSV | CIEDE2000 | effect | faces |" in md
    assert "claim 5: not run" in capsys.readouterr().out


def test_claims_without_any_scores_or_seeds(tmp_path, capsys):
    out = tmp_path / "claims.md"
    assert claims.main(["--out", str(out), "--scores", str(tmp_path / "none"), "--extra",
                        "--seeds", str(tmp_path / "none.json"), "--suggestions", str(tmp_path / "none.json")]) == 0
    rows = table_rows(out.read_text())
    assert len(rows) == 2 + 9 and all("not run" in r or "refuted" in r for r in rows[2:])
    assert "run python -m train.scores first" in capsys.readouterr().err


def test_seed_rule_decides():
    iv = claims.Interval(0.1, 0.05, 0.15, 100)
    assert claims.verdict(iv, +1, None) == "supported"
    assert claims.verdict(iv, -1, None) == "refuted"
    assert claims.verdict(iv, +1, 0.2) == "no detectable difference"       # smaller than the seed spread
    assert claims.verdict(claims.Interval(0.1, -0.01, 0.2, 100), +1, None) == "no detectable difference"


# ---------------------------------------------------------------- seeds

def _sidecar(path, name, space, seed, psnr, gain=None):
    meta = {"name": name, "space": space, "category": "faces", "config": {"seed": seed}, "epochs": 8,
            "val_metrics": {"psnr": psnr + (5 if gain else 0), "ciede2000": 9.0 + seed, "colorfulness": 30.0,
                            "ssim": 0.9, "dcf": 10.0}}
    if gain:
        meta["chroma_gain"] = gain
        meta["val_metrics_uncalibrated"] = dict(meta["val_metrics"], psnr=psnr)
    path.write_text(json.dumps(meta))
    return path


def test_seed_spread_from_sidecars_and_folders(tmp_path, capsys):
    shipped = _sidecar(tmp_path / "lab-faces.json", "lab-faces", "lab", 0, 25.0, gain=1.2)
    runs = tmp_path / "runs"
    runs.mkdir()
    _sidecar(runs / "lab-faces-seed1.json", "lab-faces-seed1", "lab", 1, 25.4)
    _sidecar(runs / "lab-faces-seed2.json", "lab-faces-seed2", "lab", 2, 24.9)
    _sidecar(runs / "hsv-faces-seed1.json", "hsv-faces-seed1", "hsv", 1, 24.0)
    _sidecar(runs / "zz-again.json", "lab-faces-again", "lab", 2, 30.0)             # seed 2 again: left out
    (runs / "notes.json").write_text("{}")                                    # not a sidecar: ignored
    out = tmp_path / "seeds.json"
    assert seeds.main([str(shipped), str(runs), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    lab = data["groups"]["faces"]["lab"]
    assert [r["seed"] for r in lab["runs"]] == [0, 1, 2]
    psnr = lab["stats"]["psnr"]                  # raw footing: the shipped run's uncalibrated 25.0
    assert psnr["mean"] == pytest.approx(np.mean([25.0, 25.4, 24.9]))
    assert psnr["sd"] == pytest.approx(np.std([25.0, 25.4, 24.9], ddof=1))
    assert psnr["range"] == pytest.approx(0.5) and psnr["n"] == 3
    assert data["groups"]["faces"]["hsv"]["stats"]["psnr"]["sd"] is None       # one run: no SD
    assert seeds.space_sd(data, "lab", "psnr", "general") == pytest.approx(psnr["sd"])   # faces as the proxy
    assert seeds.space_sd(data, "hsv", "psnr") is None
    assert "zz-again.json: lab-faces seed 2 given twice" in capsys.readouterr().err
    run_dir = tmp_path / "runs" / "lab-faces-seed3"
    run_dir.mkdir()
    (run_dir / "log.csv").write_text("epoch\n1\n")
    with pytest.raises(SystemExit, match="export_dir=runs/seeds"):
        seeds.main([str(run_dir), "--out", str(out)])


def test_seed_spread_prefers_per_image_scores(tmp_path, capsys):
    for seed, psnr in ((1, 25.4), (2, 24.9)):
        _sidecar(tmp_path / f"lab-faces-seed{seed}.json", f"lab-faces-seed{seed}", "lab", seed, psnr)
    n = N["faces"]
    grey = {"name": "grey", "sets": {"faces": {"files": _files("faces"), "truth_colorfulness": [40.0] * n,
                                               "variants": {"grey": {"metrics": {}}}}}}
    sc = tmp_path / "scores"
    sc.mkdir()
    (sc / "grey.json").write_text(json.dumps(grey))
    for seed, value in ((1, 26.0), (2, 27.0)):
        m = {k: np.full(n, value if k == "psnr" else 0.07) for k in METRICS}
        _write(sc, f"lab-faces-seed{seed}", "lab", {"faces": m})
    out = tmp_path / "seeds.json"
    assert seeds.main([str(tmp_path / "lab-faces-seed1.json"), str(tmp_path / "lab-faces-seed2.json"),
                       "--scores", str(sc), "--out", str(out)]) == 0
    lab = json.loads(out.read_text())["groups"]["faces"]["lab"]
    assert [r["source"] for r in lab["runs"]] == ["per-image scores"] * 2
    assert lab["stats"]["psnr"]["mean"] == pytest.approx(26.5)              # not the sidecars' 25.15
    assert lab["stats"]["hue_artifact"]["sd"] == pytest.approx(0.0)
    assert lab["stats"]["dcf"]["mean"] == pytest.approx(40.0 - 0.07)


# ---------------------------------------------------------------- the control loss of claim 5, lambda of claim 6

def test_plain_l1_hue_loss_differs_from_cyclic_only_across_the_wrap():
    def net(h, s):      # HSV network range: channel 0 = 2h - 1, channel 1 = 2s - 1
        return torch.tensor([[[[2 * h - 1]], [[2 * s - 1]]]])
    grey = torch.full((1, 1, 1, 1), 0.5)
    near = net(0.30, 0.8), net(0.40, 0.8)        # 0.1 turn apart, no wrap: both losses agree
    assert hsv_l1hue(*near, grey).item() == pytest.approx(hsv_cyclic(*near, grey).item()) == pytest.approx(0.2)
    wrap = net(0.05, 0.8), net(0.95, 0.8)        # 0.1 turn apart across red
    assert hsv_cyclic(*wrap, grey).item() == pytest.approx(0.2)
    assert hsv_l1hue(*wrap, grey).item() == pytest.approx(1.8)
    assert get_loss("hsv_l1hue@0.5")(*wrap, grey).item() == pytest.approx(0.9)


def test_loss_weight_syntax():
    torch.manual_seed(0)
    p, t, g = torch.rand(2, 2, 4, 4) * 2 - 1, torch.rand(2, 2, 4, 4) * 2 - 1, torch.rand(2, 1, 4, 4)
    assert get_loss("l1_vivid@0.25")(p, t, g).item() == pytest.approx(l1_vivid(p, t, g, lam=0.25).item())
    assert get_loss("l1_vivid@0")(p, t, g).item() == pytest.approx(get_loss("l1")(p, t, g).item())
    assert get_loss("l1_vivid")(p, t, g).item() == pytest.approx(l1_vivid(p, t, g).item())
    for bad in ("mse@0.5", "l1_vivid@x", "l1_vivid@-1"):
        with pytest.raises(ValueError):
            get_loss(bad)


# ---------------------------------------------------------------- the scoring command

@pytest.fixture
def tiny(tmp_path):
    import skimage.data
    data, weights = tmp_path / "data", tmp_path / "weights"
    for cat, names in (("faces", ("astronaut", "chelsea")), ("general", ("coffee", "rocket", "astronaut"))):
        (data / cat / "val" / "sub").mkdir(parents=True)
        for i, name in enumerate(names):
            img = Image.fromarray(getattr(skimage.data, name)())
            img.thumbnail((40, 40))
            img.save(data / cat / "val" / ("sub/" if i == 2 else "") / f"{name}.png")
    weights.mkdir()
    for name, space, cat, gain in (("lab-general", "lab", "general", 1.3), ("hsv-faces", "hsv", "faces", 1.0)):
        make_checkpoint(weights, name, space, cat)
        side = weights / f"{name}.json"
        meta = json.loads(side.read_text())
        meta.update(chroma_gain=gain, data={"val_dir": str(data / cat / "val")})
        side.write_text(json.dumps(meta))
    return tmp_path, data, weights


def test_scores_command_per_image_and_up_to_date(tiny, capsys):
    root, data, weights = tiny
    out = root / "scores"
    assert scores.main(["--weights-dir", str(weights), "--out", str(out)]) == 0
    lab = json.loads((out / "lab-general.json").read_text())
    assert set(lab["sets"]) == {"general", "faces"}        # the general matrix model also on faces (no landscapes)
    gen = lab["sets"]["general"]
    assert gen["files"] == ["coffee.png", "rocket.png", "sub/astronaut.png"]
    assert gen["val_sha256"] == load_folder(data / "general" / "val")[1]
    assert gen["variants"]["shipped"]["gain"] == 1.3 and gen["variants"]["raw"]["gain"] == 1.0
    model = load_checkpoint(weights / "lab-general.safetensors")
    real = evaluate(model, load_folder(data / "general" / "val")[0])
    shipped = gen["variants"]["shipped"]["metrics"]
    for k in ("psnr", "ssim", "ciede2000", "colorfulness"):
        assert np.mean(shipped[k]) == pytest.approx(real[k], rel=1e-4)
    hsv = json.loads((out / "hsv-faces.json").read_text())
    assert set(hsv["sets"]) == {"faces"} and hsv["sets"]["faces"]["variants"]["raw"] == {"same_as": "shipped"}
    grey = json.loads((out / "grey.json").read_text())["sets"]["faces"]
    truth = np.asarray(Image.open(data / "faces" / "val" / "astronaut.png").convert("RGB"))
    i = grey["files"].index("astronaut.png")
    assert grey["variants"]["grey"]["metrics"]["psnr"][i] == pytest.approx(
        metrics.psnr(metrics.grey_baseline(truth), truth), rel=1e-5)
    assert grey["truth_colorfulness"][i] == pytest.approx(metrics.colorfulness(truth), rel=1e-5)

    s = scores.Scores(out)
    assert s.get("hsv-faces", "faces", "raw", "psnr") == s.get("hsv-faces", "faces", "shipped", "psnr")
    files, (a, b) = s.aligned("faces", [("lab-general", "raw", "ciede2000"), ("grey", "grey", "ciede2000")])
    assert files == ["astronaut.png", "chelsea.png"] and a.shape == b.shape == (2,)

    capsys.readouterr()
    assert scores.main(["--weights-dir", str(weights), "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("up to date") == 2
