"""The Colorize tab: the photo, the model, one colorization, its download, and the photo's hints.

One screen at 1440x900: the upload, the model choice (space, category, design) and the
Colorize button on the left, the photo to click hints on below them; the result, its status,
its one Download button and the hints (a collapsed panel, ``hints_panel``) on the right; the
examples below. The photo is colorized on upload, on an example's click and on a change of
model; the button runs it again.

A new photo starts clean (its hints, result, caption, metrics and download cleared; the last
photo's hints can be kept with one click). A file that cannot be used changes nothing but
the status line, which says why: the last good result stays. In the browser a failure is
told once, in that line; the API endpoints (``/colorize``, ``/preview``, ``/full_png``)
raise it as an error.

Its photo, model choice, settings and hints are the inputs of the Compare and Channels tabs
too (``Inputs``).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ..checkpoints import CATEGORIES
from ..hints import from_json
from ..imaging import MAX_PIXELS
from ..serving import limits, runs, tables, uploads
from ..serving.runs import STANDARD
from . import hints_panel, suggested
from .common import INFERENCE, gated, hint_note, model_for, png, read, run_settings, scratch_dir, stem, user_errors

SPACE_CHOICES = [("LAB", "lab"), ("HSV", "hsv"), ("RGB", "rgb")]
CATEGORY_LABELS = {"faces": "faces: portraits", "landscapes": "landscapes: outdoor scenes",
                   "general": "general: anything else"}


@dataclass
class Inputs:
    """The Colorize tab's widgets that the other tabs read."""
    image: gr.File
    space: gr.Radio
    category: gr.Radio
    render_size: gr.Slider
    saturation: gr.Slider
    hints_json: gr.Textbox
    design: gr.Dropdown | None = None

    def run(self) -> list:
        """What a one-model event takes: photo, space, category, render size, saturation, hints."""
        return [self.image, self.space, self.category, self.render_size, self.saturation, self.hints_json]

    def colorize(self) -> list:
        """What Colorize takes: ``run()`` and the design (the seed design, or ``STANDARD``)."""
        return [*self.run(), self.design]


# ---------------------------------------------------------------- the model

def design_choices() -> list[tuple[str, str]]:
    """The design menu, as (label, value): the standard model of the chosen space and category,
    which takes hints, then every seed design installed (automatic-only)."""
    seeds = [(tables.design_label(m), m.name) for m in runs.seed_designs()]
    return [("standard: the model for the chosen space and category (takes hints)", STANDARD), *seeds]


def _seed(name):
    """The sidecar of seed design ``name`` (None for the standard model or an unknown name)."""
    return next((m for m in runs.seed_designs() if m.name == name), None)


def model_changed(space, category, design=STANDARD):
    """A space or category the chosen seed design was not trained for means the standard model again."""
    seed = _seed(design)
    return STANDARD if seed is not None and (seed.space, seed.category) != (space, category) else gr.skip()


def design_changed(design):
    """A seed design shows the space and category it was trained for."""
    seed = _seed(design)
    if seed is None or seed.category not in CATEGORIES:
        return gr.skip(), gr.skip()
    return seed.space, seed.category


# ---------------------------------------------------------------- one colorization

def _run(image, space, category, render_size, saturation, hints_json, design=STANDARD):
    """The upload, the settings, the model's name and its run, for Colorize and its full PNG."""
    upload = read(image)
    settings = run_settings(render_size, saturation, hints_json)
    name = model_for(space, category, design)
    return upload, settings, name, runs.run_model(upload, name, settings)


def _status(name, upload, settings, res, design) -> str:
    w, h = upload.size
    status = f"**{name}** · {w}x{h} · {res.seconds:.2f} s"
    if design and design != STANDARD:
        status += " · seed design, automatic-only" + (": hints not used" if settings.hints else "")
    else:
        status += hint_note(settings.hints) if res.hints_used else (
            " · automatic-only model: hints not used" if settings.hints else "")
    status += (" · colour upload: turned grey for the model and kept as the reference"
               if upload.reference is not None else " · grey upload: no reference, so no metrics")
    if upload.reduced:
        status += f" · shown at {uploads.DISPLAY_SIDE} px; *Download* makes the full-resolution {w}x{h} file"
    return status


