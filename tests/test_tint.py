"""The overall tint's controls (colorlab.serving.tint and the hints panel's tint, colorlab.ui.tint_panel),
fast: it starts at the result's own cast (so turning it on moves nothing), a strength in [0, 1]
from that cast to the colour chosen, a typed tint followed by the controls, and a tint taken from a
vivid photo cut to a plausible chroma and shown before it is applied."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorlab import checkpoints
from colorlab.hints import ab_to_hex, chroma_of, colour_to_ab
from colorlab.hints.spec import MAX_TINT_CHROMA
from colorlab.serving import tint as tints
from colorlab.ui import colorize as colorize_tab
from colorlab.ui import tint_panel

BLUE = "#2060c0"


def ab(colour) -> np.ndarray:
    return np.array(colour_to_ab(colour))


def tint_in(hints_json):
    return json.loads(hints_json).get("tint") if hints_json else None


def is_skip(x) -> bool:
    return isinstance(x, dict) and x.get("__type__") == "update" and len(x) == 1


@pytest.fixture
def result():
    """What the Colorize slider hands a handler: (before, after) uint8 arrays; after is warm."""
    after = np.zeros((60, 80, 3), np.uint8)
    after[:] = (200, 120, 60)
    after[20:40] = (150, 100, 70)
    return np.repeat(after.mean(2, keepdims=True).astype(np.uint8), 3, 2), after


def test_the_cast_is_the_results_mean_a_b(result):
    from skimage.color import rgb2lab
    want = rgb2lab(result[1]).reshape(-1, 3)[:, 1:].mean(0)
    assert np.abs(ab(tints.cast_of(result[1])) - want).max() < 1.0


def test_strength_goes_from_the_cast_to_the_chosen_colour():
    cast = "#c8783c"
    for s in (0.0, 0.3, 1.0):
        want = ab(cast) + s * (ab(BLUE) - ab(cast))
        assert np.abs(ab(tints.applied(cast, BLUE, s)) - want).max() < 1.0
    with pytest.raises(ValueError):
        tints.applied(cast, BLUE, 1.5)


def test_turned_on_the_tint_starts_at_the_results_cast_and_off_it_is_gone(result):
    hints_json, picker, strength, photo, cast, chosen = tint_panel.toggle(True, result, "#808080", "")
    assert tints.same_tint(tint_in(hints_json), tints.cast_of(result[1]))
    assert picker["value"] == cast == chosen == tint_in(hints_json) and picker["visible"] and strength["visible"]
    # no result yet: the picker's colour
    assert tint_in(tint_panel.toggle(True, None, BLUE, "")[0]) == BLUE
    off = tint_panel.toggle(False, result, BLUE, hints_json)
    assert off[0] == "" and off[1]["visible"] is False


def test_the_picker_and_the_strength_set_the_applied_tint(result):
    hints_json, _, _, _, cast, _ = tint_panel.toggle(True, result, "#808080", "")
    hints_json, chosen = tint_panel.pick(BLUE, 0.5, cast, True, hints_json)
    assert chosen == BLUE and tints.same_tint(tint_in(hints_json), tints.applied(cast, BLUE, 0.5))
    assert not tints.same_tint(tint_in(hints_json), BLUE)
    # the controls already make this tint: they stay as they are
    chosen_now, strength_now = tint_panel.follow(hints_json, cast, chosen, 0.5)
    assert is_skip(chosen_now) and strength_now["visible"] is True and "value" not in strength_now
    assert tints.same_tint(tint_in(tint_panel.strengthen(0.0, cast, chosen, True, hints_json)), cast)
    assert tints.same_tint(tint_in(tint_panel.strengthen(1.0, cast, chosen, True, hints_json)), BLUE)
    assert is_skip(tint_panel.strengthen(1.0, cast, chosen, False, hints_json))      # tint off: nothing


def test_a_tint_typed_into_the_json_is_shown_as_chosen_at_strength_1(result):
    cast = tints.cast_of(result[1])
    chosen, strength = tint_panel.follow('{"tint": "#40a050"}', cast, BLUE, 0.5)
    assert chosen == "#40a050" and strength["value"] == 1.0
    assert tint_panel.follow("", cast, BLUE, 0.5)[1]["visible"] is False
    assert all(is_skip(x) for x in tint_panel.follow("{not json", cast, BLUE, 0.5))


def test_a_vivid_photos_tint_is_cut_and_shown_before_it_is_applied(result, tmp_path, monkeypatch):
    monkeypatch.setattr(tint_panel, "scratch_dir", lambda: Path(tempfile.mkdtemp(dir=tmp_path)))
    vivid = tmp_path / "green.png"
    Image.new("RGB", (64, 48), (20, 220, 40)).save(vivid)
    waiting, note, preview, offer = tint_panel.from_photo(str(vivid), result)
    assert chroma_of(waiting) == pytest.approx(MAX_TINT_CHROMA, abs=1.0)
    assert "cut to 20" in note and offer["visible"] is True
    # the preview is the result with that cast, before anything is applied
    assert tints.same_tint(tints.cast_of(Image.open(preview)), waiting)
    assert Image.open(preview).size == (80, 60)
    hints_json, on, picker, strength, chosen, offer = tint_panel.apply(waiting, '{"points": [[0.5, 0.5, "#ff0000"]]}')
    assert tint_in(hints_json) == waiting and on is True and chosen == waiting and strength["value"] == 1.0
    assert json.loads(hints_json)["points"] and offer["visible"] is False
    # a photo with a plausible cast keeps it
    mild = tmp_path / "mild.png"
    Image.new("RGB", (64, 48), (150, 130, 110)).save(mild)
    taken = tints.photo_tint(str(mild))
    assert not taken.cut and "cut" not in taken.note()


def test_the_tint_at_the_results_own_cast_moves_nothing(hint_weights_dir, photo, tmp_path, monkeypatch):
    """Turned on, the tint is the result's cast: run again with it, the result's cast stays."""
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", hint_weights_dir)
    monkeypatch.setattr(colorize_tab, "scratch_dir", lambda: Path(tempfile.mkdtemp(dir=tmp_path)))
    upload = tmp_path / "upload.png"
    photo.save(upload)
    (grey, plain), *_ = colorize_tab.colorize(str(upload), "lab", "faces", 0, 1.0, "")
    result = (np.asarray(Image.open(grey).convert("RGB")), np.asarray(Image.open(plain).convert("RGB")))
    hints_json = tint_panel.toggle(True, result, "#808080", "")[0]
    (_, tinted), *_ = colorize_tab.colorize(str(upload), "lab", "faces", 0, 1.0, hints_json)
    gap = ab(tints.cast_of(Image.open(tinted))) - ab(tints.cast_of(Image.open(plain)))
    assert np.hypot(*gap) < 1.5, gap
    # ...and strength 1 towards a plausible blue cast makes it the result's (up to the gamut)
    cast, cool = tints.cast_of(result[1]), ab_to_hex((0.0, -18.0))
    blue_json = tint_panel.pick(cool, 1.0, cast, True, hints_json)[0]
    (_, blue), *_ = colorize_tab.colorize(str(upload), "lab", "faces", 0, 1.0, blue_json)
    before, after = (np.hypot(*(ab(c) - ab(cool))) for c in (cast, tints.cast_of(Image.open(blue))))
    assert after < 0.25 * before, (before, after)
