"""The demo app end to end: ``python app.py`` on loopback, driven by gradio_client.

Every endpoint is called; uploads include 16-bit, RGBA, palette and CMYK files (which
must be colorized) and corrupt, empty, non-image and over-size files (which must be
refused with a clear message). The app runs on the tiny untrained test checkpoints.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apphelp import ROOT, awkward_files, bad_files, colour_photo, running_app

pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

pytestmark = pytest.mark.slow

ENDPOINTS = {"/preview", "/colorize", "/compare", "/channels", "/turing_publish", "/turing_start",
             "/turing_answer_real", "/turing_answer_colorized", "/turing_answer_left", "/turing_answer_right",
             "/turing_close", "/turing_studies", "/turing_results", "/turing_export", "/turing_invites",
             "/models_table", "/model_details", "/model_details_initial"}


TOKEN = "app-test-organiser-token"


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    with running_app(weights_dir, tmp, token=TOKEN) as (url, data):   # publishing studies is on
        yield url, data, tmp


@pytest.fixture(scope="module")
def client(app):
    url, _, tmp = app
    return Client(url, verbose=False, download_files=str(tmp / "downloads"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("uploads")
    colour = d / "colour.png"
    Image.fromarray(colour_photo(120, 90)).save(colour)
    return d, colour


def png(path) -> Image.Image:
    img = Image.open(path)
    assert img.format == "PNG", f"{path} is {img.format}, not PNG"
    return img


def test_every_event_is_named(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert ENDPOINTS <= set(api["named_endpoints"]), set(api["named_endpoints"])
    assert not api["unnamed_endpoints"]


def test_colorize_colour_upload_is_scored_against_grey(client, files):
    _, colour = files
    slider, download, metrics, status = client.predict(handle_file(str(colour)), "lab", "general", 0, 1.0,
                                                       api_name="/colorize")
    before, after = (png(p) for p in slider)
    assert before.size == after.size == (120, 90)
    before_arr = np.asarray(before.convert("RGB")).astype(int)
    assert np.abs(before_arr - before_arr[..., :1]).max() <= 1, "the 'before' image is the grey input"
    full = png(download)
    assert full.size == (120, 90) and full.mode == "RGB" and Path(download).name == "colour-lab-general.png"
    np.testing.assert_array_equal(np.asarray(full), np.asarray(after.convert("RGB")))
    rows = {r[0]: r for r in metrics["data"]}
    assert {"PSNR (dB)", "SSIM", "CIEDE2000", "colourfulness"} <= set(rows)
    assert metrics["headers"][:3] == ["metric", "model", "grey input"]
    assert all(isinstance(rows[k][2], float) for k in ("PSNR (dB)", "SSIM", "CIEDE2000"))
    assert "reference" in status and "lab-general" in status


def test_colorize_controls_and_fallback(client, files):
    _, colour = files
    # lab-faces is not installed in the test weights: the general LAB model stands in.
    slider, _, _, status = client.predict(handle_file(str(colour)), "lab", "faces", 64, 0.0, api_name="/colorize")
    assert "lab-general" in status
    after = np.asarray(png(slider[1]).convert("RGB")).astype(int)
    assert np.abs(after - after[..., :1]).max() <= 2, "saturation 0 gives a grey result"
    slider, _, _, status = client.predict(handle_file(str(colour)), "rgb", "landscapes", 0, 1.0,
                                          api_name="/colorize")
    assert "rgb-general" in status and png(slider[1]).size == (120, 90)


@pytest.mark.parametrize("kind", ["16-bit", "rgba", "palette", "cmyk", "grey"])
def test_awkward_images_are_colorized(client, tmp_path, kind):
    path, size = awkward_files(tmp_path)[kind]
    slider, download, metrics, status = client.predict(handle_file(str(path)), "hsv", "general", 0, 1.0,
                                                       api_name="/colorize")
    assert png(slider[0]).size == png(slider[1]).size == png(download).size == size
    if kind in ("16-bit", "grey"):
        assert "no reference" in status and not metrics["data"]


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "text named .png", "empty", "over-size"])
@pytest.mark.parametrize("endpoint", ["/colorize", "/compare", "/channels", "/preview"])
def test_bad_uploads_get_a_clear_error(client, tmp_path, kind, endpoint):
    path, word = bad_files(tmp_path)[kind]
    with pytest.raises(Exception) as info:
        client.predict(handle_file(str(path)), api_name=endpoint)
    msg = str(info.value)
    assert type(info.value).__name__ == "AppError", msg
    assert word in msg.lower(), msg
    assert "Traceback" not in msg and str(tmp_path) not in msg


def test_no_upload_is_an_error(client):
    with pytest.raises(Exception, match="Upload a photo"):
        client.predict(None, api_name="/colorize")


def test_preview_shows_the_upload_as_rgb(client, tmp_path):
    path, size = awkward_files(tmp_path)["cmyk"]
    img = png(client.predict(handle_file(str(path)), api_name="/preview"))
    assert img.size == size and img.mode == "RGB"


def test_compare_runs_every_model_and_marks_the_best(client, files, weights_dir):
    _, colour = files
    grid, table, note = client.predict(handle_file(str(colour)), 0, 1.0, api_name="/compare")
    names = sorted(p.stem for p in Path(weights_dir).glob("*.safetensors"))
    assert [g["caption"].split("\n")[0] for g in grid] == names   # the name whole, on its own line
    for g in grid:
        assert png(g["image"]).size == (120, 90)
        assert re.search(r"\d+\.\d\d s", g["caption"]) and "PSNR" in g["caption"]
    best = " ".join(g["caption"] for g in grid)
    assert best.count("★") >= 5            # time and the four metrics
    rows = table["data"]
    assert [r[0] for r in rows] == [*names, "grey input (no colour added)", "true photo (reference)"]
    for col in range(1, 6):                # time and the four metrics: one best model each
        assert sum(str(r[col]).endswith("★") for r in rows[:len(names)]) == 1, table["headers"][col]
    assert re.fullmatch(r"\d+\.\d\d", rows[-2][2]) and re.fullmatch(r"\d+\.\d", rows[-1][5])   # grey PSNR, truth CF
    assert "best model per metric" in note and "Against the grey input" in note


def test_compare_grey_upload_has_times_only(client, tmp_path):
    path, _ = awkward_files(tmp_path)["grey"]
    grid, table, note = client.predict(handle_file(str(path)), 0, 1.0, api_name="/compare")
    assert all("PSNR" not in g["caption"] for g in grid)
    assert sum("★" in g["caption"] for g in grid) == 1 and "no reference" in note


def test_channels_views_and_artefact_map(client, files):
    _, colour = files
    for space, labels in (("lab", ("L", "a", "b")), ("hsv", ("H", "S", "V")), ("rgb", ("R", "G", "B"))):
        pred, ref, heat, text, ref_note = client.predict(handle_file(str(colour)), space, "general", 0, 1.0,
                                                         api_name="/channels")
        assert [g["caption"].split(": ")[1][0] for g in pred] == list(labels)
        assert [g["caption"].split(": ")[1][0] for g in ref] == list(labels)
        assert all(png(g["image"]).size == (120, 90) for g in pred + ref)
        w, h = png(heat).size                 # the map at the photo's 4:3, its colour bar under it
        assert w == 800 and h > 600
        assert re.search(r"Hue-artefact score \d\.\d{4}", text) and "reference" in text and "turns" in text
        assert ref_note == ""


def test_channels_of_a_grey_upload_say_why_there_is_no_reference(client, tmp_path):
    path, _ = awkward_files(tmp_path)["grey"]
    pred, ref, heat, text, ref_note = client.predict(handle_file(str(path)), "lab", "general", 0, 1.0,
                                                     api_name="/channels")
    assert len(pred) == 3 and ref == [] and "grey upload" in text
    assert "Reference: none" in ref_note and "uploaded in grey" in ref_note


def test_models_tab(client, weights_dir):
    table = client.predict(api_name="/models_table")
    assert [r[0] for r in table["data"]] == ["hsv-general", "lab-general", "rgb-general"]
    curves, card = client.predict("lab-general", api_name="/model_details")
    assert curves is None and "No training history" in card   # the test checkpoints were never trained
    assert "Design reproduced" in card and "Licence" in card and "sha256" in card


def test_examples_are_credited():
    for cat in ("faces", "landscapes", "general"):
        photos = sorted((ROOT / "examples" / cat).glob("*.jpg"))
        assert 1 <= len(photos) <= 4
        credits = (ROOT / "examples" / "CREDITS.md").read_text()
        assert all(p.stem in credits for p in photos)


def test_a_large_photo_is_shown_at_display_size_and_its_full_png_made_on_request(client, tmp_path):
    from colorlab.serving.uploads import DISPLAY_SIDE
    big = tmp_path / "wide.png"
    Image.fromarray(colour_photo(1600, 400)).save(big)
    slider, download, _, status = client.predict(handle_file(str(big)), "lab", "general", 0, 1.0,
                                                 api_name="/colorize")
    assert png(slider[0]).size == png(slider[1]).size == (DISPLAY_SIDE, 320)
    assert download is None and "full-resolution" in status
    full = client.predict(handle_file(str(big)), "lab", "general", 0, 1.0, api_name="/full_png")
    assert png(full).size == (1600, 400)