@user_errors
@gated
def _colorize(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json="",
              design=STANDARD):
    """``colorize``'s four outputs and the photo's (width, height)."""
    upload, settings, name, res = _run(image, space, category, render_size, saturation, hints_json, design)
    out = scratch_dir()
    path = png(uploads.display_image(res.image), out, f"{stem(image)}-{name}.png")
    grey = png(uploads.display_image(upload.grey_channel), out, f"{stem(image)}-grey.png")   # one channel: 1/3 the work
    download = None if upload.reduced else path   # a large photo's full-resolution PNG: when asked (full_png)
    status = _status(name, upload, settings, res, design)
    return (grey, path), download, tables.metric_rows(res, upload), status, upload.size


def colorize(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json="",
             design=STANDARD):
    """One colorization: the before/after pair at display size, the download (the shown
    result itself when the photo is no larger than that; else None: the Download button
    makes the full-resolution file), the metrics and a status line."""
    return _colorize(image, space, category, render_size, saturation, hints_json, design)[:4]


def download_button(download, size) -> dict:
    """The Download button after a colorization: its file (None: made when pressed) and a
    label that says what it gives."""
    w, h = size
    what = "PNG" if download else "full-resolution PNG"
    return gr.update(value=download, label=f"Download {what} ({w}x{h})")


def failed(exc: gr.Error) -> str:
    """The status line for a run the browser started that could not be done."""
    return f"⚠ **{exc.message}** Nothing else changed: the last result is kept."


def press_colorize(image, *args):
    """The Colorize button: as ``colorize``, the Download button labelled with what it gives and
    its note cleared (a full PNG made for the last result is not this one's); a failure is told
    in the status line, and the last result stays (no error badges)."""
    try:
        pair, download, metrics, status, size = _colorize(image, *args)
    except gr.Error as exc:
        return gr.skip(), gr.skip(), gr.skip(), failed(exc), gr.skip()
    return pair, download_button(download, size), metrics, status, ""


def auto_colorize(usable, image, *args):
    """Colorize after an upload, an example or a model change: nothing to do without a usable
    photo (``load_photo`` said what is wrong with it); otherwise as the button."""
    if not image or not usable:
        return (gr.skip(),) * 5
    return press_colorize(image, *args)


@gated
def _full_png(image, space, category, render_size, saturation, hints_json, design, progress):
    """(path, note): the colorization at full resolution as a PNG, ``progress`` told each step."""
    progress(0.0, desc="Reading the photo")
    upload = read(image)
    w, h = upload.size
    progress(0.1, desc=f"Colorizing at full resolution ({w}x{h})")
    settings = run_settings(render_size, saturation, hints_json)
    name = model_for(space, category, design)
    res = runs.run_model(upload, name, settings, scored=False)
    progress(0.7, desc=f"Writing the {w}x{h} PNG")
    path = png(res.image, scratch_dir(), f"{stem(image)}-{name}.png")
    return path, f"Ready: **{html.escape(stem(image))}-{name}.png**, {w}x{h} px"   # a file name is the client's


@user_errors
def download_png(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json="",
                 design=STANDARD, current=None, progress=gr.Progress()):   # noqa: B008 - how Gradio asks for a progress bar
    """What the Download button does. ``current`` is the file the button already holds (the
    shown result of a photo no larger than the display, or a full PNG made before): the
    browser saves it itself, so nothing is made. Without one (a large photo), the
    full-resolution PNG is made now, the browser then saves it. Returns (file, note, whether
    it was made now)."""
    if current:
        return gr.skip(), gr.skip(), False
    path, note = _full_png(image, space, category, render_size, saturation, hints_json, design, progress)
    return path, note, True


@user_errors
def full_png(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json="",
             design=STANDARD, progress=gr.Progress()):   # noqa: B008 - how Gradio asks for a progress bar
    """The full-resolution PNG of a colorization (the API's ``/full_png``)."""
    return _full_png(image, space, category, render_size, saturation, hints_json, design, progress)[0]


# ---------------------------------------------------------------- a new photo

@gated
def load_photo(image):
    """A new photo in the upload box: (whether it can be used, the status line if not, the
    photo to click hints on). Read once here, kept for the steps that follow
    (``uploads.read_upload``); the new photo has no hints yet, so no markers."""
    if not image:
        return False, gr.skip(), gr.skip()
    try:
        upload = user_errors(read)(image)
    except gr.Error as exc:
        return False, failed(exc), gr.skip()
    return True, gr.skip(), png(uploads.display_image(upload.image), scratch_dir(), f"{stem(image)}.png")


