"""The Colorize tab's flow, its handlers called directly (fast, no server): the design menu and
the seed designs, what a new photo, a bad file and a model change do, the one Download button,
and the progress line without a stale time estimate. On the tiny checkpoints of
``hint_weights_dir`` (conftest): lab-faces and rgb-faces take hints, lab-general-cunet is a
seed design. In a real browser: tests/test_app_colorize.py."""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from colorlab.serving import estimates, runs
from colorlab.serving.uploads import DISPLAY_SIDE
from colorlab.ui import colorize as colorize_tab

GREEN = "#40a050"


@pytest.fixture
def app(ui_app):
    return ui_app


@pytest.fixture
def big(tmp_path):
    """A 1600x400 photo: larger than the display (DISPLAY_SIDE)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "wide.png"
    Image.fromarray(rng.integers(0, 255, (400, 1600, 3), dtype=np.uint8)).save(path)
    return str(path)


def is_skip(x) -> bool:
    return isinstance(x, dict) and x.get("__type__") == "update" and len(x) == 1


def value(update):
    return update["value"] if isinstance(update, dict) else update


class Steps:
    """A stand-in for gr.Progress that records each step's description."""

    def __init__(self):
        self.descs = []

    def __call__(self, fraction, desc=None, **_):
        self.descs.append((fraction, desc))


# ---------------------------------------------------------------- the design menu

def test_the_design_menu_lists_every_seed_design_as_automatic_only(app):
    choices = colorize_tab.design_choices()
    assert choices[0][1] == runs.STANDARD and "takes hints" in choices[0][0]
    assert [v for _, v in choices[1:]] == ["lab-general-cunet"]
    assert "automatic-only" in choices[1][0] and "lab-general-cunet" in choices[1][0]


def test_a_seed_design_runs_and_the_status_says_its_hints_are_not_used(app, upload):
    hints = json.dumps({"points": [[0.5, 0.5, GREEN]]})
    (_, plain), _, _, status = colorize_tab.colorize(upload, "lab", "general", 0, 1.0, "", "lab-general-cunet")
    assert status.startswith("**lab-general-cunet**") and "automatic-only" in status
    (_, hinted), _, _, status = colorize_tab.colorize(upload, "lab", "general", 0, 1.0, hints, "lab-general-cunet")
    assert "automatic-only: hints not used" in status and "point hint" not in status
    assert np.array_equal(np.asarray(Image.open(plain)), np.asarray(Image.open(hinted)))
    (_, std), _, _, status = colorize_tab.colorize(upload, "lab", "faces", 0, 1.0, hints, runs.STANDARD)
    assert status.startswith("**lab-faces**") and "1 point hint" in status


def test_an_unknown_or_mismatched_design_is_a_clear_error(app, upload):
    for space, design in [("lab", "no-such-model"), ("rgb", "lab-general-cunet")]:
        with pytest.raises(gr.Error) as info:
            colorize_tab.colorize(upload, space, "general", 0, 1.0, "", design)
        assert "not a seed design" in info.value.message


def test_the_menus_keep_each_other_consistent(app):
    assert colorize_tab.design_changed("lab-general-cunet") == ("lab", "general")
    assert all(is_skip(x) for x in colorize_tab.design_changed(runs.STANDARD))
    # a space or category the seed was not trained for: back to the standard model
    assert colorize_tab.model_changed("lab", "faces", "lab-general-cunet") == runs.STANDARD
    assert colorize_tab.model_changed("rgb", "general", "lab-general-cunet") == runs.STANDARD
    assert is_skip(colorize_tab.model_changed("lab", "general", "lab-general-cunet"))
    assert is_skip(colorize_tab.model_changed("rgb", "faces", runs.STANDARD))


# ---------------------------------------------------------------- a new photo, a bad file, a model change

