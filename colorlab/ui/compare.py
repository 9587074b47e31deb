"""The Compare tab: every installed model on the Colorize tab's photo, with times and metrics."""
from __future__ import annotations

import gradio as gr

from ..checkpoints import list_checkpoints
from ..serving import limits, runs, tables, uploads
from ..serving.admission import COMPARE_ID
from .colorize import Inputs
from .common import GATE, hint_note, png, read, run_settings, scratch_dir, stem, user_errors


@user_errors
def compare(image, render_size=0, saturation=1.0, hints_json="", progress=gr.Progress()):   # noqa: B008 - how Gradio asks for a progress bar
    settings = run_settings(render_size, saturation, hints_json)
    hints = settings.hints
    if not list_checkpoints():
        raise gr.Error("No checkpoints are installed.")
    with GATE.step("compare:read"):   # decoded and reduced as one step of the comparison
        upload = uploads.for_display(read(image))   # every model on the display-size photo
    results, best = runs.compare_all(upload, settings,
                                     progress=lambda i, n, name: progress((i, n), desc=name, unit="models"),
                                     gate=GATE)
    out = scratch_dir()
    with GATE.step("compare:png"):   # the PNGs are CPU work too: a last step (each starts at a pause point)
        grid = [(png(r.image, out, f"{stem(image)}-{r.model}.png"), tables.caption(r, best)) for r in results]
    if upload.reference is not None:
        note = ("★ marks the best model per metric (↑ higher is better, ↓ lower is better, ≈ closest to the "
                "true photo's). The last two rows are the grey input, scored the same way, and the true "
                "photo's colourfulness. " + tables.versus_grey(results, upload))
    else:
        note = "Grey upload: no reference, so only times are compared (★ fastest)."
    w, h = upload.size
    note += (f" Every model ran on the photo at {w}x{h} (at most {uploads.DISPLAY_SIDE} px long side); metrics "
             f"at most {uploads.METRIC_PIXELS / 1e6:.2f} MP, area-averaged.")
    if hints:
        skipped = [r.model for r in results if not r.hints_used]
        note += f" Hints{hint_note(hints).removeprefix(' ·')} given to every model that takes them" + (
            f"; automatic-only (no hints): {', '.join(skipped)}." if skipped else ".")
    return grid, tables.compare_rows(results, best, upload), note


def tab(inputs: Inputs) -> None:
    """The tab's components and events (inside ``gr.Blocks``), on the Colorize tab's ``inputs``.
    Compare has its own queue (one at a time), so it never holds the slot of a quick job; the
    CPU itself is shared through ``GATE``, model by model."""
    with gr.Tab("Compare", id="compare"):
        gr.Markdown("Every installed model on the photo from the *Colorize* tab, with its time and, for a "
                    "colour photo, its metrics beside the grey input's.")
        compare_btn = gr.Button("Compare all models", variant="primary")
        grid = gr.Gallery(label="All models", format="png", columns=4, height="auto", object_fit="contain",
                          elem_id="cl-compare-grid", elem_classes="cl-gallery")
        compare_note = gr.Markdown(elem_id="cl-compare-note")
        compare_table = gr.Dataframe(headers=tables.COMPARE_HEADERS, label="Metrics", elem_id="cl-compare-table",
                                     max_height=900, wrap=True, interactive=False,
                                     column_widths=["22%", "14%", "16%", "16%", "16%", "16%"])
        gr.Markdown(tables.metric_legend(), elem_id="cl-compare-legend")
    compare_btn.click(compare, [inputs.image, inputs.render_size, inputs.saturation, inputs.hints_json],
                      [grid, compare_table, compare_note], api_name="compare", concurrency_id=COMPARE_ID,
                      concurrency_limit=limits.COMPARE_SLOTS)
