"""Checkpoints: safetensors weights plus a typed JSON sidecar (``CheckpointMeta``), and weights/.

``NAME.safetensors`` holds only tensors (no pickle, so loading cannot run code);
``NAME.json`` holds the metadata (``CheckpointMeta``): name, space, category, architecture
and its hyper-parameters, training data and its hash, epochs, the training command, val
metrics and the sha256 of the weights file, which is checked before every load.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from .colorspaces import ColorSpace, get_space
from .models import create_model

# The photo categories every space has a model for (``{space}-{category}``); the study
# pool and the example photos are sorted by the same names.
CATEGORIES = ("faces", "landscapes", "general")
WEIGHTS_DIR = Path(os.environ.get("COLORLAB_WEIGHTS", Path(__file__).resolve().parent.parent / "weights"))


class CheckpointError(ValueError):
    """A checkpoint that is missing, tampered with or not a safetensors file."""


@dataclass
class CheckpointMeta:
    """A checkpoint's sidecar, ``NAME.json``, typed. ``from_json`` reads every sidecar written
    so far (a key it does not know is kept in ``extra`` and written back as it was);
    ``to_json`` gives the JSON object again, leaving out what is None.

    Metrics dicts map a metric name (``psnr``, ``ssim``, ``ciede2000``, ``colorfulness``,
    ``truth_colorfulness``, ``n``, ...) to a number; ``data`` records the training and val
    folders and their hashes; ``training`` the time, machine and per-epoch ``history``."""
    name: str
    space: str
    category: str = ""
    architecture: str = ""
    arch_kwargs: dict = field(default_factory=dict)
    design: str | None = None            # the published design it reproduces (else the registry's)
    train_size: int = 128                # crop side trained at, px
    render_size: int | None = None       # short side inference runs at; None: native size
    loss: str | None = None
    epochs: int | None = None
    best_epoch: int | None = None
    command: str | None = None           # the command that made the weights
    chroma_gain: float = 1.0             # calibrated after training (train.calibrate)
    calibration: dict | None = None      # how the gain was chosen
    hints: bool = False                  # trained to take colour hints
    licence: str | None = None
    data: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    val_images: int | None = None
    val_metrics: dict = field(default_factory=dict)
    grey_metrics: dict = field(default_factory=dict)     # the grey input scored the same way
    file: str | None = None              # the weights' file name beside the sidecar
    sha256: str | None = None            # of that file, checked before every load
    size_bytes: int | None = None
    extra: dict = field(default_factory=dict)   # every other key (commands, config, init, ...), as written

    _TYPES = {"name": str, "space": str, "category": str, "architecture": str, "arch_kwargs": dict,
              "design": str, "train_size": int, "render_size": int, "loss": str, "epochs": int,
              "best_epoch": int, "command": str, "chroma_gain": (int, float), "calibration": dict,
              "hints": bool, "licence": str, "data": dict, "training": dict, "val_images": int,
              "val_metrics": dict, "grey_metrics": dict, "file": str, "sha256": str, "size_bytes": int}

    @classmethod
    def from_json(cls, data: dict, source: str = "sidecar") -> CheckpointMeta:
        """The sidecar object ``data`` (as ``json.load`` gives it) -> CheckpointMeta. Raises
        ``CheckpointError`` naming ``source`` when ``name`` or ``space`` is missing or a known
        field has the wrong JSON type (null counts as not recorded)."""
        if not isinstance(data, dict):
            raise CheckpointError(f"{source}: a sidecar is a JSON object, got {type(data).__name__}")
        known, extra = {}, {}
        for key, value in data.items():
            if key not in cls._TYPES:
                extra[key] = value
            elif value is not None:
                want = cls._TYPES[key]
                if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                    raise CheckpointError(f"{source}: sidecar field {key!r} has the wrong type ({value!r})")
                known[key] = float(value) if key == "chroma_gain" else value
        missing = [k for k in ("name", "space") if k not in known]
        if missing:
            raise CheckpointError(f"{source}: sidecar has no {' or '.join(missing)}")
        return cls(**known, extra=extra)

    def to_json(self) -> dict:
        """The JSON object of this sidecar: the known fields that are not None, then ``extra``."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**{k: v for k, v in out.items() if v is not None}, **self.extra}