def new_photo(usable, image, hints_json=""):
    """A new photo starts clean: no hints, result, download, metrics or caption. The last
    photo's hints are kept aside, and a button offers them for this photo; the undo history
    starts again too (undo must not bring the last photo's hints back). A cleared upload
    box (no photo) or a file that cannot be used (``load_photo`` said why) changes nothing:
    the last good result and the hints stay until a photo that can be used comes."""
    if not image or not usable:
        return (gr.skip(),) * 9
    try:
        carried = hints_json if from_json(hints_json) else ""
    except ValueError:
        carried = ""
    return ("", carried, gr.update(visible=bool(carried)), None, gr.update(value=None, label="Download PNG"), [], "",
            "", None)


# ---------------------------------------------------------------- examples

def examples_list():
    """([[path, category], ...], [caption, ...]) of the example photos (what each shows, else its id)."""
    pool = uploads.example_pool()
    captions = uploads.example_captions()
    # captions.json is keyed by the file's name (a photo's id also names its category folder)
    return [[str(p.path), p.category] for p in pool], [captions.get(Path(p.path).stem, p.photo_id) for p in pool]


def pick_example(evt: gr.SelectData):
    """A click on an example thumbnail loads that photo and its category (the standard model)."""
    ex, _ = examples_list()
    path, category = ex[evt.index]
    return path, category, STANDARD


# ---------------------------------------------------------------- layout and events

# On a phone the columns stack: a lower slider keeps the upload, the model, the button, the
# result and its download within about 1.5 screens (390x844). The examples: every thumbnail
# shown and each
# caption whole (Gradio cuts it to one line); on a phone three columns (Gradio's six, at least
# 100 px each, ran off the right edge: half the examples could not be seen).
CSS = """
#examples .grid-wrap, #examples .fixed-height { max-height: none !important; height: auto !important; }
#examples .caption-label { white-space: normal !important; max-width: calc(100% - 8px) !important;
                           text-overflow: clip !important; overflow-wrap: anywhere; }
@media (max-width: 640px) {
  #slider { height: 280px !important; }
  #examples .grid-container { grid-template-columns: repeat(3, minmax(0, 1fr)) !important; }
}
"""

# The Download button: once the full-resolution file is made, the browser is handed it (a
# file the button already held was saved by the button itself: ``made`` is false).
SAVE_JS = """(f, made) => {
  if (!made || !f || !f.url) return;
  const a = document.createElement('a');
  a.href = f.url; a.download = f.orig_name || 'colorized.png';
  document.body.appendChild(a); a.click(); a.remove();
}"""


