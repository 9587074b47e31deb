"""The app in a real browser: Debian's headless Chromium driven by Playwright.

Upload a photo, colorize it and see both images of the before/after slider; then
play one Turing-test session to its result and open the results view.
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


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    with running_app(weights_dir, tmp_path_factory.mktemp("browser")) as (url, data):
        yield url


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


def test_turing_session_to_its_result(page, app):
    from gradio_client import Client
    Client(app, verbose=False).predict(["hsv-general", "rgb-general"], ["landscapes"], 4, api_name="/turing_publish")
    page.get_by_role("tab", name="Turing test").click()
    page.click("#turing-start")
    for k in range(4):
        page.wait_for_function(f"() => document.querySelector('#turing-text').innerText.includes('{k + 1} of 4')")
        page.wait_for_function("() => { const i = document.querySelector('#turing-image img');"
                               " return i && i.complete && i.naturalWidth === 256; }")
        if k == 0:
            page.locator("#turing-score").get_by_text("4", exact=True).click()   # the optional realism score
        page.click("#turing-real" if k % 2 else "#turing-colorized")
    page.wait_for_function("() => document.querySelector('#turing-text').innerText.includes('Finished')")
    assert "of 4 correct" in page.inner_text("#turing-text")
    assert not page.locator("#turing-real").is_visible()
    page.get_by_text("Results").first.click()
    page.click("#turing-results")
    page.wait_for_function("() => document.querySelector('#turing-results-note').innerText.includes('ratings')")
    assert page.inner_text("#turing-results-note").startswith("4 ratings")
    rows = Path(Client(app, verbose=False).predict(api_name="/turing_export")).read_text().splitlines()[1:]
    assert len(rows) == 4 and sum(bool(re.search(r",(real|colorized),4,", r)) for r in rows) == 1   # round 1 score
