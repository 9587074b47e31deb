"""The Colorize tab: the photo, its colour hints, the model's settings, and one colorization.

The hints panel (its widgets, handlers and events) is ``hints_panel``.

Its photo, model choice, settings and hints are the inputs of the Compare and Channels tabs
too (``Inputs``).
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..checkpoints import CATEGORIES
from ..hints import from_json
from ..imaging import MAX_PIXELS
from ..serving import limits, runs, tables, uploads
from . import hints_panel
from .common import INFERENCE, gated, hint_note, model_for, png, read, run_settings, scratch_dir, stem, user_errors

SPACE_CHOICES = [("LAB", "lab"), ("HSV", "hsv"), ("RGB", "rgb")]


@dataclass
class Inputs:
    """The Colorize tab's widgets that the other tabs read."""
    image: gr.File
    space: gr.Radio
    category: gr.Radio
    render_size: gr.Slider
    saturation: gr.Slider
    hints_json: gr.Textbox

    def run(self) -> list:
        """What a one-model event takes: photo, space, category, render size, saturation, hints."""
        return [self.image, self.space, self.category, self.render_size, self.saturation, self.hints_json]


# ---------------------------------------------------------------- handlers

def _run(image, space, category, render_size, saturation, hints_json):
    """The upload, the settings, the model's name and its run, for Colorize and its full PNG."""
    upload = read(image)
    settings = run_settings(render_size, saturation, hints_json)
    name = model_for(space, category)
    return upload, settings, name, runs.run_model(upload, name, settings)


@user_errors
@gated
def colorize(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json=""):
    upload, settings, name, res = _run(image, space, category, render_size, saturation, hints_json)
    out = scratch_dir()
    # the slider shows display size; up to that size its "after" is also the download
    path = png(uploads.display_image(res.image), out, f"{stem(image)}-{name}.png")
    grey = png(uploads.display_image(upload.grey_channel), out, f"{stem(image)}-grey.png")   # one channel: 1/3 the work
    w, h = upload.size
    status = f"**{name}** · {w}x{h} · {res.seconds:.2f} s"
    status += hint_note(settings.hints) if res.hints_used else (
        " · automatic-only model: hints not used" if settings.hints else "")
    status += (" · colour upload: turned grey for the model and kept as the reference"
               if upload.reference is not None else " · grey upload: no reference, so no metrics")
    if upload.reduced:
        status += f" · shown at {uploads.DISPLAY_SIDE} px; *Make full-resolution PNG* for the {w}x{h} file"
    download = None if upload.reduced else path   # a large photo's full-resolution PNG: on request (full_png)
    return (grey, path), download, tables.metric_rows(res, upload), status


@user_errors
@gated
def full_png(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json=""):
    """The full-resolution PNG of a colorization, made when asked for (large photos)."""
    _, _, name, res = _run(image, space, category, render_size, saturation, hints_json)
    return png(res.image, scratch_dir(), f"{stem(image)}-{name}.png")


def examples_list():
    """([[path, category], ...], [caption, ...]) of the example photos (what each shows, else its id)."""
    pool = uploads.example_pool()
    captions = uploads.example_captions()
    return [[str(p.path), p.category] for p in pool], [captions.get(p.photo_id, p.photo_id) for p in pool]


def new_photo(image, hints_json=""):
    """A new photo starts clean: no hints, result, download, metrics or caption. The last
    photo's hints are kept aside, and a button offers them for this photo. A cleared upload
    (no photo) clears the result only: the hints wait for the next photo."""
    if not image:
        return gr.skip(), gr.skip(), gr.skip(), None, None, [], ""
    try:
        carried = hints_json if from_json(hints_json) else ""
    except ValueError:
        carried = ""
    return "", carried, gr.update(visible=bool(carried)), None, None, [], ""


def auto_colorize(image, *args):
    """Colorize on an upload or an example's click; nothing to do without a photo."""
    if not image:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    return colorize(image, *args)


def pick_example(evt: gr.SelectData):
    """A click on an example thumbnail loads that photo and its category."""
    ex, _ = examples_list()
    path, category = ex[evt.index]
    return path, category


# ---------------------------------------------------------------- layout and events

def tab() -> Inputs:
    """The tab's components and events (inside ``gr.Blocks``); returns the inputs other tabs share."""
    with gr.Tab("Colorize", id="colorize"):
        with gr.Row():
            with gr.Column():
                image = gr.File(label=f"Photo (any image file up to {MAX_PIXELS // 1_000_000} MP "
                                      f"and {limits.MAX_UPLOAD_TEXT})",
                                file_types=["image"], type="filepath", elem_id="upload")
                keep = gr.Button("Keep the last photo's hints for this one", visible=False, size="sm",
                                 elem_id="keep-hints")
                shown = gr.Image(label="Your photo (click to place a colour hint)", format="png",
                                 interactive=False, height=260, elem_id="preview")
                hints = hints_panel.panel()
                space = gr.Radio(SPACE_CHOICES, value="lab", label="Colour space")
                category = gr.Radio(list(CATEGORIES), value="general", label="Checkpoint category")
                render_size = gr.Slider(0, 1024, value=0, step=32,
                                        label="Render size: short side the network runs at (0 = the model's own)")
                saturation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Saturation",
                                       info="1.0 = the model's calibrated colour strength")
                run = gr.Button("Colorize", variant="primary", elem_id="colorize-btn")
            with gr.Column():
                slider = gr.ImageSlider(label="Before / after", format="png", type="numpy", elem_id="slider")
                status = gr.Markdown(elem_id="colorize-status")
                download = gr.DownloadButton("Download full-resolution PNG", elem_id="download")
                make_full = gr.Button("Make full-resolution PNG", visible=False, elem_id="make-full")
                metrics = gr.Dataframe(headers=["metric", "model", "grey input", "better"],
                                       label="Metrics against the reference (colour uploads)")
        ex, labels = examples_list()
        if ex:
            thumbs = gr.Gallery([(p, f"{label} ({c})") for (p, c), label in zip(ex, labels)],
                                label="Examples (held-out photos): click one to colorize it", columns=6,
                                height="auto", allow_preview=False, object_fit="cover", elem_id="examples")
            thumbs.select(pick_example, None, [image, category], api_name=False)
    hints_json = hints.hints_json
    inputs = Inputs(image, space, category, render_size, saturation, hints_json)

    carried = gr.State("")
    outputs = [slider, download, metrics, status]
    image.change(new_photo, [image, hints_json], [hints_json, carried, keep, *outputs], api_name=False).then(
        hints_panel.preview, [image, hints_json], shown, api_name="preview").then(
        auto_colorize, inputs.run(), outputs, api_name=False, **INFERENCE).then(
        lambda d: gr.update(visible=not d), download, make_full, api_name=False)
    keep.click(lambda c: (c, gr.update(visible=False)), carried, [hints_json, keep], api_name=False).then(
        auto_colorize, inputs.run(), outputs, api_name=False, **INFERENCE)
    hints.wire(image, shown, inputs.run())
    run.click(colorize, inputs.run(), [slider, download, metrics, status], api_name="colorize", **INFERENCE).then(
        lambda d: gr.update(visible=not d), download, make_full, api_name=False)   # large photo: on request
    make_full.click(full_png, inputs.run(), download, api_name="full_png", **INFERENCE)
    return inputs
