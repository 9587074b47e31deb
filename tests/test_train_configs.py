"""The renamed config folders still serve the commands recorded in the sidecars (train/'s import
cycles, the report <-> scores one included, are guarded by tests/test_architecture.py)."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from train import paths
from train.config import load_config

ROOT = Path(__file__).resolve().parent.parent


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
