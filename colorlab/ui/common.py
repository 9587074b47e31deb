"""What every tab shares: the run settings read once from the widgets, the error wrapper, the CPU gate, scratch.

The server's limits come from ``colorlab.serving.limits``; nothing is started or opened at import.
"""
from __future__ import annotations

import functools
import html
import inspect
import os
from pathlib import Path

import gradio as gr

from ..checkpoints import list_checkpoints
from ..hints import from_json
from ..imaging import image_pixels
from ..serving import limits, runs, uploads
from ..serving.admission import INFERENCE_ID, client_key
from ..serving.errors import public_message
from ..serving.scheduling import CpuGate
from ..serving.scratch import Scratch, instance_root

GATE = CpuGate(limits.CONCURRENCY)   # quick jobs go ahead of Compare's next model (colorlab.serving.scheduling)
# quick jobs wait for the CPU at the gate (small ones first), not in Gradio's queue
INFERENCE = {"concurrency_id": INFERENCE_ID, "concurrency_limit": limits.INFERENCE_WORKERS}


def run_settings(render_size, saturation, hints_json) -> runs.RunSettings:
    """The Colorize tab's render size (0: the model's own), saturation and hints' JSON, read
    once per event; malformed hints raise ValueError (shown to the user by ``user_errors``)."""
    return runs.RunSettings(int(render_size) or None, float(saturation), from_json(hints_json))


def user_errors(fn):
    """Every failure reaches the user as a short, HTML-escaped gr.Error (Gradio renders error
    toasts as HTML: a value echoed from the client, a file name or a study link, must not
    become markup): a user's mistake (a wrong organiser token included) with its message,
    anything else as an error id logged in full; never a server path or an exception class
    (``colorlab.serving.errors``). Every handler of every tab is wrapped in it."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:   # noqa: BLE001 - the message is chosen (and logged) by public_message
            raise gr.Error(html.escape(public_message(exc, fn.__name__)), print_exception=False) from None
    return wrapper


def is_big(image, render_size=0, hints_json="") -> bool:
    """Whether a job counts as big for the CPU gate (it then gives way to small jobs as it goes):
    a photo over BIG_PIXELS (read from the header only), over BIG_POINTS points or a render
    size over BIG_RENDER. Anything unreadable is small: it fails fast."""
    try:
        if int(render_size or 0) > limits.BIG_RENDER or len(from_json(hints_json).points) > limits.BIG_POINTS:
            return True
    except (TypeError, ValueError):
        return False
    return image_pixels(image) > limits.BIG_PIXELS


def gated(fn):
    """Run the whole handler inside the CPU gate: decoding the upload, the model and the PNGs, so
    that a job waiting for the CPU holds no decoded photo and the server holds at most one big
    and one small job (``colorlab.serving.scheduling``, docs/space.md)."""
    params = list(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        given = dict(zip(params, args), **kwargs)
        big = is_big(given.get("image") or given.get("photo"), given.get("render_size", 0),
                     given.get("hints_json", ""))
        with GATE.quick(big=big, name=fn.__name__, client=client()):
            return fn(*args, **kwargs)
    wrapper.colorlab_gated = True   # wire it with INFERENCE: admission counts the gated groups as jobs
    return wrapper


def client() -> str:
    """The address of the client whose event this thread is handling (``admission.client_key``:
    behind a trusted proxy, the one the proxy saw); "" outside an event. The CPU gate serves
    waiting jobs client by client with it."""
    from gradio.context import LocalContext
    request = LocalContext.request.get(None)
    return client_key(request) if request is not None else ""


@functools.cache
def scratch() -> Scratch:
    """Each response's files and Gradio's cache, in this instance's private folder, pruned by
    age and total size (``colorlab.serving.scratch``); made on first use."""
    root = instance_root()
    return Scratch(root, others=(Path(os.environ["GRADIO_TEMP_DIR"]),))


def scratch_dir() -> Path:
    """A fresh private folder for one response's files (``colorlab.serving.scratch``)."""
    return scratch().new_dir()


def png(image, directory: Path, name: str, grey_as_l: bool = False) -> str:
    """``image`` (PIL or uint8 array) as a lossless PNG file in this request's ``directory``;
    its path is what the event returns (see ``colorlab.ui`` for why not the image).
    ``grey_as_l``: a grey view is stored as one channel (``uploads.save_png``)."""
    return str(uploads.save_png(image, directory, name, grey_as_l))


def stem(image) -> str:
    """The uploaded file's name without its extension, for the names of what is returned."""
    return Path(str(image)).stem or "photo"


def read(image) -> uploads.Upload:
    """The upload (an ImageError names the file by its name only: ``user_errors``). Called
    inside the CPU gate, so that jobs waiting for the CPU hold no decoded photo."""
    if not image:
        raise gr.Error("Upload a photo or pick an example first.", print_exception=False)
    return uploads.read_upload(image)


def model_for(space: str, category: str, design: str | None = None) -> str:
    """The checkpoint for the chosen space, category and design (a seed design's name, or
    empty/``runs.STANDARD`` for the space and category's own model); a note to the user if it
    falls back."""
    meta, note = runs.choose_design(str(space), str(category), design)
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
