"""The hints panel's handlers called directly (fast): a click on a marker selects its hint and
elsewhere places one, a table row selects its hint, a drag moves a marker, undo and redo walk
the history, the controls follow the JSON, and a hint that does not exist is a clear error.
On the tiny checkpoints of ``hint_weights_dir`` (conftest). The browser: tests/test_app_hints.py."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import gradio as gr
import pytest

from colorlab import checkpoints
from colorlab.serving import hint_editor
from colorlab.ui import hints_panel

RED, GREEN, BLUE = "#c03030", "#40a050", "#3050c0"


@pytest.fixture
def upload(photo, tmp_path, hint_weights_dir, monkeypatch):
    """The conftest photo (96x72, shown as is: under the display size) as an uploaded file."""
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", hint_weights_dir)
    monkeypatch.setattr(hints_panel, "scratch_dir", lambda: Path(tempfile.mkdtemp(dir=tmp_path)))
    path = tmp_path / "upload.png"
    photo.save(path)
    return str(path)


def two_points() -> str:
    return json.dumps({"points": [[0.25, 0.25, RED], [0.75, 0.75, GREEN]]})


def click(x, y) -> gr.SelectData:
    return gr.SelectData(None, {"index": [x, y], "value": None})


def test_a_click_on_a_marker_selects_its_hint_and_elsewhere_places_one(upload):
    text = two_points()
    # (0.75, 0.75) of 96x72 is pixel (71.25, 53.25): a click 2 px off the marker picks hint #2
    new, colour, index, swatches, colours = hints_panel.click_photo(upload, click(73, 52), "lab", "faces", 0, 1.0,
                                                                    text)
    assert new == gr.skip()   # the hints themselves are unchanged
    assert (colour, index) == (GREEN, 2)
    assert swatches["visible"] and "hint #2" in swatches["label"] and len(colours) > 1   # its suggested colours
    # far from both markers: a third hint, selected, with the model's colour there (the first suggestion)
    new, colour, index, swatches, colours = hints_panel.click_photo(upload, click(10, 60), "lab", "faces", 0, 1.0,
                                                                    text)
    assert index == 3 and len(hint_editor.rows(new)) == 3 and hint_editor.point_colour(new, 2) == colour
    assert colours[0] == colour and "hint #3" in swatches["label"]


def test_a_table_row_or_a_typed_number_selects_that_hint():
    text = two_points()
    assert hints_panel.select_row(gr.SelectData(None, {"index": [0, 3], "value": RED}), text)[:2] == (RED, 1)
    assert hints_panel.select_index(2, text) == GREEN
    with pytest.raises(gr.Error, match="no hint #3: the hints are numbered 1 to 2"):
        hints_panel.select_index(3, text)


def test_the_picker_recolours_the_selected_hint_only():
    new = hints_panel.recolour_hint(BLUE, 1, two_points())
    assert [r[3] for r in hint_editor.rows(new)] == [BLUE, GREEN]


def test_a_drag_moves_the_marker_it_starts_on():
    text = two_points()
    drag = {"x0": 24.0, "y0": 18.0, "x1": 48.0, "y1": 36.0, "w": 96, "h": 72, "scale": 1.0}   # from hint #1
    new, colour, index, swatches, _ = hints_panel.drag_hint(gr.EventData(None, drag), text)
    x, y, c = json.loads(new)["points"][0]
    assert (round(x, 2), round(y, 2), c) == (0.51, 0.51, RED) and (colour, index) == (RED, 1)
    assert json.loads(new)["points"][1] == [0.75, 0.75, GREEN]
    # a drag from an empty place moves nothing
    empty = dict(drag, x0=5.0, y0=60.0)
    assert hints_panel.drag_hint(gr.EventData(None, empty), text) == (gr.skip(),) * 5


@pytest.mark.parametrize("bad", [{}, {"x0": "a", "y0": 1, "x1": 1, "y1": 1, "w": 9, "h": 9, "scale": 1},
                                 {"x0": float("nan"), "y0": 1, "x1": 1, "y1": 1, "w": 9, "h": 9, "scale": 1},
                                 {"x0": 1, "y0": 1, "x1": 1, "y1": 1, "w": 10 ** 9, "h": 9, "scale": 1}])
def test_a_forged_drag_is_a_clear_error(bad):
    with pytest.raises(gr.Error, match="drag"):
        hints_panel.drag_hint(gr.EventData(None, bad), two_points())


def test_undo_and_redo_walk_the_edits():
    history = hints_panel.record(None, "")
    first = hint_editor.add_point("", 0.5, 0.5, RED)
    history = hints_panel.record(history, first)
    moved = hint_editor.move_point(first, 0, 0.1, 0.2)
    history = hints_panel.record(history, moved)
    history = hints_panel.record(history, "{not json")          # half-typed JSON: not an edit
    history, text = hints_panel.undo(history)
    assert text == first
    history = hints_panel.record(history, text)                  # undo's own change leaves the history
    history, text = hints_panel.undo(history)
    assert text == ""
    history, text = hints_panel.redo(history)
    history, text = hints_panel.redo(history)
    assert text == moved


def test_the_controls_follow_the_json():
    text = json.dumps({"points": [[0.2, 0.3, RED], [0.6, 0.6, GREEN]], "tint": "#a08070", "reach": 0.3})
    colour, index, reach, tint_on, tint, photo_box = hints_panel.controls(text, 1)
    assert (colour, index, reach, tint_on) == (RED, gr.skip(), 0.3, True)      # the selection is the user's
    assert tint["value"] == "#a08070" and tint["visible"] and photo_box["visible"]
    # no tint: the tint is off and hidden; a selected number that names no hint leaves the picker alone
    colour, _, reach, tint_on, tint, _ = hints_panel.controls(json.dumps({"points": [[0.2, 0.3, BLUE]]}), 2)
    assert (colour, reach, tint_on, tint["visible"]) == (gr.skip(), hints_panel.POINT_REACH, False, False)
    assert hints_panel.controls("{half typed", 1) == (gr.skip(),) * 6
    # controls that already agree are left alone: a late answer cannot undo an edit made meanwhile
    colour, index, reach, tint_on, tint, _ = hints_panel.controls(text, 1, RED.upper(), 0.3, True, "#a08070")
    assert (colour, index, reach, tint_on) == (gr.skip(),) * 4 and tint == gr.update(visible=True)


def test_removing_a_hint_selects_the_next_and_one_that_does_not_exist_says_so():
    new, index = hints_panel.remove_hint(1, two_points())
    assert [r[3] for r in hint_editor.rows(new)] == [GREEN] and index == 1
    assert hints_panel.remove_hint(1, new) == ("", 0)
    with pytest.raises(gr.Error, match="no hint #5: the hints are numbered 1 to 2"):
        hints_panel.remove_hint(5, two_points())
    with pytest.raises(gr.Error, match="no point hints to remove"):
        hints_panel.remove_hint(1, "")
