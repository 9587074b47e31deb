"""The Colorize tab in a real browser (headless Chromium, Playwright) at 1440x900: one screen,
colorized with no click, again on a model change, a seed design chosen, a bad file that keeps
the last result, and the one Download button giving a 12-MP photo's full-resolution PNG.
On tiny untrained checkpoints (conftest's three general models and one seed design)."""
from __future__ import annotations

import re

import pytest
from conftest import make_checkpoint
from PIL import Image

from apphelp import BROWSER_MARKS, ROOT, colour_photo, running_app

TIMEOUT_MS = 120_000
SHOTS = ROOT / "runs" / "browser"

pytestmark = BROWSER_MARKS

PHOTO = ROOT / "examples" / "landscapes" / "0aba840f0f5a.jpg"
SLIDER_READY = ("() => { const i = [...document.querySelectorAll('#slider img')];"
                " return i.length >= 2 && i.every(x => x.complete && x.naturalWidth > 0); }")
ALL_EXAMPLES_SHOWN = """() => { const g = document.querySelector('#examples').getBoundingClientRect();
  const items = [...document.querySelectorAll('#examples .gallery-item')].map(e => e.getBoundingClientRect());
  const caps = [...document.querySelectorAll('#examples .caption-label')];
  return {n: items.length, inside: items.every(r => r.width > 40 && r.left >= g.left - 1 && r.right <= g.right + 1
                                                  && r.top >= g.top - 1 && r.bottom <= g.bottom + 1),
          cut: caps.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)}; }"""
