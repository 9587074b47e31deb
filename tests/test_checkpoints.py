"""colorlab.checkpoints: safetensors + sidecar round trip, integrity checks, the registry."""
import json
import os

import pytest
import torch
from conftest import make_checkpoint

from colorlab.checkpoints import (
    WEIGHTS_DIR,
    CheckpointError,
    CheckpointMeta,
    get_model,
    list_checkpoints,
    load_checkpoint,
    resolve,
    save_checkpoint,
    sha256_file,
)
from colorlab.models import create_model


def trained_looking_net():
    """A small net whose BatchNorm statistics are not the defaults, so they must round-trip too."""
    torch.manual_seed(0)
    net = create_model("lab_resunet", widths=(4, 8, 8)).train()
    with torch.no_grad():
        net(torch.rand(2, 1, 16, 16) * 2 - 1)
    return net.eval()


META = {"name": "lab-test", "space": "lab", "category": "general", "train_size": 64, "render_size": 96,
        "epochs": 3, "val_metrics": {"psnr": 23.0}}


@pytest.mark.parametrize("half, tol", [(True, 2e-2), (False, 1e-5)])   # fp32: exact but for kernel choice
def test_round_trip(tmp_path, half, tol):
    net = trained_looking_net()
    save_checkpoint(net, tmp_path / "lab-test", META, half=half)
    model = load_checkpoint(tmp_path / "lab-test.safetensors")
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(model.net(x), net(x), atol=tol, rtol=0)
    assert not model.net.training
    assert model.space.name == "lab" and model.train_size == 64 and model.render_size == 96
    assert model.name == "lab-test" and model.meta.epochs == 3


def test_a_dot_in_the_name_is_part_of_the_name(tmp_path):
    # hsv-general-unet4-lambda0.25 once overwrote hsv-general-unet4-lambda0 (Path.with_suffix)
    net = trained_looking_net()
    save_checkpoint(net, tmp_path / "m-lambda0", dict(META, name="m-lambda0"))
    save_checkpoint(net, tmp_path / "m-lambda0.25", dict(META, name="m-lambda0.25"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m-lambda0.25.json", "m-lambda0.25.safetensors", "m-lambda0.json", "m-lambda0.safetensors"]
    assert load_checkpoint(tmp_path / "m-lambda0.25").name == "m-lambda0.25"
    assert load_checkpoint(tmp_path / "m-lambda0").name == "m-lambda0"
    assert resolve("m-lambda0.25", tmp_path) == tmp_path / "m-lambda0.25.safetensors"
    assert [m.name for m in list_checkpoints(tmp_path)] == ["m-lambda0", "m-lambda0.25"]


def test_sidecar_fields(tmp_path):
    side = save_checkpoint(trained_looking_net(), tmp_path / "lab-test.json", META)
    weights = tmp_path / "lab-test.safetensors"
    assert side.to_json() == json.loads((tmp_path / "lab-test.json").read_text())
    assert side.file == "lab-test.safetensors"
    assert side.sha256 == sha256_file(weights) and side.size_bytes == weights.stat().st_size
    assert side.architecture == "lab_resunet"
    assert side.arch_kwargs == {"widths": [4, 8, 8]}   # tuples stored as JSON lists
    assert side.val_metrics == {"psnr": 23.0} and side.space == "lab"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab-test.json", "lab-test.safetensors"]   # no temp files


def test_pretrained_flag_is_not_recorded(tmp_path):
    net = create_model("mobile_unet", decoder=(8, 8, 8, 8, 8), pretrained=False)
    side = save_checkpoint(net, tmp_path / "m", dict(META, name="m"))
    assert "pretrained" not in side.arch_kwargs   # loading must not need the ImageNet file
    assert load_checkpoint(tmp_path / "m.safetensors").net.arch_name == "mobile_unet"


def test_tampered_weights_are_refused(tmp_path):
    save_checkpoint(trained_looking_net(), tmp_path / "lab-test", META)
    path = tmp_path / "lab-test.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its sidecar; refusing"):
        load_checkpoint(path)


def test_broken_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none.safetensors")
    save_checkpoint(trained_looking_net(), tmp_path / "a", dict(META, name="a"))
    (tmp_path / "a.json").unlink()
    with pytest.raises(CheckpointError, match="sidecar missing"):
        load_checkpoint(tmp_path / "a.safetensors")
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "a.safetensors")
    # A file that is not safetensors at all, with a sidecar that vouches for it.
    (tmp_path / "b.safetensors").write_bytes(b"\x80\x04 pickle, not tensors")
    (tmp_path / "b.json").write_text(json.dumps(dict(META, sha256=sha256_file(tmp_path / "b.safetensors"))))
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(tmp_path / "b.safetensors")


