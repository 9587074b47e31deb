"""Suggested looks in the app, the handlers called directly (fast): the looks row for a photo,
none (and why) for an automatic-only model, a look's click sets the tint the hints panel then
shows, the colours at a point start with the model's own and recolour the selected hint, and
both work on the display-size photo whatever was uploaded. On the tiny hint-aware checkpoints
of ``hint_weights_dir`` (conftest) with the shipped faces suggestion index. The browser:
tests/test_app_hints.py."""
from __future__ import annotations

import json

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from colorlab import checkpoints, suggestions
from colorlab.checkpoints import get_model
from colorlab.hints import from_json
from colorlab.pipeline import colour_at
from colorlab.serving import hint_editor, uploads
from colorlab.serving.limits import SUGGEST_COLOURS, SUGGEST_LOOKS
from colorlab.ui import hints_panel, suggested


@pytest.fixture
def app(ui_app):
    return ui_app


def pick(i) -> gr.SelectData:
    return gr.SelectData(None, {"index": i, "value": None})


def test_the_looks_row_shows_k_looks_once_per_photo_and_model(app, upload):
    gallery, note, tints, key = suggested.make_looks(upload, "lab", "faces", 0, "standard", "**lab-faces** · 96x72", "")
    assert gallery["visible"] and len(gallery["value"]) == len(tints) == SUGGEST_LOOKS
    assert len(set(tints)) == SUGGEST_LOOKS and all(t.startswith("#") for t in tints)
    assert "model's own" in gallery["value"][0][1] and "similar" in gallery["value"][1][1] and "click one" in note
    assert Image.open(gallery["value"][0][0]).size == (96, 72)          # under the thumbnail size: as is
    # the same photo and model again (a recolorization after a look was picked): nothing to redo
    assert suggested.make_looks(upload, "lab", "faces", 0, "standard", "**lab-faces** · again", key) == (gr.skip(),) * 4
    # no result shown (a new photo cleared it): no looks
    gallery, note, tints, _ = suggested.make_looks(upload, "lab", "faces", 0, "standard", "", key)
    assert not gallery["visible"] and tints == [] and note == ""
    # a failed run (its status starts with a warning) keeps the last result, and its looks
    assert suggested.make_looks(upload, "lab", "faces", 0, "standard", "⚠ **not a photo**", key) == (gr.skip(),) * 4


def test_an_automatic_only_model_gets_a_note_instead_of_looks(app, upload, monkeypatch):
    seed = next(m for m in checkpoints.list_checkpoints() if m.name == "lab-general-cunet")
    monkeypatch.setattr(suggested.runs, "choose_design", lambda space, category, design: (seed, ""))
    gallery, note, tints, _ = suggested.make_looks(upload, "lab", "general", 0, "standard", "a result", "")
    assert not gallery["visible"] and tints == []
    assert "lab-general-cunet" in note and "automatic-only" in note
    model = get_model("lab-general-cunet")
    assert suggested.colours_here(Image.open(upload), model, 0.5, 0.5)[1] == []       # no colours either


def test_a_picked_look_becomes_the_tint_the_panel_shows(app, upload):
    _, _, tints, _ = suggested.make_looks(upload, "lab", "faces", 0, "standard", "a result", "")
    text = suggested.pick_look(pick(1), tints, json.dumps({"points": [[0.5, 0.5, "#40a050"]]}))
    data = json.loads(text)
    assert data["tint"] == tints[1] and data["points"] == [[0.5, 0.5, "#40a050"]]   # the points are kept
    _, _, _, tint_on, tint, _ = hints_panel.controls(text, 1)
    assert tint_on and tint["value"] == tints[1] and tint["visible"]
    with pytest.raises(gr.Error, match="look is gone"):
        suggested.pick_look(pick(7), tints, text)


def test_the_colours_at_a_point_start_with_the_models_own_and_recolour_the_hint(app, upload):
    text = json.dumps({"points": [[0.2, 0.3, "#c03030"], [0.6, 0.5, "#40a050"]]})
    # a click on marker #2 (pixel 0.6 * 95, 0.5 * 71 of the 96x72 photo) selects it and offers its colours
    at_marker = gr.SelectData(None, {"index": [57, 36], "value": None})
    _, picker, index, gallery, colours = hints_panel.click_photo(upload, at_marker, "lab", "faces", 0, 1.0, text)
    assert (picker, index) == ("#40a050", 2)
    assert gallery["visible"] and len(colours) == len(gallery["value"]) == SUGGEST_COLOURS
    assert "hint #2" in gallery["label"] and gallery["value"][0][1] == "the model's"
    # the model's own colour there, given the other hints (not the point's own)
    others = from_json(hint_editor.remove_point(text, 1))
    shown = uploads.display_image(Image.open(upload))
    assert colours[0] == colour_at(shown, get_model("lab-faces"), 0.6, 0.5, hints=others)
    new, picker = suggested.pick_colour(pick(3), colours, 2, text)
    assert hint_editor.point_colour(new, 1) == picker == colours[3] and hint_editor.point_colour(new, 0) == "#c03030"
    with pytest.raises(gr.Error, match="Select a hint first"):
        suggested.pick_colour(pick(0), colours, 0, text)


def test_suggestions_work_on_the_display_size_photo(app, tmp_path, monkeypatch):
    """Memory: a 2400x1800 upload reaches the suggestions at the display size, not in full."""
    big = tmp_path / "big.png"
    y, x = np.mgrid[0:1800, 0:2400]
    Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)).save(big)
    seen = []

    def spy(real):
        def call(image, *args, **kwargs):
            seen.append(image.size)
            return real(image, *args, **kwargs)
        return call
    monkeypatch.setattr(suggested, "suggest", spy(suggestions.suggest))
    monkeypatch.setattr(suggested, "suggest_colours", spy(suggestions.suggest_colours))
    gallery, _, _, _ = suggested.make_looks(str(big), "lab", "faces", 0, "standard", "a result", "")
    hints_panel.click_photo(str(big), gr.SelectData(None, {"index": [100, 100], "value": None}), "lab", "faces", 0,
                            1.0, "")
    side = uploads.DISPLAY_SIDE
    assert seen == [(side, side * 3 // 4)] * 2
    assert max(Image.open(gallery["value"][0][0]).size) == suggested.SUGGEST_THUMB
