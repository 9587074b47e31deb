"""The Colorize tab: the photo, its colour hints, the model's settings, and one colorization.

Its photo, model choice, settings and hints are the inputs of the Compare and Channels tabs
too (``Inputs``).
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import numpy as np

from ..checkpoints import CATEGORIES, get_model
from ..hints import MIN_REACH, POINT_REACH, from_json, tint_of
from ..imaging import MAX_PIXELS, load_reduced
from ..pipeline import accepts_hints, colour_at
from ..serving import hint_editor, limits, runs, tables, uploads
from ..serving.limits import TINT_PIXELS
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

@user_errors
@gated
def preview(image, hints_json=""):
    """The photo as shown for clicking on, with the point hints drawn on it."""
    if not image:
        return None
    shown = hint_editor.draw_markers(uploads.display_image(read(image).image), hints_json)
    return png(shown, scratch_dir(), f"{stem(image)}.png")


@user_errors
@gated
def add_hint(image, evt: gr.SelectData, space="lab", category="general", render_size=0, saturation=1.0,
             hints_json=""):
    """A click on the photo: a point hint there, coloured as the model now colours that point."""
    upload = read(image)
    x_px, y_px = evt.index[:2]
    w, h = uploads.display_image(upload.image).size     # the clicked picture is the display-size photo
    x, y = min(max(x_px / max(1, w - 1), 0.0), 1.0), min(max(y_px / max(1, h - 1), 0.0), 1.0)
    model = get_model(model_for(space, category))
    settings = run_settings(render_size, saturation, hints_json)
    hints = settings.hints if settings.hints and accepts_hints(model) else None
    colour = colour_at(upload.image, model, x, y, settings.render_size, settings.saturation, hints)
    new = hint_editor.add_point(hints_json, x, y, colour)
    return new, colour, len(hint_editor.rows(new))


@user_errors
def recolour_hint(colour, index, hints_json=""):
    n = len(hint_editor.rows(hints_json))
    if not n:
        return hints_json
    i = int(index or n) - 1
    return hint_editor.recolour(hints_json, i if 0 <= i < n else -1, colour)


@user_errors
def remove_hint(index, hints_json=""):
    return hint_editor.remove_point(hints_json, int(index or 0) - 1)


@user_errors
def clear_hints(hints_json=""):
    return hint_editor.clear_points(hints_json)


@user_errors
def set_reach(reach, hints_json=""):
    return hint_editor.set_reach(hints_json, reach)


@user_errors
def toggle_tint(on, colour, hints_json=""):
    return (hint_editor.set_tint(hints_json, colour if on else None), gr.update(visible=bool(on)),
            gr.update(visible=bool(on)))


@user_errors
@gated
def tint_from_photo(photo, on, hints_json=""):
    """The tint taken from a colour reference photo (its mean a, b, measured at TINT_PIXELS)."""
    if photo is None:
        return gr.update(), hints_json
    colour = tint_of(np.asarray(load_reduced(photo, TINT_PIXELS)))
    return colour, hint_editor.set_tint(hints_json, colour) if on else hints_json


def hints_view(image, hints_json=""):
    """Markers on the photo and the table of hints, after any change to the hints."""
    try:
        return preview(image, hints_json) if image else None, hint_editor.rows(hints_json)
    except gr.Error:
        return gr.update(), []


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
                with gr.Accordion("Colour hints (optional)", open=False, elem_id="hints-box"):
                    gr.Markdown("Click on the photo where you know a colour: a point hint appears there with the "
                                "model's current colour, and the picker changes it. Only the hint's chroma is "
                                "used; the lightness always comes from the photo. Hints stay when you switch "
                                "model, space or category, and Compare and Channels use them too. The seed "
                                "designs are automatic-only and ignore them.")
                    with gr.Row():
                        hint_colour = gr.ColorPicker(value="#808080", label="Colour of hint #", elem_id="hint-colour")
                        hint_index = gr.Number(value=0, precision=0, minimum=0, label="Hint #", elem_id="hint-index")
                    hint_table = gr.Dataframe(headers=hint_editor.TABLE_HEADERS, label="Point hints",
                                              interactive=False, elem_id="hint-table")
                    with gr.Row():
                        remove_btn = gr.Button("Remove hint #", size="sm", elem_id="hint-remove")
                        clear_btn = gr.Button("Clear point hints", size="sm", elem_id="hint-clear")
                    hint_reach = gr.Slider(MIN_REACH, 2.0, value=POINT_REACH, step=0.05, elem_id="hint-reach",
                                           label="How far one point's colour reaches",
                                           info="a fraction of the photo's short side; beyond it, and on surfaces "
                                                "much lighter or darker than the point, the model's own colour "
                                                "stays. Points close together reach further.")
                    tint_on = gr.Checkbox(False, label="Overall tint (the intended mean colour cast)",
                                          elem_id="tint-on")
                    with gr.Row():
                        tint_colour = gr.ColorPicker(value="#a08060", label="Tint", visible=False,
                                                     elem_id="tint-colour")
                        tint_photo = gr.File(label="…or take the tint from a colour photo of a similar scene "
                                                   f"(up to {limits.MAX_UPLOAD_TEXT})",
                                             file_types=["image"], type="filepath", visible=False,
                                             elem_id="tint-photo")
                    hints_json = gr.Textbox("", label="Hints as JSON (the CLI's format; editable)", lines=1,
                                            elem_id="hints-json")
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
    inputs = Inputs(image, space, category, render_size, saturation, hints_json)

    carried = gr.State("")
    outputs = [slider, download, metrics, status]
    image.change(new_photo, [image, hints_json], [hints_json, carried, keep, *outputs], api_name=False).then(
        preview, [image, hints_json], shown, api_name="preview").then(
        auto_colorize, inputs.run(), outputs, api_name=False, **INFERENCE).then(
        lambda d: gr.update(visible=not d), download, make_full, api_name=False)
    keep.click(lambda c: (c, gr.update(visible=False)), carried, [hints_json, keep], api_name=False).then(
        auto_colorize, inputs.run(), outputs, api_name=False, **INFERENCE)
    shown.select(add_hint, inputs.run(), [hints_json, hint_colour, hint_index],
                 api_name=False, **INFERENCE)
    hint_colour.change(recolour_hint, [hint_colour, hint_index, hints_json], hints_json, api_name=False)
    remove_btn.click(remove_hint, [hint_index, hints_json], hints_json, api_name=False)
    clear_btn.click(clear_hints, hints_json, hints_json, api_name=False)
    hint_reach.change(set_reach, [hint_reach, hints_json], hints_json, api_name=False)
    tint_on.change(toggle_tint, [tint_on, tint_colour, hints_json], [hints_json, tint_colour, tint_photo],
                   api_name=False)
    tint_colour.change(lambda c, on, h: hint_editor.set_tint(h, c) if on else h, [tint_colour, tint_on, hints_json],
                       hints_json, api_name=False)
    tint_photo.upload(tint_from_photo, [tint_photo, tint_on, hints_json], [tint_colour, hints_json], api_name=False)
    hints_json.change(hints_view, [image, hints_json], [shown, hint_table], api_name=False)
    run.click(colorize, inputs.run(), [slider, download, metrics, status], api_name="colorize", **INFERENCE).then(
        lambda d: gr.update(visible=not d), download, make_full, api_name=False)   # large photo: on request
    make_full.click(full_png, inputs.run(), download, api_name="full_png", **INFERENCE)
    return inputs