def training_stages(meta: CheckpointMeta) -> list[dict]:
    """Every training stage that made ``meta``'s weights, first to last, as dicts with
    ``command`` (str), ``epochs`` and ``best_epoch`` (int or None: not recorded) and
    ``seconds`` (float or None), plus ``source`` where a record was recovered after the fact.

    A fine-tune's sidecar nests its start's record under ``init``; ``init["stages"]`` lists
    the start's own stages (``train`` writes it, ``python -m train.stages`` recovers it for
    older sidecars from their committed versions). Without it, the earlier stages are one
    entry with the start's command and unknown epochs. The last entry is this sidecar's run."""
    init = meta.extra.get("init")
    earlier: list[dict] = []
    if isinstance(init, dict):
        nested = init.get("stages")
        if isinstance(nested, list) and all(isinstance(s, dict) for s in nested):
            earlier = [dict(s) for s in nested]
        else:
            earlier = [{"command": init.get("command") or init.get("file") or "?", "epochs": None,
                        "best_epoch": None, "seconds": None}]
    runs = meta.extra.get("commands")
    own_command = (" && ".join(c.get("command", "?") for c in runs if isinstance(c, dict))
                   if isinstance(runs, list) and runs else meta.command if not earlier else None)
    seconds = meta.training.get("seconds_total")
    own = {"command": own_command or "?", "epochs": meta.epochs, "best_epoch": meta.best_epoch,
           "seconds": seconds if isinstance(seconds, (int, float)) else None}
    return [*earlier, own]


@dataclass
class Colorizer:
    """A network ready for inference with what the pipeline needs to drive it."""
    net: nn.Module
    space: ColorSpace
    train_size: int = 128
    render_size: int | None = None   # None: native size (RGB models); else the short side to run at
    meta: CheckpointMeta | None = None   # None: a network not loaded from a checkpoint (training)
    chroma_gain: float = 1.0         # calibrated after training (train.calibrate); saturation 1.0 applies it

    @property
    def name(self) -> str:
        return self.meta.name if self.meta is not None else self.net.arch_name


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _with_ext(path, ext: str) -> Path:
    """``path`` with the extension ``ext`` (".safetensors" or ".json") in place of either, or
    added: a name such as ``hsv-general-unet4-lambda0.25`` keeps its dot (``with_suffix``
    alone would make it ``hsv-general-unet4-lambda0.safetensors``, another model's file)."""
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        return path.with_suffix(ext)
    return path.with_name(path.name + ext)


def save_checkpoint(net: nn.Module, path: Path, meta: dict | CheckpointMeta, half: bool = True) -> CheckpointMeta:
    """Write ``path`` (.safetensors) and its .json sidecar atomically; returns the sidecar.
    ``meta``: the sidecar's fields (a dict as ``CheckpointMeta.from_json`` takes, or one); the
    file, its sha256 and size and the architecture are filled in here."""
    if isinstance(meta, CheckpointMeta):
        meta = meta.to_json()
    path = _with_ext(path, ".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in net.state_dict().items()}
    _atomic_write(path, lambda p: save_file(state, str(p), metadata={"name": str(meta.get("name", ""))}))
    side = CheckpointMeta.from_json(dict(meta, file=path.name, sha256=sha256_file(path),
                                         size_bytes=path.stat().st_size, architecture=net.arch_name,
                                         arch_kwargs=_jsonable(net.arch_kwargs)), path.name)
    _write_sidecar(path, side)
    return side


def _write_sidecar(path: Path, meta: CheckpointMeta) -> None:
    text = json.dumps(meta.to_json(), indent=2) + "\n"
    _atomic_write(_with_ext(path, ".json"), lambda p: p.write_text(text))


def _jsonable(kwargs: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items() if k != "pretrained"}


def _read_json(path: Path) -> dict:
    path = _with_ext(path, ".json")
    if not path.is_file():
        raise CheckpointError(f"{path.name}: sidecar missing; every checkpoint needs its .json")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path.name}: sidecar is not valid JSON ({exc})") from None


