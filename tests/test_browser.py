"""The app in a real browser: Debian's headless Chromium driven by Playwright.

Upload a photo, colorize it and see both images of the before/after slider; then
play one side-by-side Turing study session to its result and open the results view.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from apphelp import ROOT, running_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 90_000

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                 reason=f"{CHROMIUM} is missing: install Debian's chromium package")]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")


TOKEN = "browser-organiser-token"


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("COLORLAB_ORGANISER_TOKEN", TOKEN)   # the server inherits it: publishing is on
    try:
        with running_app(weights_dir, tmp_path_factory.mktemp("browser")) as (url, data):
            yield url
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def page(app):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app)
        yield page
        browser.close()


def test_upload_colorize_and_see_both_slider_images(page):
    photo = ROOT / "examples" / "landscapes" / "0aba840f0f5a.jpg"
    page.locator("#upload input[type=file]").set_input_files(str(photo))
    # the preview appears once the upload is complete and the app has read the file
    page.wait_for_function("() => { const i = document.querySelector('#preview img');"
                           " return i && i.complete && i.naturalWidth === 256; }")
    page.click("#colorize-btn")
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#slider img')];"
        " return imgs.length >= 2 && imgs.every(i => i.complete && i.naturalWidth > 0); }")
    sizes = page.eval_on_selector_all("#slider img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])")
    assert sizes[:2] == [[256, 256], [256, 256]]
    srcs = page.eval_on_selector_all("#slider img", "els => els.map(e => e.src)")
    assert all(s.endswith(".png") for s in srcs[:2]) and srcs[0] != srcs[1]
    status = page.inner_text("#colorize-status")
    assert "lab-general" in status and "reference" in status


def test_side_by_side_session_to_its_result(page, app):
    """A 2AFC study with a 1.5 s exposure limit, opened from its rater link: both pictures
    show, hide after the limit, the rater picks a side four times, sees the result, and the
    results view and the CSV export have the four answers."""
    from gradio_client import Client
    client = Client(app, verbose=False)
    note, _ = client.predict(TOKEN, "2afc", ["lab-general", "rgb-general"], ["landscapes"], 3, 25, 1500, True, None,
                             api_name="/turing_publish")
    study_id = re.search(r"Study \*\*(\d+)\*\*", note).group(1)
    assert "3 trials + 1 attention checks" in note
    page.goto(f"{app}?study={study_id}")
    page.get_by_role("tab", name="Turing test").click()
    page.wait_for_function(f"() => document.querySelector('#turing-study textarea, #turing-study input')"
                           f".value === '{study_id}'")
    page.click("#turing-start")
    srcs = set()
    for k in range(4):
        page.wait_for_function(f"() => document.querySelector('#turing-text').innerText.includes('{k + 1} of 4')")
        page.wait_for_function("() => ['#turing-left', '#turing-right'].every(s => {"
                               " const i = document.querySelector(s + ' img');"
                               " return i && i.complete && i.naturalWidth === 256; })")
        assert not page.locator("#turing-real").is_visible()          # the single-image buttons are hidden
        pair = page.eval_on_selector_all("#turing-left img, #turing-right img", "els => els.map(e => e.src)")
        assert len(pair) == 2 and pair[0] != pair[1] and not srcs & set(pair)
        srcs |= set(pair)
        if k == 0:   # the exposure limit: visible first, hidden after 1.5 s
            assert page.eval_on_selector("#turing-left", "e => getComputedStyle(e).visibility") == "visible"
            page.wait_for_function("() => getComputedStyle(document.querySelector('#turing-left')).visibility"
                                   " === 'hidden'", timeout=15_000)
        page.click("#turing-left-btn" if k % 2 else "#turing-right-btn")
    page.wait_for_function("() => document.querySelector('#turing-text').innerText.includes('Finished')")
    assert "of 4 correct" in page.inner_text("#turing-text")
    assert not page.locator("#turing-left-btn").is_visible()
    page.locator("#turing-results-box").get_by_text("Results").first.click()
    page.click("#turing-results")
    page.wait_for_function("() => document.querySelector('#turing-results-note').innerText.includes('answers')")
    assert page.inner_text("#turing-results-note").startswith(f"4 answers in study {study_id} (2afc")
    page.wait_for_selector("#turing-plot img, #turing-plot svg, #turing-plot canvas")
    rows = Path(client.predict(study_id, api_name="/turing_export")).read_text().splitlines()
    assert rows[0].startswith("study_id,protocol,session_id,trial,photo,category,condition,kind")
    body = [r.split(",") for r in rows[1:]]
    assert len(body) == 4 and {r[1] for r in body} == {"2afc"} and sum(r[7] == "catch" for r in body) == 1
    assert all(r[9].count("|") == 1 and "real" in r[9] for r in body)    # shown order, side by side
