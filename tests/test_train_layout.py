"""train/'s seams: no module of train/ imports one that imports it back (function-level imports
included), and the renamed config folders still serve the commands recorded in the sidecars."""
from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path

import pytest

from train import paths
from train.config import load_config

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "train"


def _train_imports(path: Path) -> set[str]:
    """The train modules ``path`` imports, anywhere in it (``from .x``, ``from train.x``, ``from . import x``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1 or mod == "train" or mod.startswith("train."):
                base = mod.removeprefix("train").lstrip(".")
                out |= {base.split(".")[0]} if base else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("train.")}
    modules = {p.stem for p in TRAIN.glob("*.py")}
    return (out & modules) - {path.stem}


def test_train_modules_import_one_way():
    graph = {p.stem: _train_imports(p) for p in TRAIN.glob("*.py")}

    def reach(start, node, seen):
        for nxt in graph.get(node, ()):
            if nxt == start:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reach(start, nxt, seen):
                    return True
        return False
    cycles = sorted(m for m in graph if reach(m, m, set()))
    assert not cycles, f"modules of train/ on an import cycle: {cycles} ({ {m: sorted(graph[m]) for m in cycles} })"
    assert "report" not in graph["scores"] | graph["cast"] | graph["hints_curve"]   # paths come from train.paths


@pytest.mark.parametrize("old, new", sorted(paths.RENAMED_CONFIGS.items()))
def test_renamed_config_folders_resolve_under_their_old_names(old, new):
    assert not (ROOT / old).exists() and (ROOT / new).is_dir()
    for cfg in sorted((ROOT / new).glob("*.yaml")):
        assert load_config(["--config", old + cfg.name]) == load_config(["--config", new + cfg.name])
    assert paths.config_path(old + "no-such.yaml") == Path(old + "no-such.yaml")   # missing stays missing


def test_every_shipped_sidecar_command_still_loads():
    commands = 0
    for side in sorted((ROOT / "weights").glob("*.json")):
        for command in json.loads(side.read_text()).get("command", "").split(" && "):
            argv = shlex.split(command)
            if argv[:3] != ["python", "-m", "train"]:
                continue                     # train.calibrate and the like take no config
            cfg = load_config(argv[3:])
            assert cfg.name == side.stem or "name=" in command, (side.name, command)
            commands += 1
    assert commands >= 14
