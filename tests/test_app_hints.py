"""Colour hints in the app, on the shipped (hint-aware) weights: the endpoints take hints as
JSON text in the CLI's format, and in a real browser a click on the photo places a hint
that changes the colorization near it."""
from __future__ import annotations

import json
import os
import urllib.request
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apphelp import ROOT, browser_test, running_app
from colorlab.hints import colour_to_ab

pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

pytestmark = pytest.mark.slow
PHOTO = sorted((ROOT / "examples" / "faces").glob("*.jpg"))[0]
GREEN = "#40a050"   # far from any skin or background colour the faces models give


def _lab(img: Image.Image) -> np.ndarray:
    from skimage.color import rgb2lab
    return rgb2lab(np.asarray(img.convert("RGB")))


def _near(img: Image.Image, x: float, y: float) -> np.ndarray:
    """Mean (a, b) in a small window around fractions (x, y) of the image."""
    lab = _lab(img)
    h, w = lab.shape[:2]
    r, c, k = round(y * (h - 1)), round(x * (w - 1)), max(2, min(h, w) // 40)
    return lab[r - k:r + k + 1, c - k:c + k + 1, 1:].reshape(-1, 2).mean(0)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    meta = json.loads((ROOT / "weights" / "lab-faces.json").read_text())
    if not meta.get("hints"):
        pytest.fail("the shipped lab-faces takes no hints")
    with running_app(ROOT / "weights", tmp_path_factory.mktemp("hints-app")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def client(app, tmp_path_factory):
    return Client(app, verbose=False, download_files=str(tmp_path_factory.mktemp("dl")))


def test_colorize_endpoint_takes_hints_json(client):
    plain = client.predict(handle_file(str(PHOTO)), "lab", "faces", 0, 1.0, "", api_name="/colorize")
    hinted = client.predict(handle_file(str(PHOTO)), "lab", "faces", 0, 1.0,
                            json.dumps({"points": [[0.5, 0.5, GREEN]]}), api_name="/colorize")
    assert "1 point hint" in hinted[3]
    target = np.array(colour_to_ab(GREEN))
    before = np.linalg.norm(_near(Image.open(plain[0][1]), 0.5, 0.5) - target)
    after = np.linalg.norm(_near(Image.open(hinted[0][1]), 0.5, 0.5) - target)
    assert after < 0.75 * before, (before, after)


def test_bad_hints_json_is_a_clear_error(client):
    for bad, word in [("{not json", "not valid JSON"), ('{"points": [[2, 0.5, "#ff0000"]]}', "in [0, 1]"),
                      ('{"points": [[0.5, 0.5, "blue"]]}', "malformed colour")]:
        with pytest.raises(Exception) as info:
            client.predict(handle_file(str(PHOTO)), "lab", "faces", 0, 1.0, bad, api_name="/colorize")
        assert type(info.value).__name__ == "AppError" and word in str(info.value), str(info.value)


def test_compare_and_channels_use_the_same_hints(client):
    hints = json.dumps({"points": [[0.5, 0.5, GREEN]], "tint": "#a08070"})
    grid, table, note = client.predict(handle_file(str(PHOTO)), 0, 1.0, hints, api_name="/compare")
    assert "given to every model that takes them" in note and "automatic-only" in note
    assert "lab-general-cunet" in note.split("automatic-only")[1]          # a seed design: no hints
    views = client.predict(handle_file(str(PHOTO)), "lab", "faces", 0, 1.0, hints, api_name="/channels")
    assert len(views[0]) == 3


SHOTS = Path(os.environ["COLORLAB_SCREENSHOTS"]) if os.environ.get("COLORLAB_SCREENSHOTS") else None
PREVIEW_READY = ("() => { const i = document.querySelector('#preview img');"
                 " return i && i.complete && i.naturalWidth > 0; }")


@contextmanager
def app_page(browser, url: str, width: int, height: int):
    """A page of the app at ``url`` in a width x height viewport, closed after."""
    with closing(browser.new_page(viewport={"width": width, "height": height})) as page:
        page.set_default_timeout(90_000)
        page.goto(url)
        yield page


@browser_test
def test_click_on_the_photo_places_a_hint_that_colours_the_output(app, browser):
    def slider_after(page) -> Image.Image:
        src = page.eval_on_selector_all("#slider img", "els => els.map(e => e.src)")[1]
        with urllib.request.urlopen(src) as r:
            from io import BytesIO
            return Image.open(BytesIO(r.read())).convert("RGB")

    with app_page(browser, app, 1280, 1400) as page:
        page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
        page.wait_for_function(PREVIEW_READY)
        # the upload's own colorization first, so that "plain" below is lab-faces' (the flow at once,
        # under a busy gate, is test_app_limits' visitor test)
        page.wait_for_function("() => document.querySelector('#colorize-status').innerText.includes('lab-general')")
        page.get_by_label("faces").check()      # a model change colorizes again, with no click
        page.wait_for_function("() => document.querySelector('#colorize-status').innerText.includes('lab-faces')")
        plain = slider_after(page)
        # the hints panel starts collapsed (the Colorize flow fits one screen): open it
        page.locator("#hints-box").get_by_text("Colour hints (optional)").first.click()
        page.wait_for_selector("#hints-json textarea", state="attached")
        # a click on the photo places a hint with the model's own colour there ...
        page.locator("#preview img").scroll_into_view_if_needed()      # (Colorize scrolled the page down)
        box = page.locator("#preview img").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        page.wait_for_function("() => document.querySelector('#hints-json textarea').value.includes('points')")
        x, y, first = json.loads(page.locator("#hints-json textarea").input_value())["points"][0]
        assert abs(x - 0.5) < 0.02 and abs(y - 0.5) < 0.02
        page.wait_for_function(f"() => document.querySelector('#hint-table').innerText.includes('{first}')")
        # ... which the colour picker then changes
        _pick(page, GREEN)
        page.click("#colorize-btn")
        page.wait_for_function("() => document.querySelector('#colorize-status').innerText.includes('1 point hint')")
        hinted = slider_after(page)
        target = np.array(colour_to_ab(GREEN))
        before, after = (np.linalg.norm(_near(img, x, y) - target) for img in (plain, hinted))
        assert after < 0.75 * before, (before, after)
        # the reach: typed into the slider's box, it lands in the hints' JSON
        reach = page.locator("#hint-reach input[type=number]")
        reach.fill("0.3")
        reach.press("Enter")
        page.wait_for_function("() => document.querySelector('#hints-json textarea').value.includes('\"reach\": 0.3')")
        page.screenshot(path=str(SHOTS / "hints.png"), full_page=True) if SHOTS else None
        # the hint stays when the space changes
        page.get_by_label("HSV").check()
        page.click("#colorize-btn")
        page.wait_for_function("() => document.querySelector('#colorize-status').innerText.includes('hsv-faces')")
        assert "1 point hint" in page.inner_text("#colorize-status")


def _photo_point(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of the fractions (x, y) of the photo as the preview shows it (Gradio
    fits the picture into its <img> box, centred, never enlarged)."""
    page.wait_for_function(PREVIEW_READY)      # (not while it is replaced)
    r = page.evaluate("() => { const i = document.querySelector('#preview img'); const b = i.getBoundingClientRect();"
                      " return [b.left, b.top, b.width, b.height, i.naturalWidth, i.naturalHeight]; }")
    left, top, bw, bh, nw, nh = r
    k = min(bw / nw, bh / nh, 1)
    return left + (bw - nw * k) / 2 + x * (nw - 1) * k, top + (bh - nh * k) / 2 + y * (nh - 1) * k


def _hints(page) -> dict:
    text = page.locator("#hints-json textarea").input_value()
    return json.loads(text) if text else {}


SWATCHES_INSIDE = """() => {
  // every suggested colour's cell inside the swatches' block and its scrolling grid (none cut, none scrolled to)
  const block = document.querySelector('#hint-swatches'), grid = block.querySelector('.grid-wrap');
  const b = block.getBoundingClientRect(), g = grid.getBoundingClientRect();
  const inside = (r, c) => r.left >= c.left - 1 && r.right <= c.right + 1
                           && r.top >= c.top - 1 && r.bottom <= c.bottom + 1;
  const cells = [...block.querySelectorAll('.thumbnail-item')].map(e => e.getBoundingClientRect());
  const out = cells.map((r, i) => [i + 1, Math.round(r.left), Math.round(r.right)])
                   .filter((_, i) => !inside(cells[i], b) || !inside(cells[i], g));
  return {n: cells.length, out, block: [Math.round(b.left), Math.round(b.right)],
          grid: [grid.scrollWidth, grid.clientWidth]};
}"""


def _pick(page, colour: str):
    """Types ``colour`` into the hint picker (the selected hint takes it) and waits for the JSON."""
    page.click("#hint-colour button.dialog-button")
    field = page.locator("#hint-colour .input-wrap input")
    field.fill(colour)
    field.press("Enter")
    page.mouse.click(5, 5)      # the picker's dialog closes
    page.wait_for_function(f"() => document.querySelector('#hints-json textarea').value.includes('{colour}')")


def _picker(page) -> str:
    """The hint picker's colour, from its swatch button's background."""
    rgb = page.eval_on_selector("#hint-colour button.dialog-button", "b => getComputedStyle(b).backgroundColor")
    return "#" + "".join(f"{int(v):02x}" for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])


@browser_test
def test_select_a_hint_drag_it_and_undo(app, browser):
    """Selecting a hint (its marker or its table row) shows its colour in the picker and its
    number; a marker dragged moves its hint (and places none); undo puts it back, redo moves it
    again; removing a hint that does not exist says so; a tint typed into the JSON turns the
    tint control on with that colour."""
    with app_page(browser, app, 1440, 900) as page:
        page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
        page.wait_for_function(PREVIEW_READY)
        page.locator("#hints-box").get_by_text("Colour hints (optional)").first.click()
        page.wait_for_selector("#hints-json textarea", state="attached")
        for n, (x, y) in enumerate([(0.3, 0.3), (0.7, 0.6)], 1):
            page.locator("#preview img").scroll_into_view_if_needed()
            page.mouse.click(*_photo_point(page, x, y))
            page.wait_for_function(f"() => (document.querySelector('#hints-json textarea').value.match(/#/g) || [])"
                                   f".length === {n}")
        # hint #2 is selected (just placed): the picker makes it green
        assert page.input_value("#hint-index input") == "2"
        _pick(page, GREEN)
        first = _hints(page)["points"][0][2]
        assert first != GREEN and _hints(page)["points"][1][2] == GREEN, _hints(page)
        # a click on the table's first row selects hint #1: the picker shows its colour
        page.wait_for_function(f"() => document.querySelector('#hint-table').innerText.includes('{GREEN}')")
        page.click("#hint-table [data-testid=cell-0-1]")
        page.wait_for_function("() => document.querySelector('#hint-index input').value === '1'")
        page.wait_for_function("() => getComputedStyle(document.querySelector('#hint-colour button.dialog-button'))"
                               ".backgroundColor !== 'rgb(64, 160, 80)'")
        assert _picker(page) == first
        # a click on marker #2 selects it again: green
        page.locator("#preview img").scroll_into_view_if_needed()
        page.mouse.click(*_photo_point(page, 0.7, 0.6))
        page.wait_for_function("() => document.querySelector('#hint-index input').value === '2'")
        page.wait_for_function("() => getComputedStyle(document.querySelector('#hint-colour button.dialog-button'))"
                               ".backgroundColor === 'rgb(64, 160, 80)'")
        assert len(_hints(page)["points"]) == 2          # selecting placed nothing
        # drag marker #1 to (0.5, 0.8)
        page.mouse.move(*_photo_point(page, 0.3, 0.3))
        page.mouse.down()
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(*_photo_point(page, 0.3 + 0.2 * t, 0.3 + 0.5 * t))
        page.mouse.up()
        page.wait_for_function("() => { const t = document.querySelector('#hints-json textarea').value;"
                               " return t && JSON.parse(t).points[0][1] > 0.7; }")
        (x, y, c), second = _hints(page)["points"]
        assert abs(x - 0.5) < 0.03 and abs(y - 0.8) < 0.03 and c == first and second[2] == GREEN
        page.wait_for_timeout(1500)   # no click-placed hint follows the drag
        assert len(_hints(page)["points"]) == 2
        page.wait_for_function("() => document.querySelector('#hint-index input').value === '1'")
        # undo puts it back; redo moves it again
        page.click("#hint-undo")
        page.wait_for_function("() => JSON.parse(document.querySelector('#hints-json textarea').value)"
                               ".points[0][1] < 0.4")
        x, y, c = _hints(page)["points"][0]
        assert abs(x - 0.3) < 0.02 and abs(y - 0.3) < 0.02 and c == first
        page.click("#hint-redo")
        page.wait_for_function("() => JSON.parse(document.querySelector('#hints-json textarea').value)"
                               ".points[0][1] > 0.7")
        # removing a hint that does not exist is an error that says so
        index = page.locator("#hint-index input")
        index.fill("5")
        index.press("Enter")
        page.wait_for_selector("text=There is no hint #5")          # the picker cannot show it
        page.click("#hint-remove")
        page.wait_for_selector("text=there is no hint #5: the hints are numbered 1 to 2")   # nor can it be removed
        assert len(_hints(page)["points"]) == 2, _hints(page)
        # a tint typed into the JSON: the tint control turns on with that colour
        box = page.locator("#hints-json textarea")
        data = _hints(page)
        data["tint"] = "#a07050"
        box.fill(json.dumps(data))
        box.press("Tab")
        page.wait_for_function("() => document.querySelector('#tint-on input').checked")
        page.wait_for_selector("#tint-colour", state="visible")
        rgb = page.eval_on_selector("#tint-colour button.dialog-button", "b => getComputedStyle(b).backgroundColor")
        assert rgb == "rgb(160, 112, 80)", rgb
        assert _hints(page)["tint"] == "#a07050"
        page.screenshot(path=str(SHOTS / "hints-editing.png"), full_page=True) if SHOTS else None


@browser_test
def test_a_suggested_look_sets_the_tint_and_recolours_the_photo(app, browser):
    """After a colorization the suggested looks appear under it; clicking look 2 turns the tint
    on with its colour in the hints panel and the JSON, and the photo is colorized again with
    it (the result changes); a click on the photo offers the suggested colours there, and one
    of them recolours that hint; all six swatches are whole, inside their panel."""
    def after_src(page) -> str:
        return page.eval_on_selector_all("#slider img", "els => els.map(e => e.src)")[1]

    with app_page(browser, app, 1440, 900) as page:
        page.get_by_label("faces").check()
        page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
        page.wait_for_function("() => document.querySelector('#colorize-status').innerText.includes('lab-faces')")
        page.wait_for_function("() => document.querySelectorAll('#looks img').length === 4")
        captions = page.inner_text("#looks")
        assert "model's own" in captions and "similar" in captions, captions
        plain = after_src(page)
        with urllib.request.urlopen(plain) as r:
            plain_bytes = r.read()
        page.locator("#hints-box").get_by_text("Colour hints (optional)").first.click()    # (collapsed at first)
        page.wait_for_selector("#hints-json textarea", state="attached")
        page.locator("#looks img").nth(1).click()
        page.wait_for_function("() => document.querySelector('#hints-json textarea').value.includes('tint')")
        tint = _hints(page)["tint"]
        page.wait_for_function("() => document.querySelector('#colorize-status').innerText.includes('a tint')")
        page.wait_for_function(f"() => [...document.querySelectorAll('#slider img')][1].src !== '{plain}'")
        with urllib.request.urlopen(after_src(page)) as r:
            assert r.read() != plain_bytes                        # the photo was recoloured with the look's cast
        # the hints panel shows it: tint on, its colour in the tint picker
        page.wait_for_function("() => document.querySelector('#tint-on input').checked")
        rgb = page.eval_on_selector("#tint-colour button.dialog-button", "b => getComputedStyle(b).backgroundColor")
        assert rgb == "rgb({}, {}, {})".format(*(int(tint[i:i + 2], 16) for i in (1, 3, 5))), (rgb, tint)
        # a click on the photo: a hint there, and the suggested colours at that point (the model's first)
        page.locator("#preview img").scroll_into_view_if_needed()
        page.mouse.click(*_photo_point(page, 0.5, 0.3))
        page.wait_for_selector("#hint-swatches img")
        page.wait_for_function("() => document.querySelectorAll('#hint-swatches img').length === 6")
        assert "the model's" in page.inner_text("#hint-swatches")
        swatches = page.evaluate(SWATCHES_INSIDE)        # at 1440x900 the sixth was cut by the panel's edge
        assert swatches["n"] == 6 and not swatches["out"] and swatches["grid"][0] <= swatches["grid"][1] + 1, swatches
        before = _hints(page)["points"][0][2]
        page.locator("#hint-swatches img").nth(3).click()
        page.wait_for_function(f"() => !document.querySelector('#hints-json textarea').value.includes('{before}')")
        assert _hints(page)["tint"] == tint and len(_hints(page)["points"]) == 1
        page.screenshot(path=str(SHOTS / "suggested-looks.png"), full_page=True) if SHOTS else None
