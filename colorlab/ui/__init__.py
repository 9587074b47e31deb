"""The Gradio app, one module per tab: ``build()`` lays the tabs out, ``launch()`` serves them.

``colorize`` (one model on a photo, with colour hints), ``compare`` (every model on it),
``channels`` (channels and hue artefacts), ``turing`` (perceptual studies: the organiser's
tab, and the rater view a study's link shows instead of everything else), ``models``
(checkpoints and claims); ``common`` holds what they share. The tabs only wire widgets to
``colorlab.serving`` and the library: no colour maths here.

Environment: ``COLORLAB_WEIGHTS`` (checkpoint folder, default ./weights),
``COLORLAB_DATA`` (ratings database, default ./data), ``COLORLAB_CONCURRENCY``
(inference jobs at once, default 1; torch gets the CPU cores divided among them),
``COLORLAB_QUEUE_SIZE`` (waiting jobs, default 64) and Gradio's own ``GRADIO_SERVER_NAME`` /
``GRADIO_SERVER_PORT``.

Every image an event returns is written by the app as a lossless PNG into that request's
own scratch folder and returned as a file path. Gradio copies a returned file into its
cache once, under a temporary name renamed into place, and never rewrites an existing
copy; arrays and PIL images returned directly would instead be re-encoded and rewritten
in place (``<content hash>/image.png``) for every identical result, which cuts short the
download of another user who got the same picture a moment earlier.
"""
from __future__ import annotations

import logging
import os

import gradio as gr
import torch

from ..serving import limits
from ..serving.admission import FairShare, launch_options
from ..serving.memory import start_trimmer, tune_malloc
from . import channels, colorize, compare, models, turing
from .common import model_names, scratch


def build() -> gr.Blocks:
    """The app's Blocks, queued; opens the study store (``turing.lab``)."""
    names = model_names()
    with gr.Blocks(title="colorlab: greyscale photo colorization", delete_cache=(600, limits.GRADIO_CACHE_TTL)) as demo:
        gr.Markdown("# colorlab\nColorize greyscale photos with U-Net models trained in LAB, HSV or RGB on "
                    "faces, landscapes or general photos. A colour photo is turned grey first and kept as "
                    "the reference the result is scored against.", elem_id="cl-header")
        turing.rater()   # what a study's rater link (?study=ID) shows instead of the header and the tabs
        inputs = colorize.tab()
        compare.tab(inputs)
        channels.tab(inputs)
        turing.tab(demo, names)
        models.tab(demo, names)
    demo.queue(default_concurrency_limit=4, max_size=limits.QUEUE_SIZE)
    FairShare().install(demo)   # per-client caps and round-robin order (colorlab.serving.admission)
    return demo


def launch() -> None:
    """Serve the app: the server's malloc settings and trimmer first (flat resident memory over
    many image requests, ``colorlab.serving.memory``), torch's threads shared by the concurrent
    jobs, then ``build()`` and Gradio's server (blocks until stopped)."""
    scratch()   # this instance's private folder (app.py makes it before Gradio is imported)
    if os.environ.get("COLORLAB_GATE_LOG"):   # every job's time at the CPU gate (bench/hostile.py reads it)
        gate_log = logging.getLogger("colorlab.gate")
        gate_log.setLevel(logging.DEBUG)
        gate_log.addHandler(logging.StreamHandler())
    tune_malloc()
    start_trimmer()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, cores // max(1, limits.CONCURRENCY)))   # concurrent jobs share the cores
    options = launch_options()   # body and upload limits, no monitoring (colorlab.serving.admission)
    options["app_kwargs"].setdefault("routes", []).extend(turing.routes())   # the study pictures
    # run_history=False: Gradio would otherwise keep every call's inputs (the organiser token too)
    # in the browser's localStorage and list them on /gradio_api/runs
    build().launch(**options, run_history=False, css=turing.CSS, head=turing.HEAD)


__all__ = ["build", "launch"]