def test_every_shipped_sidecar_reads_as_typed_metadata_and_writes_back_unchanged():
    for path in sorted(WEIGHTS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        meta = CheckpointMeta.from_json(data, path.name)
        assert meta.name == path.stem and meta.sha256 and isinstance(meta.chroma_gain, float)
        out = meta.to_json()
        assert {k: out[k] for k in data} == data, path.name    # every key kept, as written
        assert set(out) - set(data) <= {"hints"}                # at most the default spelled out


def test_a_sidecar_with_a_wrong_type_is_refused_by_name(tmp_path):
    with pytest.raises(CheckpointError, match="'epochs' has the wrong type"):
        CheckpointMeta.from_json(dict(META, epochs="three"))
    with pytest.raises(CheckpointError, match="no space"):
        CheckpointMeta.from_json({"name": "x"})
    save_checkpoint(trained_looking_net(), tmp_path / "t", dict(META, name="t"))
    (tmp_path / "t.json").write_text(json.dumps(dict(META, name="t", train_size="big")))
    with pytest.raises(CheckpointError, match="t.json: sidecar field 'train_size'"):
        load_checkpoint(tmp_path / "t")


def test_weights_that_do_not_fit_the_architecture(tmp_path):
    side = save_checkpoint(trained_looking_net(), tmp_path / "c", dict(META, name="c"))
    side.arch_kwargs = {"widths": [8, 8, 8]}
    (tmp_path / "c.json").write_text(json.dumps(side.to_json()))
    with pytest.raises(CheckpointError, match="do not fit lab_resunet"):
        load_checkpoint(tmp_path / "c.safetensors")


def test_list_checkpoints(tmp_path, weights_dir):
    assert [m.name for m in list_checkpoints(weights_dir)] == ["hsv-general", "lab-general", "rgb-general"]
    assert list_checkpoints(tmp_path / "nowhere") == []
    make_checkpoint(tmp_path, "z-model", "lab")
    make_checkpoint(tmp_path, "a-model", "rgb")
    (tmp_path / "orphan.json").write_text("{}")          # no weights: not listed
    make_checkpoint(tmp_path, "broken", "lab")
    (tmp_path / "broken.json").write_text("{oops")      # unreadable sidecar: skipped, not fatal
    metas = list_checkpoints(tmp_path)
    assert [m.name for m in metas] == ["a-model", "z-model"]
    assert metas[0].space == "rgb" and metas[0].category == "general"


def test_resolve(weights_dir, tmp_path):
    assert resolve("lab-general", weights_dir) == weights_dir / "lab-general.safetensors"
    direct = weights_dir / "hsv-general.json"
    assert resolve(str(direct)) == weights_dir / "hsv-general.safetensors"
    with pytest.raises(CheckpointError, match=r"no checkpoint named 'nope'; available: \['hsv-general'"):
        resolve("nope", weights_dir)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        resolve(str(tmp_path / "gone.safetensors"), weights_dir)


def test_get_model_loads_once_and_reloads_when_the_file_changes(tmp_path):
    make_checkpoint(tmp_path, "cached", "lab")
    first = get_model("cached", tmp_path)
    assert get_model(str(tmp_path / "cached.safetensors")) is first
    make_checkpoint(tmp_path, "cached", "hsv")
    path = tmp_path / "cached.safetensors"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    second = get_model("cached", tmp_path)
    assert second is not first and second.space.name == "hsv"


def test_the_nine_matrix_models_take_hints_and_the_seed_designs_do_not():
    from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints
    from colorlab.hints import HINT_CHANNELS
    metas = {m.name: m for m in list_checkpoints(WEIGHTS_DIR)}
    matrix = {f"{s}-{c}" for s in ("lab", "hsv", "rgb") for c in ("faces", "landscapes", "general")}
    assert matrix <= set(metas), sorted(matrix - set(metas))
    for name, meta in metas.items():
        takes = name in matrix
        assert meta.hints is takes, name
        assert (meta.arch_kwargs.get("hint_channels", 0) == HINT_CHANNELS) is takes, name