def test_a_bad_file_keeps_the_last_result_and_says_why_once(app, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    usable, status, shown = colorize_tab.load_photo(str(bad))
    assert usable is False and is_skip(shown)
    assert status.startswith("⚠") and "readable" in status and "last result is kept" in status
    # nothing is cleared: the hints, the result, the download and the metrics stay
    assert all(is_skip(x) for x in colorize_tab.new_photo(usable, str(bad), '{"points": [[0.5, 0.5, "#00ff00"]]}'))
    assert all(is_skip(x) for x in colorize_tab.auto_colorize(usable, str(bad), "lab", "faces", 0, 1.0, ""))
    # the button on a bad file: the message in the status line only, the result kept
    out = colorize_tab.press_colorize(str(bad), "lab", "faces", 0, 1.0, "")
    assert all(is_skip(x) for x in out[:3]) and "readable" in out[3] and is_skip(out[4])
    # a cleared upload box changes nothing either; the button then asks for a photo
    assert colorize_tab.load_photo(None)[0] is False
    assert all(is_skip(x) for x in colorize_tab.new_photo(False, None, '{"points": [[0.5, 0.5, "#00ff00"]]}'))
    out = colorize_tab.press_colorize(None, "lab", "faces", 0, 1.0, "")
    assert all(is_skip(x) for x in out[:3]) and "Upload a photo" in out[3]


def test_a_good_photo_is_shown_and_starts_clean(app, upload):
    usable, status, shown = colorize_tab.load_photo(upload)
    assert usable is True and is_skip(status) and Image.open(shown).size == (96, 72)
    hints_json, carried, keep, slider, download, metrics, status, note, history = colorize_tab.new_photo(
        True, upload, '{"points": [[0.5, 0.5, "#00ff00"]]}')
    assert hints_json == "" and "#00ff00" in carried and keep["visible"] is True
    assert history is None                  # undo starts again: it cannot bring the last photo's hints back
    assert slider is None and value(download) is None and metrics == [] and status == note == ""


def test_a_model_change_colorizes_with_the_new_model(app, upload):
    """What the space, category and design menus run after they changed (auto_colorize)."""
    *_, status, _ = colorize_tab.auto_colorize(True, upload, "lab", "faces", 0, 1.0, "", runs.STANDARD)
    assert status.startswith("**lab-faces**")
    *_, status, _ = colorize_tab.auto_colorize(True, upload, "rgb", "faces", 0, 1.0, "", runs.STANDARD)
    assert status.startswith("**rgb-faces**")
    *_, status, _ = colorize_tab.auto_colorize(True, upload, "lab", "general", 0, 1.0, "", "lab-general-cunet")
    assert status.startswith("**lab-general-cunet**")
    assert all(is_skip(x) for x in colorize_tab.auto_colorize(True, None, "lab", "faces", 0, 1.0, ""))


# ---------------------------------------------------------------- one Download button

def test_a_small_photos_download_is_the_shown_result(app, upload):
    (_, after), download, _, _, note = colorize_tab.press_colorize(upload, "lab", "faces", 0, 1.0, "")
    assert note == ""          # a note about the last result's file is cleared
    assert value(download) == after and download["label"] == "Download PNG (96x72)"
    # pressed, the button saves the file it holds itself: nothing is made
    file, note, made = colorize_tab.download_png(upload, "lab", "faces", 0, 1.0, "", runs.STANDARD, value(download),
                                                 progress=Steps())
    assert is_skip(file) and is_skip(note) and made is False


def test_a_large_photos_download_is_made_at_full_resolution_with_progress(app, big):
    (before, after), download, _, status, _ = colorize_tab.press_colorize(big, "lab", "faces", 0, 1.0, "")
    assert Image.open(after).size == (DISPLAY_SIDE, 320)
    assert value(download) is None and download["label"] == "Download full-resolution PNG (1600x400)"
    assert "*Download* makes the full-resolution 1600x400 file" in status
    steps = Steps()
    file, note, made = colorize_tab.download_png(big, "lab", "faces", 0, 1.0, "", runs.STANDARD, None,
                                                 progress=steps)
    assert made is True and Image.open(file).size == (1600, 400) and "1600x400" in note
    assert Path(file).name == "wide-lab-faces.png"
    fractions = [f for f, _ in steps.descs]
    assert fractions == sorted(fractions) and len(steps.descs) >= 3 and all(d for _, d in steps.descs)
    # the full file is the shown result at full size: its display-size reduction matches it
    shown = np.asarray(Image.open(after).convert("RGB")).astype(int)
    reduced = np.asarray(Image.open(file).resize((DISPLAY_SIDE, 320), Image.Resampling.LANCZOS)).astype(int)
    assert np.abs(shown - reduced).mean() < 2


# ---------------------------------------------------------------- the progress line

def test_no_time_estimate_is_offered_for_the_progress_line():
    """Gradio shows "elapsed/estimate s" from the mean run time of a function; the app offers
    none (a handler's time includes waiting for the CPU), so no "6.3/3.0s"."""
    with gr.Blocks() as demo:
        b = gr.Button()
        t = gr.Textbox()
        b.click(lambda: "x", None, t)
    demo.queue()
    estimates.install(demo)
    queue = demo._queue
    fn = demo.fns[0]
    queue.process_time_per_fn[fn].add(3.0)          # what Gradio records after a run
    assert queue.process_time_per_fn[fn].avg_time == 3.0
    assert fn not in queue.process_time_per_fn      # ...but never offers as an estimate


def gradio_estimates(demo) -> list:
    """The ETAs Gradio's own estimator (``Queue.broadcast_estimations``) sends for one waiting
    event of each of ``demo``'s functions, after a 3-s run of each is recorded."""
    from gradio.queueing import Event
    queue = demo._queue
    sent = []
    queue.send_message = lambda event, message: sent.append(message)
    for fn in demo.fns.values():
        queue.process_time_per_fn[fn].add(3.0)          # what Gradio records after a run
        queue.create_event_queue_for_fn(fn)
        queue.event_queue_per_concurrency_id[fn.concurrency_id].queue.append(Event(None, fn, None, None))
    for concurrency_id in list(queue.event_queue_per_concurrency_id):
        queue.broadcast_estimations(concurrency_id)
    return [m.rank_eta for m in sent]


def test_the_built_app_gives_gradio_no_estimate(app, monkeypatch):
    """The app as ``build()`` makes it: estimates' hook found Gradio's private run-time record
    (``_queue.process_time_per_fn``) and Gradio's own estimator then sends no ETA for any of the
    app's functions. Fails if a Gradio upgrade renames that record or reads it without asking
    ``fn in`` first (docs/development.md, "Pinned install")."""
    from colorlab import ui
    from colorlab.serving import hosting
    from colorlab.ui import turing
    monkeypatch.setattr(turing, "storage", lambda: hosting.choose_storage({hosting.DATA_ENV: str(app / "data")}))
    with gr.Blocks() as plain:              # the probe works: without the hook, Gradio estimates 3 s
        gr.Button().click(lambda: "x", None, gr.Textbox())
    plain.queue()
    assert gradio_estimates(plain) == [3.0]
    demo = ui.build()
    assert isinstance(demo._queue.process_time_per_fn, estimates.RunTimes)
    etas = gradio_estimates(demo)
    assert len(etas) >= len(demo.fns) > 10 and set(etas) == {None}
