"""Suggested looks in the app (``colorlab.suggestions``): under the Colorize result a row of
thumbnails, each the photo with one plausible overall cast; a click makes that cast the
tint. And, beside the hint picker, the colours the suggestions give the selected point.

Both run inside the CPU gate like every inference, on the display-size photo (at most
``uploads.DISPLAY_SIDE`` px on its long side: the network runs at its own render size anyway),
so their memory is bounded whatever was uploaded (``colorlab.serving.limits``: SUGGEST_*).
A look's tint goes into the hints' JSON like any tint: the hints panel shows it (tint on, its
colour), it stays editable and it is kept across model switches.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from PIL import Image

from ..checkpoints import CheckpointError, get_model
from ..pipeline import accepts_hints
from ..serving import hint_editor, runs, uploads
from ..serving.limits import SUGGEST_COLOURS, SUGGEST_LOOKS, SUGGEST_THUMB
from ..serving.runs import STANDARD
from ..suggestions import suggest, suggest_colours
from .common import INFERENCE, gated, png, read, scratch_dir, stem, user_errors

SWATCH = 40   # px: one suggested colour's square

# The suggested colours fill the panel's width and wrap onto more rows when it is narrow: Gradio
# gives each cell at least 100 px in a fixed-height, sideways-scrolling strip, so at 1440x900
# the sixth ran 9 px past the panel's edge (six cells and gaps, 640 px, in 623) and on a phone
# half of them were out of view. Captions wrap instead of ending in "...".
CSS = """
#hint-swatches, #hint-swatches .gallery-container, #hint-swatches .grid-wrap, #hint-swatches .fixed-height {
  max-height: none !important; height: auto !important; min-height: 0 !important; }
#hint-swatches .grid-container { grid-template-columns: repeat(auto-fill, minmax(88px, 1fr)) !important; }
#hint-swatches .caption-label { white-space: normal !important; max-width: calc(100% - 8px) !important;
                                text-overflow: clip !important; overflow-wrap: anywhere; }
