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

from ..serving import estimates, limits
from ..serving.admission import FairShare, launch_options
from ..serving.memory import start_trimmer, tune_malloc
from . import channels, colorize, compare, models, suggested, turing
from .common import model_names, scratch

# The app's own CSS, beside the Turing tab's (``turing.CSS``). Galleries marked ``cl-gallery``
# (Compare, Channels) show each picture at its own aspect ratio with its whole caption under it
# (Gradio's default: square cells, one caption line cut at 80% of the cell), two columns on a phone.
CSS = """
.cl-gallery .grid-container { grid-auto-rows: auto !important; grid-template-rows: none !important; }
.cl-gallery .thumbnail-item { aspect-ratio: auto !important; height: auto !important; display: flex !important;
                              flex-direction: column; }
.cl-gallery .thumbnail-lg > img { height: auto !important; object-fit: contain !important; }
.cl-gallery .caption-label { position: static !important; max-width: none !important; white-space: pre-line !important;
                             overflow-wrap: anywhere; text-overflow: clip !important; opacity: 1 !important;
                             border: 0 !important; border-radius: 0 !important; text-align: left; }
.cl-gallery .grid-wrap, .cl-gallery .fixed-height { max-height: none !important; height: auto !important;
                                                    min-height: 0 !important; }
/* a model card's long commands and hashes wrap instead of running off the card */
#cl-model-card code { white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: break-all; }
@media (max-width: 640px) {
  .cl-gallery .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)) !important; }
  #cl-compare-table .body-cell, #cl-compare-table .body-cell *, #cl-compare-table th, #cl-compare-table th * {
    font-size: 11.5px !important; font-family: var(--font) !important; }
  #cl-compare-table .body-cell, #cl-compare-table th { padding: 2px 3px !important; }
  #cl-compare-table .body-cell:not(.first-column) span { white-space: nowrap !important; }   /* numbers whole */
  #cl-compare-table th span { word-break: normal !important; overflow-wrap: normal !important; }
  #cl-compare-table th { position: relative; }
  #cl-compare-table th .cell-wrap, #cl-compare-table th .header-content { padding: 0 !important; gap: 0 !important;
                                                                          min-width: 0 !important; }
  /* the sort menu button: over the header's corner, not a column of its own */
  #cl-compare-table th .cell-menu-button { position: absolute; top: 0; right: 0; }
  /* a phone: the five tabs fit on one line at 390 px ... */
  .tabs .tab-container button { padding: 0 0.45rem !important; font-size: 13px !important; }
  /* ... and on a narrower screen the ones that do not fit are a second row, not a "..." menu */
  .tabs .tab-wrapper { flex-wrap: wrap; height: auto !important; }
  .tabs .overflow-menu { margin-left: 0 !important; width: 100%; }
  .tabs .overflow-menu > button { display: none !important; }
  .tabs .overflow-dropdown { display: flex !important; position: static !important; flex-wrap: wrap;
                                width: 100% !important; min-width: 0 !important; border: 0 !important;
                                box-shadow: none !important; padding: 0 !important; }
  .tabs .overflow-dropdown button { width: auto !important; padding: 0.3rem 0.45rem !important; font-size: 13px; }
}
"""


def build() -> gr.Blocks:
    """The app's Blocks, queued; opens the study store (``turing.lab``)."""
    names = model_names()
    with gr.Blocks(title="colorlab: greyscale photo colorization", delete_cache=(600, limits.GRADIO_CACHE_TTL)) as demo:
        gr.Markdown("# colorlab\nColorize greyscale photos with U-Net models trained in LAB, HSV or RGB on "
                    "faces, landscapes or general photos. A colour photo is turned grey first and kept as "
                    "the reference the result is scored against.", elem_id="cl-header")
        turing.rater()   # what a study's rater link (?study=ID) shows instead of the header and the tabs
        # The tabs stay implicit: in Gradio 6.31 an explicit gr.Tabs (even overflow_behavior="wrap",
        # made for phones) then shows a clicked tab twice, in place of another (seen at 390x844);
        # CSS keeps every tab in view on a phone instead.
        inputs = colorize.tab()
        compare.tab(inputs)
        channels.tab(inputs)
        turing.tab(demo, names)
        models.tab(demo, names)
    demo.queue(default_concurrency_limit=4, max_size=limits.QUEUE_SIZE)
    FairShare().install(demo)   # per-client caps and round-robin order (colorlab.serving.admission)
    estimates.install(demo)     # no "6.3/3.0s": run times here predict nothing (colorlab.serving.estimates)
    return demo


def launch() -> None:
    """Serve the app: the server's malloc settings and trimmer first (flat resident memory over
    many image requests, ``colorlab.serving.memory``), torch's threads shared by the concurrent
    jobs, then ``build()`` and Gradio's server (blocks until stopped)."""
    scratch()   # this instance's private folder (app.py makes it before Gradio is imported)
    if os.environ.get("COLORLAB_GATE_LOG"):   # every job's time at the CPU gate (bench/hostile.py reads it)
        for name in ("colorlab.gate", "colorlab.admission"):   # ... and every admission decision
            gate_log = logging.getLogger(name)
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
    build().launch(**options, run_history=False, css=CSS + colorize.CSS + models.CSS + suggested.CSS + turing.CSS,
                   head=turing.HEAD)


__all__ = ["CSS", "build", "launch"]
