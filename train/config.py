"""Training configuration: defaults here, a YAML file of overrides per model, then
``key=value`` overrides on the command line (nanoGPT style)."""
from __future__ import annotations

import argparse
import ast
from dataclasses import asdict, dataclass, field, fields

import yaml

from .paths import config_path


@dataclass
class Config:
    name: str = "model"                 # checkpoint name, e.g. lab-faces
    space: str = "lab"                  # lab | hsv | rgb
    category: str = "general"
    architecture: str = "mobile_unet"
    arch: dict = field(default_factory=dict)   # architecture hyper-parameters
    loss: str = "l1"
    chroma_weight: float = 0.0          # weight of losses.chroma_deficit (0: off)
    aux_weight: float = 0.5             # weight of a model's auxiliary (stage-1) output loss
    train_dir: str | list = "../shared/data/general/train"   # a folder, or a list of folders
    val_dir: str = "../shared/data/general/val"
    size: int = 128                     # training crop side
    render_size: int | None = 128       # short side at inference (None: native size)
    batch_size: int = 16
    epochs: int = 5
    steps_per_epoch: int | None = None  # None: one pass over the training set
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    seed: int = 0
    hints: bool = False                 # simulate colour hints from the truth (colorlab.hints) and feed them
    p_automatic: float = 0.0            # with hints: this share of samples gets none at all (automatic
                                        # colorization), beside the ~15% the simulation leaves bare anyway
    init_from: str | None = None        # start from this checkpoint's weights (a fine-tune); new tensors start at 0
    threads: int = 2
    val_limit: int | None = None        # score only the first N val images
    out_dir: str = "runs"               # run directory root (checkpoints for resume, logs, curves)
    export_dir: str | None = "weights"  # where the final checkpoint goes (None: do not export)
    digest_file: str | None = None      # every rank writes its final parameter digest here ({rank} or .rankN)
    licence: str = "Trained on public research datasets for non-commercial research use."
    design: str = ""                    # the published design this reproduces


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"null": None, "none": None, "true": True, "false": False}.get(text.lower(), text)


_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "dict": (dict,), "bool": (bool,),
          "None": (type(None),), "list": (list,)}


def _allowed(f) -> tuple:
    return tuple(t for part in str(f.type).split("|") for t in _TYPES[part.strip()])


def _check_types(values: dict, error) -> None:
    """Each value must have its field's type (an int where a float is expected is fine)."""
    for f in fields(Config):
        if f.name not in values:
            continue
        v, allowed = values[f.name], _allowed(f)
        if (isinstance(v, bool) and bool not in allowed) or not isinstance(v, allowed):
            error(f"{f.name} must be {f.type}, got {v!r}")


def _read_yaml(path) -> dict:
    """A config file's overrides; ``base: OTHER.yaml`` (relative to the repository root, as the
    commands run from there) is read first, so a variant states only what it changes. A config
    folder that was renamed is found under its old name too (``paths.RENAMED_CONFIGS``)."""
    with open(config_path(path)) as f:
        values = yaml.safe_load(f) or {}
    base = values.pop("base", None)
    return {**_read_yaml(base), **values} if base else values


def load_config(argv: list[str]) -> Config:
    """``--config FILE`` then ``key=value`` or ``--key value`` overrides."""
    ap = argparse.ArgumentParser(prog="python -m train", description="Train a colorlab model.")
    ap.add_argument("--config", help="YAML file of overrides (train/configs/NAME.yaml)")
    args, rest = ap.parse_known_args(argv)
    values: dict = {}
    if args.config:
        values.update(_read_yaml(args.config))
    by_name = {f.name: f for f in fields(Config)}
    known = set(by_name)
    it = iter(rest)
    for tok in it:
        if tok.startswith("--"):
            key, _, val = tok[2:].partition("=")
            val = val if _ else next(it, "")
        else:
            key, sep, val = tok.partition("=")
            if not sep:
                ap.error(f"expected key=value, got {tok!r}")
        key = key.replace("-", "_")
        if key.startswith("arch."):
            values.setdefault("arch", {})[key[5:]] = _parse_value(val)
            continue
        if key not in known:
            ap.error(f"unknown option {key!r}; options: {sorted(known)}")
        value = _parse_value(val)
        if str in _allowed(by_name[key]) and value is not None and not isinstance(value, list):
            value = val             # names and paths stay text (e.g. name=2024 or seed-like names)
        values[key] = value
    unknown = set(values) - known
    if unknown:
        ap.error(f"unknown keys in config: {sorted(unknown)}")
    _check_types(values, ap.error)
    return Config(**values)


def as_dict(cfg: Config) -> dict:
    return asdict(cfg)