"""

# ---------------------------------------------------------------- looks


def looks_key(image, name: str, render_size) -> str:
    """What a row of looks depends on: the photo, the model and its render size (not the hints:
    the looks are the model's casts for the photo without them)."""
    return f"{image}|{name}|{int(render_size or 0)}"


def _caption(s) -> str:
    return f"{s.rank} · model's own" if s.source == "model" else f"{s.rank} · {s.weight:.0%} similar"


def _no_looks(note: str, key: str = ""):
    return gr.update(value=None, visible=False), note, [], key


@user_errors
@gated
def make_looks(image, space="lab", category="general", render_size=0, design=STANDARD, result="", key=""):
    """The looks for the current photo and model (``design``: a seed design, or ``STANDARD``),
    once a colorization is shown (``result``: its status line, empty while there is none).
    Returns (gallery, note, [tint, ...], key); unchanged when they were already made for this
    photo, model and render size, or when the last run failed (its status says so)."""
    if str(result or "").startswith("⚠"):      # a failed run keeps the last result, and its looks
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    if not image or not result:
        return _no_looks("")
    name = runs.choose_design(str(space), str(category), design)[0].name   # (Colorize tells any fallback)
    k = looks_key(image, name, render_size)
    if k == key:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    model = get_model(name)
    if not accepts_hints(model):
        return _no_looks(f"**Suggested looks:** none for **{name}**, an automatic-only model (a seed design): "
                         "it takes no tint. Choose the standard design to get them.", k)
    shown = uploads.display_image(read(image).image)     # the network runs at its own size: enough
    try:
        looks = suggest(shown, model, SUGGEST_LOOKS, render_size=int(render_size or 0) or None, size=SUGGEST_THUMB)
    except CheckpointError as exc:     # no (or a damaged) suggestion index for this category
        return _no_looks(f"**Suggested looks:** not available for **{name}** ({exc}).", k)
    out = scratch_dir()
    items = [(png(s.image, out, f"{stem(image)}-look{s.rank}.png"), _caption(s)) for s in looks]
    return (gr.update(value=items, visible=True),
            "**Suggested looks** (best first): click one to use its colour cast as the overall tint; "
            "it then shows under *Colour hints*, where it can be changed.", [s.tint for s in looks], k)


@user_errors
def pick_look(evt: gr.SelectData, tints, hints_json=""):
    """A click on look N: its cast becomes the tint in the hints' JSON (the panel follows)."""
    i = evt.index if isinstance(evt.index, int) else -1
    if not tints or not 0 <= i < len(tints):
        raise gr.Error("That look is gone: colorize the photo again for fresh suggestions.", print_exception=False)
    return hint_editor.set_tint(hints_json, tints[i])


@dataclass
class Looks:
    """The row of suggested looks under the result."""
    gallery: gr.Gallery
    note: gr.Markdown
    tints: gr.State
    key: gr.State

    def wire(self, result: gr.Markdown, colorize_inputs: list, rerun) -> None:
        """``result``: the component that changes with each colorization shown (empty while
        there is none); ``colorize_inputs``: photo, space, category, render size, saturation,
        hints' JSON, design; ``rerun(dependency)`` chains the recolorization after a look is picked."""
        image, space, category, render_size, _, hints_json, design = colorize_inputs
        result.change(make_looks, [image, space, category, render_size, design, result, self.key],
                      [self.gallery, self.note, self.tints, self.key], api_name=False, show_progress="minimal",
                      **INFERENCE)
        rerun(self.gallery.select(pick_look, [self.tints, hints_json], hints_json, api_name=False))


def looks_row() -> Looks:
    """The "Suggested looks" row, laid out where it is called (under the result)."""
    note = gr.Markdown("", elem_id="looks-note")
    gallery = gr.Gallery(label="Suggested looks", columns=SUGGEST_LOOKS, rows=1, height=200,
                         allow_preview=False, object_fit="contain", visible=False, elem_id="looks")
    return Looks(gallery, note, gr.State([]), gr.State(""))


# ---------------------------------------------------------------- colours at a point

def hidden():
    """The swatches hidden, with no colours (no hint selected, or an automatic-only model)."""
    return gr.update(value=None, visible=False), []


def colours_here(shown, model, x: float, y: float, hints=None, render_size=None, number: int = 0):
    """The likely colours at (x, y) of the display-size photo ``shown`` for hint #``number``:
    first the model's own there (given ``hints``, the other hints), then what each suggested
    look gives it. Returns (swatches, [colour, ...]); hidden for an automatic-only model.
    Called inside the CPU gate (by the hints panel's click on the photo)."""
    if not accepts_hints(model):
        return hidden()
    try:
        colours = suggest_colours(shown, model, x, y, SUGGEST_COLOURS, hints=hints or None, render_size=render_size)
    except CheckpointError:     # no suggestion index: no colours to offer
        return hidden()
    out = scratch_dir()
    items = [(png(Image.new("RGB", (SWATCH, SWATCH), c.colour), out, f"colour{n}.png"),
              "the model's" if c.source == "model" else c.source) for n, c in enumerate(colours)]
    return (gr.update(value=items, visible=True, label=f"Suggested colours for hint #{number} (click one)"),
            [c.colour for c in colours])


@user_errors
def pick_colour(evt: gr.SelectData, colours, index, hints_json=""):
    """A suggested colour clicked: the selected hint takes it. Returns (hints' JSON, picker)."""
    i, n = int(index or 0) - 1, len(hint_editor.rows(hints_json))
    k = evt.index if isinstance(evt.index, int) else -1
    if not 0 <= i < n or not colours or not 0 <= k < len(colours):
        raise gr.Error("Select a hint first (click its marker), then pick one of its suggested colours.",
                       print_exception=False)
    return hint_editor.recolour(hints_json, i, colours[k]), colours[k]


@dataclass
class Swatches:
    """The suggested colours at the selected hint, beside the hint picker (set by the hints
    panel's click on the photo, in the same event)."""
    gallery: gr.Gallery
    colours: gr.State

    def outputs(self) -> list:
        return [self.gallery, self.colours]

    def wire(self, hints_json: gr.Textbox, index: gr.Number, picker: gr.ColorPicker) -> None:
        self.gallery.select(pick_colour, [self.colours, index, hints_json], [hints_json, picker], api_name=False)


def colour_swatches() -> Swatches:
    """The swatches row, laid out where it is called (under the hint picker); hidden until a
    hint is placed or selected."""
    gallery = gr.Gallery(label="Suggested colours for this hint (click one)", columns=SUGGEST_COLOURS, rows=1,
                         height=110, allow_preview=False, object_fit="contain", visible=False,
                         elem_id="hint-swatches")
    return Swatches(gallery, gr.State([]))
