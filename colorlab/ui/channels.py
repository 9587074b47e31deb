"""The Channels tab: the chosen model's colour-space channels, the reference's, and where the hue goes wrong."""
from __future__ import annotations

import gradio as gr
import numpy as np

from ..diagnostics import channel_views, hue_artifact_map
from ..serving import runs, uploads
from ..serving.huemap import TURNS, hue_map_png
from .colorize import Inputs
from .common import INFERENCE, gated, model_for, png, read, run_settings, scratch_dir, user_errors

NO_REFERENCE = ("**Reference: none.** This photo was uploaded in grey, so there are no true colours to split "
                "into channels and nothing to measure the hue against; the hue map below shows where the hue "
                "jumps between neighbouring pixels instead. Upload the colour original (the app greys it "
                "itself) to see the reference's channels and the hue error.")


@user_errors
@gated
def channels(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json="",
             design=runs.STANDARD):
    upload = uploads.for_display(read(image))   # the views are for the eye: display size
    settings = run_settings(render_size, saturation, hints_json)
    name = model_for(space, category, design)   # the Colorize tab's choice, seed designs too
    res = runs.run_model(upload, name, settings, scored=False)
    pred = np.asarray(res.image)
    out = scratch_dir()
    pred_views = [(png(v, out, f"{name}-{label.split()[0]}.png", grey_as_l=True), f"{name}: {label}")
                  for label, v in channel_views(pred, res.space)]
    ref_views = ([] if upload.reference is None else
                 [(png(v, out, f"reference-{label.split()[0]}.png", grey_as_l=True), f"reference: {label}")
                  for label, v in channel_views(upload.reference, res.space)])
    amap, score = hue_artifact_map(pred, upload.reference)
    with_ref = upload.reference is not None
    what = ("mean saturation-weighted hue error against the reference (0 = perfect, 0.5 = the opposite hue)"
            if with_ref else
            "grey upload: mean saturation-weighted hue change between neighbouring pixels (speckle and red "
            "wrap-around seams)")
    heat = str(hue_map_png(amap, out / "hue-artefacts.png", with_ref))
    text = f"**Hue-artefact score {score:.4f}** · {what}.  \nHue is measured in {TURNS}."
    return pred_views, ref_views, heat, text, "" if with_ref else NO_REFERENCE


def tab(inputs: Inputs) -> None:
    """The tab's components and events (inside ``gr.Blocks``), on the Colorize tab's ``inputs``.
    The galleries keep the photo's aspect ratio and whole captions (``cl-gallery``, CSS in
    ``colorlab.ui``)."""
    with gr.Tab("Channels", id="channels"):
        gr.Markdown("The channels of the chosen model's colour space (from the *Colorize* tab), for its "
                    "output and for the reference, and where the hue goes wrong.")
        channels_btn = gr.Button("Show channels", variant="primary")
        with gr.Row():
            pred_views = gr.Gallery(label="Colorized: channels", format="png", columns=3, height="auto",
                                    object_fit="contain", elem_id="cl-channels-pred", elem_classes="cl-gallery")
            with gr.Column():
                ref_note = gr.Markdown(elem_id="cl-channels-ref-note")
                ref_views = gr.Gallery(label="Reference: channels", format="png", columns=3, height="auto",
                                       object_fit="contain", elem_id="cl-channels-ref", elem_classes="cl-gallery")
        with gr.Row():   # side by side on a wide screen; on a phone the text goes under the map
            heat = gr.Image(label="Hue-artefact map", format="png", interactive=False, elem_id="cl-hue-map",
                            scale=2, min_width=320)
            heat_score = gr.Markdown(elem_id="cl-hue-score", min_width=240)
    channels_btn.click(channels, inputs.colorize(), [pred_views, ref_views, heat, heat_score, ref_note],
                       api_name="channels", **INFERENCE)
