"""The app's handlers called directly, without a server (fast): Colorize, Compare and Channels
hand the hints, and the reach, to the network; the seed designs are automatic-only; bad hints
are a clear error; Colorize scores a colour upload against its grey; the Models tab lists the
checkpoints. On the tiny checkpoints of ``hint_weights_dir`` (conftest): lab-faces and
rgb-faces take hints, lab-general-cunet does not. The server itself: tests/test_app*.py (slow)."""
from __future__ import annotations

import json

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from colorlab import checkpoints
from colorlab.colorspaces import rgb_to_lab
from colorlab.hints import colour_to_ab
from colorlab.imaging import pil_to_tensor
from colorlab.ui import channels as channels_tab
from colorlab.ui import colorize as colorize_tab
from colorlab.ui import compare as compare_tab
from colorlab.ui import hints_panel
from colorlab.ui import models as models_tab

GREEN = "#40a050"


@pytest.fixture
def app(ui_app):
    return ui_app


def ab(path) -> np.ndarray:
    """(2, H, W): the a, b of a returned PNG."""
    return rgb_to_lab(pil_to_tensor(Image.open(path).convert("RGB")))[0, 1:].numpy()


def moved(a, b, limit=5.0) -> float:
    """Share of the pixels whose a, b differ by more than ``limit`` between two PNGs."""
    return float((np.linalg.norm(ab(a) - ab(b), axis=0) > limit).mean())


def hints(*points, reach=None) -> str:
    text = json.dumps({"points": [list(p) for p in points]})
    return text if reach is None else hints_panel.set_reach(reach, text)


def test_colorize_hands_the_hints_to_the_network(app, upload):
    (grey, plain), _, metrics, status = colorize_tab.colorize(upload, "lab", "faces", 0, 1.0, "")
    assert "lab-faces" in status and "hint" not in status
    (_, hinted), _, _, hinted_status = colorize_tab.colorize(upload, "lab", "faces", 0, 1.0,
                                                             hints((0.5, 0.5, GREEN)))
    assert "1 point hint" in hinted_status
    target = np.array(colour_to_ab(GREEN))[:, None]
    win = (slice(33, 40), slice(44, 52))                 # around the point (the photo is 96x72)
    gap = [np.linalg.norm(ab(p)[:, win[0], win[1]].reshape(2, -1).mean(1, keepdims=True) - target)
           for p in (plain, hinted)]
    assert gap[1] < 0.6 * gap[0], gap


def test_colorize_scores_a_colour_upload_against_its_grey(app, upload):
    (grey, after), download, metrics, status = colorize_tab.colorize(upload, "lab", "faces", 0, 1.0, "")
    before = np.asarray(Image.open(grey).convert("RGB")).astype(int)
    assert np.abs(before - before[..., :1]).max() <= 1, "the slider's 'before' is the grey input"
    assert Image.open(after).size == Image.open(download).size == (96, 72)
    assert "colour upload" in status and metrics, status


def test_the_reach_slider_reaches_the_network(app, upload):
    short, wide = hints((0.5, 0.5, GREEN), reach=0.1), hints((0.5, 0.5, GREEN), reach=2.0)
    assert json.loads(short)["reach"] == 0.1 and json.loads(wide)["reach"] == 2.0
    plain, near, far = (colorize_tab.colorize(upload, "lab", "faces", 0, 1.0, h)[0][1] for h in ("", short, wide))
    assert moved(near, plain) < 0.5 and moved(far, plain) > moved(near, plain) + 0.3


def test_compare_gives_the_hints_to_every_model_that_takes_them(app, upload):
    def run(h):
        grid, rows, note = compare_tab.compare(upload, 0, 1.0, h, progress=lambda *a, **k: None)
        return {caption.split()[0].strip("*★"): path for path, caption in grid}, note
    plain, _ = run("")
    hinted, note = run(hints((0.5, 0.5, GREEN)))
    assert set(plain) == set(hinted) == {"lab-faces", "rgb-faces", "lab-general-cunet"}, set(plain)
    assert "given to every model that takes them" in note and "automatic-only (no hints): lab-general-cunet" in note
    for name in ("lab-faces", "rgb-faces"):
        assert moved(hinted[name], plain[name]) > 0.02, name
    assert moved(hinted["lab-general-cunet"], plain["lab-general-cunet"]) == 0


def test_channels_use_the_same_hints(app, upload):
    plain = channels_tab.channels(upload, "lab", "faces", 0, 1.0, "")
    hinted = channels_tab.channels(upload, "lab", "faces", 0, 1.0, hints((0.5, 0.5, GREEN)))
    assert len(plain[0]) == len(hinted[0]) == 3
    a_plain, a_hinted = (np.asarray(Image.open(views[0][1][0])) for views in (plain, hinted))
    assert not np.array_equal(a_plain, a_hinted)          # the a channel moved with the hint


def test_channels_follow_the_design_chosen_on_colorize(app, upload):
    views = channels_tab.channels(upload, "lab", "general", 0, 1.0, "", "lab-general-cunet")[0]
    assert views and all(caption.startswith("lab-general-cunet: ") for _, caption in views), views


@pytest.mark.parametrize("bad, word", [("{not json", "not valid JSON"),
                                       ('{"points": [[2, 0.5, "#ff0000"]]}', "in [0, 1]"),
                                       ('{"points": [[0.5, 0.5, "blue"]]}', "malformed colour"),
                                       ('{"reach": 99}', "reach must be in")])
def test_bad_hints_are_a_clear_error(app, upload, bad, word):
    with pytest.raises(gr.Error) as info:
        colorize_tab.colorize(upload, "lab", "faces", 0, 1.0, bad)
    assert word in str(info.value.message), info.value.message


def test_error_messages_are_html_escaped_and_a_refused_token_keeps_its_message(monkeypatch):
    from colorlab import studies
    from colorlab.hints import from_json
    from colorlab.ui import turing
    from colorlab.ui.common import user_errors
    assert turing.user_errors is user_errors              # one wrapper for every tab
    with pytest.raises(gr.Error) as info:                 # Gradio shows the toast as HTML
        user_errors(from_json)('{"points": [[0.5, 0.5, "<img src=x onerror=alert(1)>"]]}')
    assert "malformed colour" in info.value.message and "<img" not in info.value.message
    assert "&lt;img src=x onerror=alert(1)&gt;" in info.value.message
    monkeypatch.setenv(studies.TOKEN_ENV, "the-token")
    with pytest.raises(gr.Error, match="Wrong organiser token"):
        user_errors(studies.check_token)("not-the-token")


def test_the_models_tab_lists_every_checkpoint_with_its_card(app):
    names = [row[0] for row in models_tab.models_table()]
    installed = {m.name: m for m in checkpoints.list_checkpoints()}
    assert sorted(names) == sorted(installed) == ["lab-faces", "lab-general-cunet", "rgb-faces"], names
    for name in names:                     # each its own card: titled, with its own weights' digest
        _, card = models_tab.model_details(name)
        assert card.splitlines()[0].strip() == f"### {name}" and installed[name].sha256 in card, card


def test_an_unknown_model_name_comes_back_escaped(app):
    with pytest.raises(gr.Error) as info:                 # the name is the client's: no markup
        models_tab.model_details("<img src=x onerror=alert(1)>")
    assert "No checkpoint named" in info.value.message and "<img" not in info.value.message