def read_sidecar(path: Path) -> CheckpointMeta:
    """The sidecar of checkpoint ``path`` (raises ``CheckpointError`` if missing or malformed)."""
    return CheckpointMeta.from_json(_read_json(path), _with_ext(path, ".json").name)


def load_checkpoint(path: Path, device: str = "cpu") -> Colorizer:
    """Verify the sha256 recorded in the sidecar, then load the tensors (never unpickles)."""
    path = _with_ext(path, ".safetensors")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    meta = read_sidecar(path)
    digest = sha256_file(path)
    if digest != meta.sha256:
        raise CheckpointError(f"{path.name}: sha256 {digest[:12]} does not match its sidecar; refusing to load")
    try:
        state = load_file(str(path), device=device)
    except Exception as exc:   # noqa: BLE001 - safetensors raises its own error types
        raise CheckpointError(f"{path.name}: not a safetensors file ({exc})") from None
    try:
        net = create_model(meta.architecture, **meta.arch_kwargs)
        space = get_space(meta.space)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path.name}: sidecar names no usable model ({type(exc).__name__}: {exc})") from None
    try:
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except RuntimeError as exc:
        raise CheckpointError(f"{path.name}: weights do not fit {meta.architecture} ({exc})") from None
    net.to(device, memory_format=torch.channels_last).eval()   # NHWC convolutions: 15-55% faster on CPU
    return Colorizer(net, space, meta.train_size, meta.render_size, meta, meta.chroma_gain)


def update_sidecar(path: Path, changes: dict) -> CheckpointMeta:
    """Merge ``changes`` (JSON keys and values) into the sidecar of checkpoint ``path``
    (atomically); returns it."""
    meta = CheckpointMeta.from_json(dict(_read_json(path), **changes), _with_ext(path, ".json").name)
    _write_sidecar(path, meta)
    return meta


def list_checkpoints(weights_dir: Path | None = None) -> list[CheckpointMeta]:
    """Sidecars of every checkpoint in ``weights_dir``, sorted by name."""
    d = Path(weights_dir or WEIGHTS_DIR)
    out = []
    for p in sorted(d.glob("*.json")):
        if p.with_suffix(".safetensors").is_file():
            try:
                out.append(read_sidecar(p))
            except CheckpointError:
                continue
    return sorted(out, key=lambda m: m.name)


def resolve(name_or_path: str, weights_dir: Path | None = None) -> Path:
    """A checkpoint name in ``weights_dir`` (e.g. ``lab-faces``) or a path -> .safetensors path.

    Raises ``CheckpointError`` if there is no such checkpoint file."""
    p = Path(name_or_path)
    if p.suffix in (".safetensors", ".json") or p.exists():
        if _with_ext(p, ".safetensors").is_file():
            return _with_ext(p, ".safetensors")
        if p.suffix in (".safetensors", ".json"):   # clearly a path: do not look it up as a name
            raise CheckpointError(f"{p}: no such checkpoint")
    cand = Path(weights_dir or WEIGHTS_DIR) / f"{name_or_path}.safetensors"
    if not cand.is_file():
        names = [m.name for m in list_checkpoints(weights_dir)]
        raise CheckpointError(f"no checkpoint named {name_or_path!r}; available: {names}")
    return cand


_CACHE: dict[tuple, Colorizer] = {}
_LOCK = threading.Lock()


def get_model(name_or_path: str, weights_dir: Path | None = None) -> Colorizer:
    """Load a checkpoint once per process and share it (thread-safe); inference is read-only."""
    path = resolve(name_or_path, weights_dir).resolve()
    key = (str(path), path.stat().st_mtime_ns)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = load_checkpoint(path)
        return _CACHE[key]
