"""The Channels tab: the chosen model's colour-space channels, the reference's, and where the hue goes wrong."""
from __future__ import annotations

import gradio as gr
import numpy as np

from ..diagnostics import artifact_heatmap, channel_views, hue_artifact_map
from ..serving import runs, uploads
from .colorize import Inputs
from .common import INFERENCE, gated, model_for, png, read, run_settings, scratch_dir, user_errors


@user_errors
@gated
def channels(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json=""):
    upload = uploads.for_display(read(image))   # the views are for the eye: display size
    settings = run_settings(render_size, saturation, hints_json)
    name = model_for(space, category)
    res = runs.run_model(upload, name, settings, scored=False)
    pred = np.asarray(res.image)
    out = scratch_dir()
    pred_views = [(png(v, out, f"{name}-{label.split()[0]}.png", grey_as_l=True), f"{name}: {label}")
                  for label, v in channel_views(pred, res.space)]
    ref_views = ([] if upload.reference is None else
                 [(png(v, out, f"reference-{label.split()[0]}.png", grey_as_l=True), f"reference: {label}")
                  for label, v in channel_views(upload.reference, res.space)])
    amap, score = hue_artifact_map(pred, upload.reference)
    what = ("mean saturation-weighted hue error against the reference, in turns (0 = perfect, 0.5 = opposite)"
            if upload.reference is not None else
            "grey upload: mean saturation-weighted hue gradient (speckle and red wrap-around seams), in turns")
    heat = png(artifact_heatmap(amap), out, "hue-artefacts.png")
    return pred_views, ref_views, heat, f"**Hue-artefact score {score:.4f}** · {what}"


def tab(inputs: Inputs) -> None:
    """The tab's components and events (inside ``gr.Blocks``), on the Colorize tab's ``inputs``."""
    with gr.Tab("Channels & artefacts", id="channels"):
        gr.Markdown("The channels of the chosen model's colour space (from the *Colorize* tab), for its "
                    "output and for the reference, and where the hue goes wrong.")
        channels_btn = gr.Button("Show channels", variant="primary")
        with gr.Row():
            pred_views = gr.Gallery(label="Colorized: channels", format="png", columns=3)
            ref_views = gr.Gallery(label="Reference: channels", format="png", columns=3)
        with gr.Row():
            heat = gr.Image(label="Hue-artefact map", format="png", interactive=False)
            heat_score = gr.Markdown()
    channels_btn.click(channels, inputs.run(), [pred_views, ref_views, heat, heat_score], api_name="channels",
                       **INFERENCE)
