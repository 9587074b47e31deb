"""Publishing as a Hugging Face Space: the file set, its validation, the offline rehearsal
(``python -m colorlab.tools.space check``), the dry-run plan and the Space-aware storage default."""
from __future__ import annotations

import dataclasses

import pytest

from apphelp import ROOT
from colorlab.serving import hosting
from colorlab.tools import space


@pytest.fixture(scope="module")
def files():
    return space.plan(ROOT)


def test_declared_endpoints_are_read_from_the_app_and_its_tabs():
    # app.py only launches colorlab.ui; the tabs name the endpoints the rehearsal must find served
    names = space.declared_endpoints(ROOT / "app.py")
    assert {"preview", "colorize", "full_png", "compare", "channels", "turing_start", "turing_results",
            "models_table", "model_details", "turing_invites"} <= set(names) and len(names) == 20


def test_the_repository_file_set_validates(files):
    assert space.validate(files) == []
    paths = {f.path for f in files}
    assert {"app.py", "README.md", "requirements.txt", "constraints.txt", "LICENSE.md"} <= paths
    assert "colorlab/__init__.py" in paths and not [p for p in paths if p.startswith("colorlab/tools/")]
    tool = ROOT / "colorlab" / "tools" / "space.py"
    leak = dataclasses.replace(files[0], path="colorlab/tools/space.py", source=tool, size=tool.stat().st_size)
    assert any("must not ship" in p for p in space.validate([*files, leak]))


def test_dry_run_plan_lists_the_data_and_nothing_of_the_lab(capsys, monkeypatch):
    import huggingface_hub
    monkeypatch.setattr(huggingface_hub, "HfApi", None)   # a dry run must not touch the Hub
    assert space.main(["deploy", "--repo", "someone/colorlab", "--dry-run"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[-1] for line in out.splitlines() if line.startswith("  ") and "/" in line]
    assert "someone/colorlab" in out and "total:" in out and "dry run" in out
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "weights").glob("*.safetensors")}
    assert shipped and shipped <= set(listed)
    assert any(p.startswith("examples/") and p.endswith(".jpg") for p in listed)
    assert any(p.startswith("study_pool/") and p.endswith(".jpg") for p in listed)
    for never in ("tests/", "runs/", "bench/", "train/", "docs/", "colorlab/tools/"):
        assert not [p for p in listed if p.startswith(never)], never


def test_plan_is_rule_based_and_skips_what_is_not_the_space(tmp_path):
    for rel in ("README.md", "app.py", "requirements.txt", "constraints.txt", "LICENSE.md", "colorlab/__init__.py",
                "colorlab/__pycache__/x.cpython-311.pyc", "weights/a.json", "weights/a.safetensors",
                "examples/faces/1.jpg", "study_pool/general/2.jpg", "newdata/x.bin", "tests/test_x.py",
                "runs/r/state.pt", "bench/results.json", "colorlab/tools/space.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    paths = {f.path for f in space.plan(tmp_path)}
    assert "weights/a.safetensors" in paths and "study_pool/general/2.jpg" in paths
    assert not {p for p in paths if p.split("/")[0] in ("tests", "runs", "bench", "newdata")}
    assert not {p for p in paths if "__pycache__" in p}
    assert "colorlab/__init__.py" in paths and "colorlab/tools/space.py" not in paths   # deploy tooling stays home
    rules = space.RULES + (space.Rule("newdata", "a folder the app starts to need", ("*.bin",)),)
    assert "newdata/x.bin" in {f.path for f in space.plan(tmp_path, rules)}   # one more rule ships it
    (tmp_path / "study_pool/general/2.jpg").unlink()
    with pytest.raises(space.SpaceError, match="study_pool"):
        space.plan(tmp_path)


def test_validation_catches_front_matter_and_missing_weights(files, tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    readme.write_text(text.replace("sdk_version: ", "sdk_version: 1.0.0 #", 1).replace("python_version:", "x:", 1))
    swapped = [dataclasses.replace(f, source=readme) if f.path == "README.md" else f for f in files]
    problems = " ".join(space.validate(swapped))
    assert "sdk_version" in problems and "python_version" in problems
    without = [f for f in files if f.path != "weights/lab-faces.safetensors"]
    assert any("lab-faces.safetensors" in p for p in space.validate(without))
    big = [dataclasses.replace(f, size=space.MAX_FILE_BYTES + 1) if f.path == "app.py" else f for f in files]
    assert any("app.py" in p and "limit" in p for p in space.validate(big))


def test_front_matter_licence_follows_the_hub_convention(files):
    meta = space.front_matter(ROOT / "README.md")
    assert meta["license"] == "other" and meta["license_name"]
    assert meta["license_link"] in {f.path for f in files}
    note = (ROOT / meta["license_link"]).read_text()
    assert "MIT" in note and "non-commercial" in note


@pytest.mark.slow
def test_check_passes_on_the_repository(capsys):
    assert space.check(ROOT) == []
    out = capsys.readouterr().out
    for endpoint in ("/colorize", "/compare", "/channels", "/full_png"):
        assert endpoint in out
    assert "same as the repository's" in out


@pytest.mark.slow
def test_check_fails_when_the_set_leaves_out_a_module_the_app_imports():
    problems = space.check(ROOT, exclude={"colorlab/diagnostics.py"})
    assert problems and "exited" in problems[0] and "diagnostics" in problems[0]


@pytest.mark.slow
def test_check_fails_when_the_set_leaves_out_a_data_folder():
    rules = tuple(r for r in space.RULES if r.path != "examples")
    problems = space.check(ROOT, rules=rules)
    # without its photos the app quietly drops the examples gallery: the comparison with the
    # app run from the repository notices
    assert any("lacks what the repository's shows" in p for p in problems), problems


# ---------------------------------------------------------------- storage on a Space

def test_persistent_storage_is_used_when_writable(tmp_path):
    mount = tmp_path / "data"
    mount.mkdir()
    chosen = hosting.choose_storage(environ={"SPACE_ID": "u/s"}, persistent=mount, local=tmp_path / "local")
    assert chosen.directory == mount and chosen.persistent and chosen.notice() == ""


def test_without_persistent_storage_the_tab_warns(tmp_path):
    chosen = hosting.choose_storage(environ={"SPACE_ID": "u/s"}, persistent=tmp_path / "absent",
                                    local=tmp_path / "local")
    assert chosen.directory == tmp_path / "local" and not chosen.persistent
    assert "lost" in chosen.notice() and "persistent storage" in chosen.notice()


def test_unwritable_persistent_storage_is_not_used(tmp_path, monkeypatch):
    mount = tmp_path / "data"
    mount.mkdir()
    monkeypatch.setattr(hosting.tempfile, "NamedTemporaryFile",
                        lambda **kw: (_ for _ in ()).throw(PermissionError("read-only")))
    assert hosting.choose_storage(environ={}, persistent=mount, local=tmp_path / "l").directory == tmp_path / "l"


def test_colorlab_data_overrides(tmp_path):
    mount = tmp_path / "data"
    mount.mkdir()
    chosen = hosting.choose_storage(environ={"COLORLAB_DATA": str(tmp_path / "mine")}, persistent=mount)
    assert chosen.directory == tmp_path / "mine"
