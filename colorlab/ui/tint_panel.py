"""The overall tint, inside the hints panel: on or off, its picker and strength, and a tint
taken from a colour photo, shown before it is applied.

Turned on, the tint starts at the current result's own cast, so nothing moves until the picker
or the strength does. The picker shows the applied tint, as the hints' JSON holds it (the hints
panel keeps the picker in step with the JSON); the strength (0-1) says how far it goes from the
result's cast towards the colour last chosen (with the picker, from a photo, or typed into the
JSON: a typed tint counts as chosen at strength 1). A photo's tint is cut to a plausible chroma
and shown on a small copy of the result, with an *Apply* button. The numbers are
``colorlab.serving.tint``'s; this module only wires them.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..hints import from_json
from ..serving import hint_editor, limits
from ..serving import tint as tints
from .common import INFERENCE, gated, png, scratch_dir, user_errors


def _after(result):
    """The result's "after" image from the Colorize slider's value ((before, after), numpy), or None."""
    if not result or len(result) < 2 or result[1] is None:
        return None
    return result[1]


@user_errors
def toggle(on, result, picked, hints_json=""):
    """The tint on: at the current result's cast (or the picker's colour before any result);
    off: removed. -> (hints' JSON, picker, strength, photo box, cast, chosen)."""
    if not on:
        hidden = gr.update(visible=False)
        return hint_editor.set_tint(hints_json, None), hidden, hidden, hidden, gr.skip(), gr.skip()
    after = _after(result)
    cast = tints.cast_of(after) if after is not None else None
    start = cast or picked
    shown = gr.update(visible=True)
    return (hint_editor.set_tint(hints_json, start), gr.update(value=start, visible=True), shown, shown, cast, start)


@user_errors
def pick(picked, strength, cast, on, hints_json=""):
    """The picker moved: that colour is the one chosen; the applied tint goes ``strength`` of the
    way to it from the cast. -> (hints' JSON, chosen)."""
    if not on:
        return gr.skip(), gr.skip()
    return hint_editor.set_tint(hints_json, tints.applied(cast, picked, strength)), picked


@user_errors
def strengthen(strength, cast, chosen, on, hints_json=""):
    """The strength moved: the applied tint between the cast (0) and the colour chosen (1)."""
    if not on or not chosen:
        return gr.skip()
    return hint_editor.set_tint(hints_json, tints.applied(cast, chosen, strength))


def follow(hints_json, cast, chosen, strength):
    """The hints' JSON changed: a tint that the chosen colour and strength do not make (typed,
    undone, from a suggested look) becomes the chosen one at strength 1; the strength is shown
    while there is a tint. -> (chosen, strength)."""
    try:
        tint = from_json(hints_json).to_json().get("tint")
    except ValueError:
        return gr.skip(), gr.skip()
    if tint is None:
        return gr.skip(), gr.update(visible=False)
    now = tints.controls_for(tint, cast, chosen, strength if strength is not None else 1.0)
    if now is None:
        return gr.skip(), gr.update(visible=True)
    return now[0], gr.update(value=now[1], visible=True)


@user_errors
@gated
def from_photo(photo, result):
    """A colour photo's tint (cut to a plausible chroma), shown on a small copy of the result
    before it is applied. -> (waiting tint, note, preview, the offer's row shown)."""
    if not photo:
        return None, "", None, gr.update(visible=False)
    taken = tints.photo_tint(photo)
    after = _after(result)
    shown = None if after is None else png(tints.preview(after, taken.colour), scratch_dir(), "tint-preview.png")
    note = taken.note() + (" Below: the result with it (an estimate)." if shown else "") + \
        " *Apply this tint* uses it."
    return taken.colour, note, shown, gr.update(visible=True)


@user_errors
def apply(waiting, hints_json=""):
    """The photo's tint applied: the tint on, at that colour, strength 1.
    -> (hints' JSON, on, picker, strength, chosen, offer's row hidden)."""
    if not waiting:
        return (gr.skip(),) * 5 + (gr.update(visible=False),)
    return (hint_editor.set_tint(hints_json, waiting), True, gr.update(value=waiting, visible=True),
            gr.update(value=1.0, visible=True), waiting, gr.update(visible=False))


@dataclass
class TintPanel:
    """The tint's widgets; ``tint_colour`` shows the applied tint (the JSON's)."""
    tint_on: gr.Checkbox
    tint_colour: gr.ColorPicker
    tint_strength: gr.Slider
    tint_photo: gr.File
    offer: gr.Row
    note: gr.Markdown
    preview: gr.Image
    apply_btn: gr.Button
    cast: gr.State        # the result's own cast when the tint was turned on
    chosen: gr.State      # the colour the strength moves towards
    waiting: gr.State     # a photo's tint, not applied yet

    def wire(self, hints_json: gr.Textbox, result: gr.ImageSlider, **edit) -> None:
        """The tint's events; ``result`` is the Colorize slider (its "after" gives the cast);
        ``edit``: the hints panel's event options."""
        h = hints_json
        self.tint_on.input(toggle, [self.tint_on, result, self.tint_colour, h],
                           [h, self.tint_colour, self.tint_strength, self.tint_photo, self.cast, self.chosen], **edit)
        gr.on([self.tint_colour.release, self.tint_colour.blur], pick,
              [self.tint_colour, self.tint_strength, self.cast, self.tint_on, h], [h, self.chosen], **edit)
        self.tint_strength.release(strengthen, [self.tint_strength, self.cast, self.chosen, self.tint_on, h], h,
                                   **edit)
        h.change(follow, [h, self.cast, self.chosen, self.tint_strength], [self.chosen, self.tint_strength], **edit)
        self.tint_photo.upload(from_photo, [self.tint_photo, result],    # decoded in the CPU gate: a job
                               [self.waiting, self.note, self.preview, self.offer], **edit, **INFERENCE)
        self.apply_btn.click(apply, [self.waiting, h], [h, self.tint_on, self.tint_colour, self.tint_strength,
                                                        self.chosen, self.offer], **edit)


def panel() -> TintPanel:
    """The tint's widgets, laid out where it is called (inside the hints panel)."""
    tint_on = gr.Checkbox(False, label="Overall tint (the intended mean colour cast; starts at the result's own)",
                          elem_id="tint-on")
    with gr.Row():
        tint_colour = gr.ColorPicker(value="#808080", label="Tint (as applied)", visible=False, elem_id="tint-colour")
        tint_strength = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Strength", visible=False,
                                  info="0: the result's own cast; 1: the colour chosen", elem_id="tint-strength")
    tint_photo = gr.File(label="…or take the tint from a colour photo of a similar scene "
                               f"(up to {limits.MAX_UPLOAD_TEXT})",
                         file_types=["image"], type="filepath", visible=False, elem_id="tint-photo")
    with gr.Row(visible=False, elem_id="tint-offer") as offer:
        preview = gr.Image(label="The result with this tint", format="png", interactive=False, height=140,
                           buttons=[], elem_id="tint-preview")
        with gr.Column():
            note = gr.Markdown(elem_id="tint-note")
            apply_btn = gr.Button("Apply this tint", size="sm", elem_id="tint-apply")
    return TintPanel(tint_on, tint_colour, tint_strength, tint_photo, offer, note, preview, apply_btn,
                     gr.State(None), gr.State(None), gr.State(None))


__all__ = ["TintPanel", "apply", "follow", "from_photo", "panel", "pick", "strengthen", "toggle"]