def tab() -> Inputs:
    """The tab's components and events (inside ``gr.Blocks``); returns the inputs other tabs share."""
    with gr.Tab("Colorize", id="colorize"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=4, min_width=320):
                image = gr.File(label=f"Photo (any image file up to {MAX_PIXELS // 1_000_000} MP "
                                      f"and {limits.MAX_UPLOAD_TEXT})",
                                file_types=["image"], type="filepath", elem_id="upload", height=110)
                keep = gr.Button("Keep the last photo's hints for this one", visible=False, size="sm",
                                 elem_id="keep-hints")
                space = gr.Radio(SPACE_CHOICES, value="lab", label="Colour space", elem_id="space")
                category = gr.Radio([(CATEGORY_LABELS.get(c, c), c) for c in CATEGORIES], value="general",
                                    label="Trained on", elem_id="category")
                design = gr.Dropdown(design_choices(), value=STANDARD, label="Design",
                                     info="seed designs reproduce published networks; they are automatic-only "
                                          "(no colour hints)", elem_id="design")
                run = gr.Button("Colorize", variant="primary", elem_id="colorize-btn")
                with gr.Accordion("Render settings", open=False, elem_id="settings-box"):
                    render_size = gr.Slider(0, limits.MAX_RENDER, value=0, step=32,
                                            label="Render size: short side the network runs at (0 = the model's own)")
                    saturation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Saturation",
                                           info="1.0 = the model's calibrated colour strength")
            with gr.Column(scale=5, min_width=320):
                slider = gr.ImageSlider(label="Before / after", format="png", type="numpy", height=440,
                                        elem_id="slider", buttons=["fullscreen"])   # the download: below
                status = gr.Markdown(elem_id="colorize-status")
                with gr.Row(equal_height=True):
                    download = gr.DownloadButton("Download PNG", elem_id="download", size="md", scale=1)
                    download_note = gr.Markdown(elem_id="download-note", min_height=40)
                looks = suggested.looks_row()     # under the download: the main flow first (a phone)
                shown = gr.Image(label="Your photo (open the colour hints below, then click it to place one)",
                                 format="png", interactive=False, height=240, elem_id="preview",
                                 buttons=["fullscreen"])
                hints = hints_panel.panel()
                metrics = gr.Dataframe(headers=["metric", "model", "grey input", "better"],
                                       label="Metrics against the reference (colour uploads)", elem_id="metrics")
        ex, labels = examples_list()
        if ex:
            thumbs = gr.Gallery([(p, label) for (p, _), label in zip(ex, labels)],
                                label="Examples (held-out photos): click one to colorize it", columns=6,
                                height="auto", allow_preview=False, object_fit="cover", elem_id="examples")
            thumbs.select(pick_example, None, [image, category, design], api_name=False)
        usable = gr.State(False)     # the photo in the upload box can be read
        carried = gr.State("")       # the last photo's hints, offered for this one
        # the Download button's file was made just now (the browser saves it); not a State: the
        # page's script reads it
        made = gr.Checkbox(False, visible=False, elem_id="download-made")
    hints_json = hints.hints_json
    inputs = Inputs(image, space, category, render_size, saturation, hints_json, design)

    outputs = [slider, download, metrics, status]
    ui_run = {"api_name": False, "show_progress_on": [slider], **INFERENCE}   # a failure: the status line only
    run_in = [usable, *inputs.colorize()]
    # a colorization that follows a change (photo, model, hints kept, look): a change made while
    # the last one waits for the CPU runs once it ends ("always_last"; Gradio's default "once"
    # dropped it, and the page showed the first model's result with the second one ticked)
    rerun = {**ui_run, "trigger_mode": "always_last"}
    shown_run = [*outputs, download_note]     # what a run in the page sets
    # a new photo: read (a bad file changes nothing but the status line), cleaned, colorized
    image.change(load_photo, image, [usable, status, shown], api_name=False, show_progress="hidden", **INFERENCE).then(
        new_photo, [usable, image, hints_json], [hints_json, carried, keep, *outputs, download_note, hints.history],
        api_name=False, show_progress="hidden").then(
        auto_colorize, run_in, shown_run, **rerun)
    keep.click(lambda c: (c, gr.update(visible=False)), carried, [hints_json, keep], api_name=False).then(
        auto_colorize, run_in, shown_run, **rerun)
    hints.wire(image, shown, inputs.run(), slider)
    looks.wire(status, inputs.colorize(), lambda picked: picked.then(   # a look picked: the photo recolorized
        auto_colorize, run_in, shown_run, **rerun))
    # a change of model colorizes again (the menus keep each other consistent first)
    for menu in (space, category):
        menu.input(model_changed, [space, category, design], design, api_name=False, trigger_mode="always_last").then(
            auto_colorize, run_in, shown_run, **rerun)
    design.input(design_changed, design, [space, category], api_name=False, trigger_mode="always_last").then(
        auto_colorize, run_in, shown_run, **rerun)
    run.click(press_colorize, inputs.colorize(), shown_run, **ui_run)
    # one Download button: a large photo's full-resolution PNG is made when it is pressed
    download.click(download_png, [*inputs.colorize(), download], [download, download_note, made], api_name=False,
                   show_progress_on=[download_note], **INFERENCE).then(
        None, [download, made], None, js=SAVE_JS, api_name=False)
    # the API: the same handlers, failures raised as errors (no trigger in the page)
    gr.on([], hints_panel.preview, image, shown, api_name="preview", **INFERENCE)
    gr.on([], colorize, inputs.colorize(), outputs, api_name="colorize", **INFERENCE)
    gr.on([], full_png, inputs.colorize(), download, api_name="full_png", **INFERENCE)
    return inputs
