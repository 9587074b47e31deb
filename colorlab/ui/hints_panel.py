"""The Colorize tab's colour hints panel: its widgets, its handlers and their events.

``panel()`` lays the widgets out where it is called (inside the Colorize tab's layout) and
returns a ``HintsPanel``; ``HintsPanel.wire`` connects the events once the rest of the tab
(photo, model choice, settings) exists. The hints live in one place, the JSON textbox (the
CLI's format); every widget edits it through ``colorlab.serving.hint_editor``.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..checkpoints import get_model
from ..hints import MIN_REACH, POINT_REACH
from ..pipeline import accepts_hints, colour_at
from ..serving import hint_editor, uploads
from . import tint_panel
from .common import INFERENCE, gated, model_for, png, read, run_settings, scratch_dir, stem, user_errors

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


def hints_view(image, hints_json=""):
    """Markers on the photo and the table of hints, after any change to the hints."""
    try:
        return preview(image, hints_json) if image else None, hint_editor.rows(hints_json)
    except gr.Error:
        return gr.update(), []


# ---------------------------------------------------------------- layout and events

@dataclass
class HintsPanel:
    """The hints panel's widgets; ``hints_json`` is the one the other tabs read."""
    hints_json: gr.Textbox
    hint_colour: gr.ColorPicker
    hint_index: gr.Number
    hint_table: gr.Dataframe
    remove_btn: gr.Button
    clear_btn: gr.Button
    hint_reach: gr.Slider
    tint_on: gr.Checkbox
    tint_colour: gr.ColorPicker
    tint_photo: gr.File
    tint: tint_panel.TintPanel

    def wire(self, image: gr.File, shown: gr.Image, run_inputs: list, result: gr.ImageSlider) -> None:
        """The panel's events: ``image`` is the uploaded photo, ``shown`` the picture clicked on
        to place hints, ``run_inputs`` what a one-model event takes (photo, space, category,
        render size, saturation, hints' JSON), ``result`` the Colorize slider (the tint starts
        at its cast)."""
        h = self.hints_json
        shown.select(add_hint, run_inputs, [h, self.hint_colour, self.hint_index], api_name=False, **INFERENCE)
        self.hint_colour.change(recolour_hint, [self.hint_colour, self.hint_index, h], h, api_name=False)
        self.remove_btn.click(remove_hint, [self.hint_index, h], h, api_name=False)
        self.clear_btn.click(clear_hints, h, h, api_name=False)
        self.hint_reach.change(set_reach, [self.hint_reach, h], h, api_name=False)
        self.tint.wire(h, result, api_name=False)
        h.change(hints_view, [image, h], [shown, self.hint_table], api_name=False)


def panel() -> HintsPanel:
    """The collapsed "Colour hints" accordion, laid out where it is called; wire it with
    ``HintsPanel.wire`` once the photo and model widgets exist."""
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
        tint = tint_panel.panel()
        hints_json = gr.Textbox("", label="Hints as JSON (the CLI's format; editable)", lines=1,
                                elem_id="hints-json")
    return HintsPanel(hints_json, hint_colour, hint_index, hint_table, remove_btn, clear_btn, hint_reach,
                      tint.tint_on, tint.tint_colour, tint.tint_photo, tint)