IN_VIEW = """(sel) => { const e = document.querySelector(sel); if (!e) return null;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= innerHeight && r.right <= innerWidth; }"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    weights = tmp_path_factory.mktemp("colorize-weights")
    for space in ("lab", "hsv", "rgb"):
        make_checkpoint(weights, f"{space}-general", space)
    make_checkpoint(weights, "lab-general-cunet", "lab")     # a seed design (automatic-only)
    with running_app(weights, tmp_path_factory.mktemp("colorize-app")) as (url, _):
        yield url


@pytest.fixture
def page(app, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app)
    page.wait_for_selector("#colorize-btn")
    page.wait_for_timeout(500)      # the layout settles (fonts, images)
    yield page
    page.close()


def status(page) -> str:
    return page.inner_text("#colorize-status")


def wait_status(page, text: str):
    page.wait_for_function(f"() => document.querySelector('#colorize-status').innerText.includes({text!r})")


def after_src(page) -> str:
    return page.eval_on_selector_all("#slider img", "els => els.map(e => e.src)")[1]


def test_one_screen_and_a_result_with_no_click(page):
    """At 1440x900, without scrolling: the upload, the model choice (space, category with plain
    descriptions, design), the Colorize button and the result; an upload is colorized with no click."""
    for sel in ("#upload", "#space", "#category", "#design", "#colorize-btn", "#slider", "#download"):
        assert page.evaluate(IN_VIEW, sel), f"{sel} is not in the first screen"
    assert page.evaluate("() => scrollY") == 0
    for label in ("faces: portraits", "landscapes: outdoor scenes", "general: anything else"):
        assert page.locator("#category").get_by_text(label).is_visible()
    # collapsed: the render settings and the hints
    assert not page.locator("#settings-box").get_by_text("Saturation").is_visible()
    assert not page.locator("#hints-json textarea").is_visible()
    # every example is a captioned thumbnail, all of them visible
    captions = page.eval_on_selector_all("#examples .caption-label, #examples figcaption",
                                         "els => els.map(e => e.innerText.trim())")
    assert "Desert dunes and a dead tree" in captions and not any(re.fullmatch(r"[0-9a-f]{12}", c) for c in captions)
    shown = page.evaluate(ALL_EXAMPLES_SHOWN)
    assert shown["n"] == 12 and shown["inside"] and not shown["cut"], shown
    page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
    page.wait_for_function(SLIDER_READY)          # colorized on upload: no click
    wait_status(page, "lab-general")
    assert page.evaluate(IN_VIEW, "#slider") and page.evaluate("() => scrollY") == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "colorize-1440x900.png"))


def test_a_model_change_colorizes_again(page):
    page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
    wait_status(page, "lab-general")
    first = after_src(page)
    page.locator("#space").get_by_text("HSV").click()             # no click on Colorize
    wait_status(page, "hsv-general")
    page.wait_for_function(SLIDER_READY)
    assert after_src(page) != first
    # a seed design: chosen from the menu, colorized, marked automatic-only; its space follows
    page.locator("#space").get_by_text("RGB").click()
    wait_status(page, "rgb-general")
    page.locator("#design input").click()
    page.get_by_role("option", name=re.compile("lab-general-cunet")).click()
    wait_status(page, "lab-general-cunet")
    assert "automatic-only" in status(page)
    assert page.locator("#space input[value=lab]").is_checked()


def test_a_bad_file_keeps_the_last_result_with_one_message(page, tmp_path):
    page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
    wait_status(page, "lab-general")
    page.wait_for_function(SLIDER_READY)
    good = after_src(page)
    bad = tmp_path / "notes.png"
    bad.write_text("these are my holiday notes, not a picture\n")
    page.locator("#upload button[aria-label='Clear']").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    wait_status(page, "readable")
    assert "last result is kept" in status(page)
    page.wait_for_timeout(1500)                     # anything still to come would have come by now
    assert after_src(page) == good                  # the last good result is still shown
    badges = page.eval_on_selector_all(".error", "els => els.filter(e => e.offsetParent !== null).length")
    assert badges == 0, f"{badges} error badges"


def test_one_download_button_gives_a_12_megapixel_photos_full_resolution_png(page, tmp_path):
    """The 12-MP photo is shown at display size; its one Download button makes the
    4000x3000 PNG, with its progress in view, and the browser saves it."""
    big = tmp_path / "big.jpg"
    Image.fromarray(colour_photo(4000, 3000)).save(big, quality=90)
    page.locator("#upload input[type=file]").set_input_files(str(big))
    wait_status(page, "4000x3000")
    assert page.locator("#download").inner_text().strip() == "Download full-resolution PNG (4000x3000)"
    assert page.locator("button:has-text('Make full-resolution')").count() == 0   # one button, no look-alike
    seen = []
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.click("#download")
        # the progress is shown while the file is made (steps, and no "elapsed/estimate")
        page.wait_for_function("() => /full resolution|PNG/.test(document.querySelector('#download-note')"
                               ".closest('.block, div').innerText)")
        seen.append(page.locator("#download-note").evaluate("e => e.closest('.block, div').innerText"))
    saved = tmp_path / "saved.png"
    info.value.save_as(saved)
    with Image.open(saved) as img:
        assert img.format == "PNG" and img.size == (4000, 3000)
    assert info.value.suggested_filename == "big-lab-general.png"
    wait_status(page, "4000x3000")
    page.wait_for_function("() => document.querySelector('#download-note').innerText.includes('Ready')")
    assert not any(re.search(r"\d+\.\d/\d+\.\ds", s) for s in seen), seen


def test_the_tint_starts_at_the_results_own_cast(page):
    """Turned on in the hints panel, the tint is the current result's mean a, b (not a fixed
    sepia), with a strength slider beside it."""
    import json
    import urllib.request
    from io import BytesIO

    from colorlab.serving import tint as tints
    page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
    wait_status(page, "lab-general")
    page.wait_for_function(SLIDER_READY)
    with urllib.request.urlopen(after_src(page)) as r:
        after = Image.open(BytesIO(r.read())).convert("RGB")
    page.locator("#hints-box").get_by_text("Colour hints").first.click()
    page.locator("#tint-on input").check()
    page.wait_for_function("() => document.querySelector('#hints-json textarea').value.includes('tint')")
    tint = json.loads(page.input_value("#hints-json textarea"))["tint"]
    assert tints.same_tint(tint, tints.cast_of(after)), (tint, tints.cast_of(after))
    assert page.locator("#tint-strength").is_visible()


def test_on_a_phone_the_flow_fits_about_one_and_a_half_screens(app, browser):
    """At 390x844 the upload, the model choice, the button, the result and its download end
    within about 1.5 screens, and every example is shown with its whole caption."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app)
        page.wait_for_selector("#colorize-btn")
        page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
        wait_status(page, "lab-general")
        page.wait_for_function(SLIDER_READY)
        bottom = page.evaluate("() => document.querySelector('#download').getBoundingClientRect().bottom + scrollY")
        assert bottom <= 1.6 * 844, f"the download ends at {bottom:.0f} px, {bottom / 844:.2f} screens"
        shown = page.evaluate(ALL_EXAMPLES_SHOWN)
        assert shown["n"] == 12 and shown["inside"] and not shown["cut"], shown
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "colorize-390x844.png"), full_page=True)
    finally:
        page.close()
