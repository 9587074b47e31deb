"""What every tab shares: the run settings read once from the widgets, the error wrapper, scratch files.

The server's limits come from ``colorlab.serving.limits``; nothing is started or opened at import.
"""
from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from ..checkpoints import list_checkpoints
from ..hints import from_json
from ..imaging import ImageError
from ..serving import runs, uploads
from ..serving.limits import CONCURRENCY, SCRATCH_TTL
from ..serving.scheduling import CpuGate

MAX_UPLOAD = "50mb"
SCRATCH = Path(tempfile.gettempdir()) / "colorlab-app"
SCRATCH_PRUNE_EVERY = 60    # seconds between looks for expired scratch folders (older than SCRATCH_TTL)
GATE = CpuGate(CONCURRENCY)   # quick jobs go ahead of Compare's next model (colorlab.serving.scheduling)
INFERENCE = {"concurrency_id": "inference", "concurrency_limit": CONCURRENCY}   # one model's events
log = logging.getLogger("colorlab.app")
_last_prune = 0.0


def run_settings(render_size, saturation, hints_json) -> runs.RunSettings:
    """The Colorize tab's render size (0: the model's own), saturation and hints' JSON, read
    once per event; malformed hints raise ValueError (shown to the user by ``user_errors``)."""
    return runs.RunSettings(int(render_size) or None, float(saturation), from_json(hints_json))


def user_errors(fn):
    """Every failure reaches the user as a gr.Error with a readable message, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, LookupError, OSError) as exc:   # ImageError, CheckpointError are ValueErrors
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:   # noqa: BLE001 - logged here, reported briefly
            log.exception("unexpected failure in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(exc).__name__}); please try another image.") from None
    return wrapper


def scratch_dir() -> Path:
    """A fresh folder for one response's files; folders past their TTL are pruned (at most
    once a minute, so a busy server does not scan thousands of folders per request)."""
    global _last_prune
    SCRATCH.mkdir(parents=True, exist_ok=True)
    now = time.time()
    if now - _last_prune > SCRATCH_PRUNE_EVERY:
        _last_prune = now
        for old in SCRATCH.iterdir():
            try:
                if now - old.stat().st_mtime > SCRATCH_TTL:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
    return Path(tempfile.mkdtemp(dir=SCRATCH))


def png(image, directory: Path, name: str, grey_as_l: bool = False) -> str:
    """``image`` (PIL or uint8 array) as a lossless PNG file in this request's ``directory``;
    its path is what the event returns (see ``colorlab.ui`` for why not the image).
    ``grey_as_l``: a grey view is stored as one channel (``uploads.save_png``)."""
    return str(uploads.save_png(image, directory, name, grey_as_l))


def stem(image) -> str:
    """The uploaded file's name without its extension, for the names of what is returned."""
    return Path(str(image)).stem or "photo"


def read(image) -> uploads.Upload:
    """The upload at ``image`` (a file path); a readable gr.Error if there is none or it is unusable."""
    if not image:
        raise gr.Error("Upload a photo or pick an example first.", print_exception=False)
    try:
        return uploads.read_upload(image)
    except ImageError as exc:   # name the file as the user knows it, not by its server path
        raise gr.Error(str(exc).replace(str(image), Path(str(image)).name), print_exception=False) from None


def model_for(space: str, category: str) -> str:
    """The checkpoint for the chosen space and category; a note to the user if it falls back."""
    meta, note = runs.choose_checkpoint(space, category)
    if note:
        gr.Info(note)
    return meta.name


def model_names() -> list[str]:
    return [m.name for m in list_checkpoints()]


def hint_note(hints) -> str:
    """" · 2 point hints and a tint" for a status line; empty without hints."""
    if not hints:
        return ""
    parts = [f"{len(hints.points)} point hint{'s' * (len(hints.points) != 1)}"] * bool(hints.points)
    return " · " + " and ".join(parts + ["a tint"] * (hints.tint is not None))
