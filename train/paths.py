"""Where things are: the repository root, a checkpoint's file, its val folder, and the training
configs (with the old names of the renamed ones, so recorded commands still resolve).

The modules of train/ that need paths import them from here, so none of them has to import
another's report code for them (report reads the scores, the scores read only these paths).
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "train" / "configs"

# Config folders renamed after what their stage does (issue 22). Commands recorded in the
# sidecars of weights/ name the old folders; ``config_path`` maps them to the new ones.
RENAMED_CONFIGS = {
    "train/configs/hints/": "train/configs/stage1-hints/",          # the automatic model learns to take hints
    "train/configs/hints2/": "train/configs/stage2-prior-gate/",    # + the prior gate
    "train/configs/hints3/": "train/configs/stage3-guided/",        # + the lightness-guided spread, gate uncapped
}


def config_path(path: str | Path) -> Path:
    """The config file ``path`` names (relative to the repository root, where the commands run,
    or absolute), following a renamed folder to its new name if the old one is gone."""
    p = Path(path)
    if p.exists():
        return p
    if not p.is_absolute() and (ROOT / p).exists():     # run from elsewhere than the root
        return ROOT / p
    rel = p.resolve().relative_to(ROOT).as_posix() if p.is_absolute() and p.resolve().is_relative_to(ROOT) \
        else p.as_posix().removeprefix("./")
    for old, new in RENAMED_CONFIGS.items():
        if rel.startswith(old):
            moved = ROOT / (new + rel[len(old):])
            if moved.exists():
                return moved
    return p


def val_dir(meta: dict, data_root: Path | None) -> Path | None:
    """The category's val folder: DATA/CATEGORY/val with ``--data``, else the sidecar's
    (a relative one is where the trainer ran: the repository root)."""
    if data_root is not None:
        return Path(data_root) / meta.get("category", "") / "val"
    recorded = (meta.get("data") or {}).get("val_dir")
    if not recorded:
        return None
    path = Path(recorded)
    return path if path.is_absolute() else ROOT / path


def checkpoint_file(meta: dict, weights_dir: Path) -> Path:
    """The safetensors file of the checkpoint a sidecar describes."""
    return Path(weights_dir) / meta.get("file", f"{meta['name']}.safetensors")
