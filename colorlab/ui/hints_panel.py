"""The Colorize tab's colour hints panel: its widgets, its handlers and their events.

``panel()`` lays the widgets out where it is called (inside the Colorize tab's layout) and
returns a ``HintsPanel``; ``HintsPanel.wire`` connects the events once the rest of the tab
(photo, model choice, settings) exists. The hints live in one place, the JSON textbox (the
CLI's format); every widget edits it through ``colorlab.serving.hint_editor``.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import numpy as np

from ..checkpoints import get_model
from ..hints import MAX_REACH, MIN_REACH, POINT_REACH, from_json
from ..pipeline import accepts_hints, colour_at
from ..serving import hint_editor, uploads
from . import suggested, tint_panel
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


def _fractions(x_px: float, y_px: float, size: tuple[int, int]) -> tuple[float, float]:
    """Pixel (x, y) on a picture of ``size`` = (width, height) as fractions, clamped to [0, 1]."""
    w, h = size
    return min(max(x_px / max(1, w - 1), 0.0), 1.0), min(max(y_px / max(1, h - 1), 0.0), 1.0)


def hit_radius(size: tuple[int, int], scale: float = 1.0) -> float:
    """How near (picture pixels) a click must be to a marker to pick it: the marker, a margin,
    and at least HIT_SCREEN_PX on screen when the picture is shown at ``scale`` (a phone's
    finger, a photo shrunk to fit)."""
    return max(hint_editor.marker_radius(size) + 3, HIT_SCREEN_PX / max(scale, 1e-3))


HIT_SCREEN_PX = 12   # a marker is easy to hit whatever the photo's size on screen


def _selected(hints_json, index: int):
    """(picker colour, "Hint #") showing point ``index`` (0-based) of the hints."""
    return hint_editor.point_colour(hints_json, index), index + 1


@user_errors
@gated
def click_photo(image, evt: gr.SelectData, space="lab", category="general", render_size=0, saturation=1.0,
                hints_json=""):
    """A click on the photo: on a marker it selects that hint (the picker shows its colour);
    elsewhere it places a point hint there, coloured as the model now colours that point.
    Either way the suggested colours at that point are offered beside the picker.
    Returns (hints' JSON, picker colour, hint #, swatches, their colours)."""
    shown = uploads.display_image(read(image).image)     # the clicked picture is the display-size photo
    x, y = _fractions(*evt.index[:2], shown.size)
    near = hint_editor.nearest_point(hints_json, x, y, shown.size, hit_radius(shown.size))
    model = get_model(model_for(space, category))
    settings = run_settings(render_size, saturation, hints_json)
    if near is not None:
        _, px, py, _ = hint_editor.rows(hints_json)[near]
        others = from_json(hint_editor.remove_point(hints_json, near))    # the model's colour without it
        swatches = suggested.colours_here(shown, model, px, py, others, settings.render_size, near + 1)
        return gr.skip(), *_selected(hints_json, near), *swatches
    hints = settings.hints if settings.hints and accepts_hints(model) else None
    n = len(hint_editor.rows(hints_json)) + 1
    swatches = suggested.colours_here(shown, model, x, y, hints, settings.render_size, n)
    # the model's own colour there: the first suggestion, unless the saturation is not the model's own
    colour = swatches[1][0] if swatches[1] and settings.saturation == 1.0 else \
        colour_at(shown, model, x, y, settings.render_size, settings.saturation, hints)
    new = hint_editor.add_point(hints_json, x, y, colour)
    return new, colour, n, *swatches


@user_errors
def select_row(evt: gr.SelectData, hints_json=""):
    """A click on a row of the hints table selects that hint: (picker colour, hint #, swatches,
    their colours)."""
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    n = len(hint_editor.rows(hints_json))
    if not isinstance(row, int) or not 0 <= row < n:
        return (gr.skip(),) * 4
    return *_selected(hints_json, row), *suggested.hidden()


@user_errors
def select_index(index, hints_json=""):
    """A hint number typed into "Hint #": the picker shows that hint's colour."""
    n = len(hint_editor.rows(hints_json))
    i = int(index or 0) - 1
    if not 0 <= i < n:
        raise gr.Error(f"There is no hint #{i + 1}: the hints are numbered 1 to {n}." if n else
                       "There are no point hints yet: click on the photo to place one.", print_exception=False)
    return hint_editor.point_colour(hints_json, i)


def _drag(data) -> tuple[float, float, float, float, tuple[int, int], float]:
    """A drag as the page's script sends it: start and end (picture pixels), the picture's
    natural size and its on-screen scale. ValueError for anything else (a hostile client)."""
    try:
        x0, y0, x1, y1, scale = (float(data[k]) for k in ("x0", "y0", "x1", "y1", "scale"))
        w, h = int(data["w"]), int(data["h"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("a drag must give its start, end, picture size and scale as numbers") from None
    side = uploads.DISPLAY_SIDE
    if not all(np.isfinite([x0, y0, x1, y1, scale])) or not (0 < w <= side and 0 < h <= side):
        raise ValueError("a drag's numbers are out of range")
    return x0, y0, x1, y1, (w, h), min(max(scale, 1e-3), 1.0)


@user_errors
def drag_hint(evt: gr.EventData, hints_json=""):
    """A marker dragged on the photo (the page's script reports the pointer's start and end):
    that hint moves to where it was dropped and is selected. A drag that starts on no marker
    changes nothing. Returns (hints' JSON, picker colour, hint #, swatches, their colours)."""
    x0, y0, x1, y1, size, scale = _drag(evt._data)
    start = _fractions(x0, y0, size)
    i = hint_editor.nearest_point(hints_json, *start, size, hit_radius(size, scale))
    if i is None:
        return (gr.skip(),) * 5
    new = hint_editor.move_point(hints_json, i, *_fractions(x1, y1, size))
    return new, *_selected(new, i), *suggested.hidden()


@user_errors
def recolour_hint(colour, index, hints_json=""):
    """The picker's colour given to the selected hint (the last one when none is selected);
    a clear error when the number names no hint."""
    n, k = len(hint_editor.rows(hints_json)), int(index or 0)
    if not n or not colour:
        return hints_json
    if k > n:
        raise gr.Error(f"There is no hint #{k} to recolour: the hints are numbered 1 to {n}.", print_exception=False)
    return hint_editor.recolour(hints_json, k - 1 if k >= 1 else -1, colour)


@user_errors
def remove_hint(index, hints_json=""):
    """The selected hint removed (a clear error if there is no such hint); the next one, else
    the new last one, is then selected. Returns (hints' JSON, hint #)."""
    k = int(index or 0)
    new = hint_editor.remove_point(hints_json, k - 1)
    return new, min(k, len(hint_editor.rows(new)))


@user_errors
def clear_hints(hints_json=""):
    """Every point hint removed (the tint and reach stay); none selected."""
    return hint_editor.clear_points(hints_json), 0


@user_errors
def set_reach(reach, hints_json=""):
    return hint_editor.set_reach(hints_json, reach)


def _unless(value, shown):
    """``value`` for a control that shows ``shown`` now; no update when they already agree, so
    that a late answer cannot undo an edit made meanwhile (the pickers write back what they show)."""
    same = shown is not None and str(value).lower() == str(shown).lower()
    return gr.skip() if same or value is None else value


def _tint_box(value, on: bool):
    """The tint picker's update: shown when the tint is on; its value only when it changes."""
    return gr.update(visible=on) if value is None or value == gr.skip() else gr.update(value=value, visible=on)


def controls(hints_json="", index=0, colour=None, reach=None, tint_on=None, tint=None):
    """Every control set from the hints' JSON, so that they always agree with it (after any
    edit: typed JSON, a click, undo, a suggested look): (picker colour, hint #, reach, tint on,
    tint picker, tint photo box). ``colour`` .. ``tint``: what the controls show now (None:
    unknown); a control that already agrees is left alone, so that a late answer cannot undo
    an edit made meanwhile. The selection ("Hint #") is the user's: it is never moved here
    (a number that names no hint gets its error when it is used). Unusable JSON changes
    nothing (its error shows when it is used)."""
    try:
        data = from_json(hints_json).to_json()
    except ValueError:
        return (gr.skip(),) * 6
    k = int(index or 0)
    point = hint_editor.point_colour(hints_json, k - 1) if k >= 1 else None
    hue, spread = data.get("tint"), data.get("reach", POINT_REACH)
    same_reach = reach is not None and abs(float(reach) - spread) < 1e-9
    return (_unless(point, colour), gr.skip(), gr.skip() if same_reach else spread,
            _unless(hue is not None, tint_on), _tint_box(_unless(hue, tint), hue is not None),
            gr.update(visible=hue is not None))


def record(history, hints_json=""):
    """The undo history after the hints changed (usable JSON only; undo and redo's own
    changes are already in it, so they leave it as it is)."""
    try:
        from_json(hints_json)
    except ValueError:
        return history if history else hint_editor.history_push(None, "")
    return hint_editor.history_push(history, hints_json)


def after_edit(hints_json="", index=0, colour=None, reach=None, tint_on=None, tint=None, history=None):
    """After any change of the hints' JSON: the controls set from it (``controls``) and the
    history (``record``), in one event."""
    return (*controls(hints_json, index, colour, reach, tint_on, tint), record(history, hints_json))


def undo(history):
    """(history, hints' JSON) one edit back; at the first, unchanged."""
    return hint_editor.history_step(history, -1)


def redo(history):
    """(history, hints' JSON) one undone edit forward; at the last, unchanged."""
    return hint_editor.history_step(history, +1)


def hints_view(image, hints_json=""):
    """Markers on the photo and the table of hints, after any change to the hints."""
    try:
        return preview(image, hints_json) if image else None, hint_editor.rows(hints_json)
    except gr.Error:
        return gr.update(), []


# ---------------------------------------------------------------- layout and events

# Gradio's Image has a click (select) event but no drag: this script, run once when the page
# loads, watches the pointer on the photo (#preview) and reports a drag (pressed, moved more
# than a few pixels, released) to the server through the hidden #hint-drag element's
# "release" event, with the start and end in the picture's own pixels (the same arithmetic as
# Gradio's click coordinates), its natural size and its on-screen scale. The click that ends
# a drag is swallowed, so a drag never also places a hint.
DRAG_JS = """
const s = window.__colorlabDrag = window.__colorlabDrag || {};
s.trigger = trigger;
if (!s.installed) {
  s.installed = true;
  const onPhoto = (e) => e.target instanceof Element && e.target.closest('#preview img');
  const at = (e) => {
    const img = document.querySelector('#preview img');
    if (!img || !img.naturalWidth) return null;
    const r = img.getBoundingClientRect();
    const k = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight, 1);
    return {x: (e.clientX - r.left - (r.width - img.naturalWidth * k) / 2) / k,
            y: (e.clientY - r.top - (r.height - img.naturalHeight * k) / 2) / k,
            w: img.naturalWidth, h: img.naturalHeight, scale: k};
  };
  document.addEventListener('pointerdown', (e) => {
    s.start = (e.button === 0 && onPhoto(e)) ? {p: at(e), cx: e.clientX, cy: e.clientY} : null;
  }, true);
  document.addEventListener('dragstart', (e) => { if (onPhoto(e)) e.preventDefault(); }, true);
  document.addEventListener('pointerup', (e) => {
    const start = s.start;
    s.start = null;
    if (!start || !start.p || Math.hypot(e.clientX - start.cx, e.clientY - start.cy) < 5) return;
    const end = at(e);
    if (!end) return;
    s.swallow = true;
    setTimeout(() => { s.swallow = false; }, 400);
    s.trigger('release', {x0: start.p.x, y0: start.p.y, x1: end.x, y1: end.y,
                          w: start.p.w, h: start.p.h, scale: start.p.scale});
  }, true);
  document.addEventListener('click', (e) => {
    if (s.swallow && e.target instanceof Element && e.target.closest('#preview')) {
      s.swallow = false;
      e.stopPropagation();
      e.preventDefault();
    }
  }, true);
}
"""


@dataclass
class HintsPanel:
    """The hints panel's widgets; ``hints_json`` is the one the other tabs read."""
    hints_json: gr.Textbox
    hint_colour: gr.ColorPicker
    hint_index: gr.Number
    hint_table: gr.Dataframe
    remove_btn: gr.Button
    clear_btn: gr.Button
    undo_btn: gr.Button
    redo_btn: gr.Button
    hint_reach: gr.Slider
    tint_on: gr.Checkbox
    tint_colour: gr.ColorPicker
    tint_photo: gr.File
    tint: tint_panel.TintPanel
    drag: gr.HTML
    history: gr.State
    swatches: suggested.Swatches

    def controls(self) -> list:
        """The widgets ``controls()`` sets from the JSON, in its order."""
        return [self.hint_colour, self.hint_index, self.hint_reach, self.tint_on, self.tint_colour, self.tint_photo]

    def wire(self, image: gr.File, shown: gr.Image, run_inputs: list, result: gr.ImageSlider) -> None:
        """The panel's events: ``image`` is the uploaded photo, ``shown`` the picture clicked on
        to place hints, ``run_inputs`` what a one-model event takes (photo, space, category,
        render size, saturation, hints' JSON), ``result`` the Colorize slider (the tint starts
        at its cast)."""
        h, picked = self.hints_json, [self.hint_colour, self.hint_index]
        # Edits of the JSON text are pure and quick (no gate); what decodes the photo or runs a
        # model is gated. Few events per edit: a page holds one connection per pending stream
        # and the browser allows six per host, so a flood of events stalls the page.
        edit = {"api_name": False}
        shown.select(click_photo, run_inputs, [h, *picked, *self.swatches.outputs()], api_name=False, **INFERENCE)
        # a drag or a table row selects a hint without its suggested colours (a click on its marker shows them)
        self.drag.release(drag_hint, h, [h, *picked, *self.swatches.outputs()], **edit)
        self.hint_table.select(select_row, h, [*picked, *self.swatches.outputs()], **edit)
        self.swatches.wire(h, self.hint_index, self.hint_colour)
        self.hint_index.input(select_index, [self.hint_index, h], self.hint_colour, **edit)
        # The controls write the JSON on the user's own edits only, never on a change: ``after_edit``
        # sets them from the JSON after every change, and with both directions on change a late
        # answer would bounce between them for ever. A picker's edit ends with a release (its
        # colour field dragged) or a blur (a typed hex, the eyedropper: when the user leaves it).
        picker, reach = self.hint_colour, self.hint_reach
        gr.on([picker.release, picker.blur], recolour_hint, [picker, self.hint_index, h], h, **edit)
        self.remove_btn.click(remove_hint, [self.hint_index, h], [h, self.hint_index], **edit)
        self.clear_btn.click(clear_hints, h, [h, self.hint_index], **edit)
        gr.on([reach.input, reach.release], set_reach, [reach, h], h, **edit)
        self.tint.wire(h, result, **edit)      # (its picker, too, writes on release and blur only)
        self.undo_btn.click(undo, self.history, [self.history, h], **edit)
        self.redo_btn.click(redo, self.history, [self.history, h], **edit)
        # every change of the JSON, from any source: markers and table; the controls and the history
        # (no progress overlay: on the photo it would swallow the user's next click)
        h.change(hints_view, [image, h], [shown, self.hint_table], api_name=False, show_progress="hidden")
        shows = [self.hint_index, self.hint_colour, self.hint_reach, self.tint_on, self.tint_colour]
        h.change(after_edit, [h, *shows, self.history], [*self.controls(), self.history],
                 show_progress="hidden", **edit)


def panel() -> HintsPanel:
    """The collapsed "Colour hints" accordion, laid out where it is called; wire it with
    ``HintsPanel.wire`` once the photo and model widgets exist."""
    # outside the (collapsed) accordion, so that its script runs when the page loads
    drag = gr.HTML("", js_on_load=DRAG_JS, visible="hidden", elem_id="hint-drag")
    history = gr.State(None)
    with gr.Accordion("Colour hints (optional)", open=False, elem_id="hints-box"):
        gr.Markdown("Click on the photo where you know a colour: a point hint appears there with the "
                    "model's current colour, and the picker changes it. Click a marker or a row of the "
                    "table to select its hint, drag a marker to move it. Only the hint's chroma is "
                    "used; the lightness always comes from the photo. Hints stay when you switch "
                    "model, space or category, and Compare and Channels use them too. The seed "
                    "designs are automatic-only and ignore them.")
        with gr.Row():
            hint_colour = gr.ColorPicker(value="#808080", label="Colour of hint #", elem_id="hint-colour")
            hint_index = gr.Number(value=0, precision=0, minimum=0, label="Hint #", elem_id="hint-index")
        swatches = suggested.colour_swatches()
        hint_table = gr.Dataframe(headers=hint_editor.TABLE_HEADERS, label="Point hints (click a row to select it)",
                                  interactive=False, elem_id="hint-table")
        with gr.Row():
            remove_btn = gr.Button("Remove hint #", size="sm", elem_id="hint-remove")
            clear_btn = gr.Button("Clear point hints", size="sm", elem_id="hint-clear")
            undo_btn = gr.Button("Undo", size="sm", elem_id="hint-undo")
            redo_btn = gr.Button("Redo", size="sm", elem_id="hint-redo")
        hint_reach = gr.Slider(MIN_REACH, MAX_REACH, value=POINT_REACH, step=0.05, elem_id="hint-reach",
                               label="How far one point's colour reaches",
                               info="a fraction of the photo's short side; beyond it, and on surfaces "
                                    "much lighter or darker than the point, the model's own colour "
                                    "stays. Points close together reach further.")
        tint = tint_panel.panel()
        hints_json = gr.Textbox("", label="Hints as JSON (the CLI's format; editable)", lines=1,
                                elem_id="hints-json")
    return HintsPanel(hints_json, hint_colour, hint_index, hint_table, remove_btn, clear_btn, undo_btn, redo_btn,
                      hint_reach, tint.tint_on, tint.tint_colour, tint.tint_photo, tint, drag, history, swatches)
