"""The app in a real browser: Debian's headless Chromium driven by Playwright.

Upload a photo, colorize it and see both images of the before/after slider; open a
study's rater link on a phone-sized viewport (390x844) and play a side-by-side session to
its end screen with both pictures in view at once; double-click two answer buttons; check
the exposure limit; publish from the organiser tab and find the token nowhere in the
browser's storage.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from apphelp import BROWSER_MARKS, ROOT, running_app

TIMEOUT_MS = 90_000

pytestmark = BROWSER_MARKS


TOKEN = "browser-organiser-token"


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    with running_app(weights_dir, tmp_path_factory.mktemp("browser"), token=TOKEN) as (url, data):   # publishing on
        yield url, data


@pytest.fixture(scope="module")
def page(app, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app[0])
    return page


def test_upload_colorize_and_see_both_slider_images(page):
    photo = ROOT / "examples" / "landscapes" / "0aba840f0f5a.jpg"
    page.locator("#upload input[type=file]").set_input_files(str(photo))
    # the preview appears once the upload is complete and the app has read the file
    page.wait_for_function("() => { const i = document.querySelector('#preview img');"
                           " return i && i.complete && i.naturalWidth === 256; }")
    # colorized on upload, with no click
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#slider img')];"
        " return imgs.length >= 2 && imgs.every(i => i.complete && i.naturalWidth > 0); }")
    sizes = page.eval_on_selector_all("#slider img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])")
    assert sizes[:2] == [[256, 256], [256, 256]]
    srcs = page.eval_on_selector_all("#slider img", "els => els.map(e => e.src)")
    assert all(s.endswith(".png") for s in srcs[:2]) and srcs[0] != srcs[1]
    status = page.inner_text("#colorize-status")
    assert "lab-general" in status and "reference" in status


def publish(url, exposure_ms=0, trials=3, catch=25) -> str:
    from gradio_client import Client
    note = Client(url, verbose=False).predict(TOKEN, "2afc", ["lab-general", "rgb-general"], True, ["general"], trials,
                                              catch, exposure_ms, True, "open", 30, 0, None,
                                              api_name="/turing_publish")[0]
    return re.search(r"Study \*\*(\d+)\*\*", note).group(1)


@pytest.fixture(scope="module")
def phone(app, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    page.set_default_timeout(TIMEOUT_MS)
    return page


PAIR_LOADED = ("() => { const i = [...document.querySelectorAll('#cl-trial img')];"
               " return i.length === 2 && i.every(x => x.complete && x.naturalWidth === 256); }")
IN_VIEW = """() => {
  const [a, b] = [...document.querySelectorAll('#cl-trial img')].map(i => i.getBoundingClientRect());
  const inside = r => r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.width > 100;
  return {a: [a.left, a.top, a.width, a.height], b: [b.left, b.top, b.width, b.height],
          both: inside(a) && inside(b), side_by_side: a.right <= b.left && Math.abs(a.top - b.top) < 1};
}"""


def wait_trial(page, k, total):
    page.wait_for_function(f"() => (document.querySelector('#cl-progress') || {{innerText: ''}}).innerText.trim()"
                           f" === 'Trial {k} of {total}'")
    page.wait_for_function(PAIR_LOADED)
    page.wait_for_timeout(700)   # a look at the pictures, as a person would take


def test_rater_link_on_a_phone_plays_side_by_side_to_the_end_screen(phone, app):
    """At 390x844 the rater link shows the study and nothing else; in every trial both
    pictures are side by side and fully in view at once, with buttons naming the side."""
    url, data = app
    study_id = publish(url)
    page = phone
    page.goto(f"{url}?study={study_id}")
    page.wait_for_function("() => (document.querySelector('#cl-intro') || {innerText: ''}).innerText"
                           ".includes('4 trials')")
    for hidden in ("#cl-header", "#cl-organiser", "#turing-results-box", "#turing-token", "button[role=tab]"):
        assert not page.locator(hidden).first.is_visible(), f"{hidden} is visible to the rater"
    assert "Ratings are saved" not in page.inner_text("body")   # no storage notice
    page.click("#cl-start")
    shots = Path(__file__).resolve().parent.parent / "runs" / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    for k in range(1, 5):
        wait_trial(page, k, 4)
        page.locator("#cl-trial").scroll_into_view_if_needed()
        geo = page.evaluate(IN_VIEW)
        if k == 1:
            page.screenshot(path=str(shots / "rater-390x844.png"))
        assert geo["side_by_side"] and geo["both"], geo
        assert page.inner_text("#cl-left").strip() == "Left is real"
        assert page.inner_text("#cl-right").strip() == "Right is real"
        assert page.locator("#cl-left").bounding_box()["y"] == pytest.approx(
            page.locator("#cl-right").bounding_box()["y"], abs=2)
        size = page.evaluate("() => { const w = document.createTreeWalker(document.querySelector('#cl-progress'),"
                             " NodeFilter.SHOW_TEXT); let n; while ((n = w.nextNode()) && !n.textContent.trim()) {}"
                             " return parseFloat(getComputedStyle(n.parentElement).fontSize); }")
        assert size >= 20   # a large progress line
        page.click("#cl-left" if k % 2 else "#cl-right")
    page.wait_for_function("() => document.querySelector('#cl-end').innerText.includes('Finished')")
    assert "of 4 trials" in page.inner_text("#cl-end")
    assert not page.locator("#cl-left").is_visible() and page.locator("#cl-trial img").count() == 0
    from colorlab.studies import StudyStore
    assert len(StudyStore(data).answers(int(study_id))) == 4


def test_a_double_click_answers_only_the_trial_on_screen(phone, app):
    """Left, then Right 100 ms later: one answer for trial 1, none for trial 2, and the page
    shows trial 2 (before issue 19 it stored both and jumped 1, 3, 5, ...)."""
    url, data = app
    study_id = publish(url, trials=6, catch=0)
    page = phone
    page.goto(f"{url}?study={study_id}")
    page.click("#cl-start")   # visible once the page has read the link
    from colorlab.studies import StudyStore
    store = StudyStore(data)
    for k in range(1, 4):
        wait_trial(page, k, 6)
        page.click("#cl-left")
        page.wait_for_timeout(100)
        page.click("#cl-right")
        try:
            wait_trial(page, k + 1, 6)
        except Exception:
            page.screenshot(path=str(ROOT / "runs" / "browser" / "double-click-failure.png"))
            raise
        page.wait_for_timeout(1500)   # a wrongly accepted second click would have moved the page on by now
        assert page.inner_text("#cl-progress").strip() == f"Trial {k + 1} of 6"
        rows = store.answers(int(study_id))
        assert sorted(r["trial"] for r in rows) == list(range(k)), rows


def test_exposure_limit_hides_the_pictures(phone, app):
    url, _ = app
    study_id = publish(url, exposure_ms=1500)
    page = phone
    page.goto(f"{url}?study={study_id}")
    page.click("#cl-start")   # visible once the page has read the link
    wait_trial(page, 1, 4)
    assert page.eval_on_selector("#cl-trial", "e => getComputedStyle(e).visibility") == "visible"
    page.wait_for_function("() => getComputedStyle(document.querySelector('#cl-trial')).visibility === 'hidden'",
                           timeout=15_000)
    page.click("#cl-right")
    wait_trial(page, 2, 4)
    assert page.eval_on_selector("#cl-trial", "e => getComputedStyle(e).visibility") == "visible"


def test_the_organiser_token_is_never_stored_by_the_browser(page, app):
    url, _ = app
    page.goto(url)
    page.get_by_role("tab", name="Turing test").click()
    assert page.get_attribute("#turing-token input", "type") == "password"
    page.fill("#turing-token input", TOKEN)
    page.click("#turing-publish")
    page.wait_for_function("() => document.querySelector('#turing-publish-note').innerText.includes('published')")
    page.wait_for_function("() => document.querySelector('#turing-link textarea, #turing-link input').value"
                           ".includes('?study=')")
    link = page.eval_on_selector("#turing-link textarea, #turing-link input", "e => e.value")
    assert link.startswith(url.rstrip("/")) and re.search(r"/\?study=\d+$", link)
    stored = page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert TOKEN not in stored
    assert page.evaluate("async () => (await fetch('gradio_api/runs')).status") == 404


def test_a_new_photo_starts_without_the_last_photos_hints(page):
    """Hints placed on one photo are not applied to the next: the JSON is cleared (undo does
    not bring them back), and a button offers to keep them; pressing it brings them back."""
    first = ROOT / "examples" / "landscapes" / "0aba840f0f5a.jpg"
    page.goto(page.url)
    page.locator("#upload input[type=file]").set_input_files(str(first))
    page.wait_for_function("() => { const i = document.querySelector('#preview img');"
                           " return i && i.complete && i.naturalWidth === 256; }")
    page.locator("#hints-box").get_by_text("Colour hints").first.click()
    box = page.locator("#hints-json textarea")
    box.fill('{"points": [[0.5, 0.5, "#00ff00"]]}')
    box.dispatch_event("input")
    box.blur()
    page.wait_for_function("() => document.querySelector('#hint-table').innerText.includes('#00ff00')")
    second = ROOT / "examples" / "landscapes" / "09ffa8ba01b2.jpg"
    page.locator("#upload button[aria-label='Clear']").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(second))
    page.wait_for_selector("#keep-hints", state="visible")
    assert page.input_value("#hints-json textarea") == ""
    page.wait_for_function("() => document.querySelector('#colorize-status').innerText.includes('lab-general')")
    assert "point hint" not in page.inner_text("#colorize-status")
    page.click("#hint-undo")               # the undo history started again with the new photo
    page.wait_for_timeout(1500)
    assert page.input_value("#hints-json textarea") == ""
    page.click("#keep-hints")
    page.wait_for_function("() => document.querySelector('#hints-json textarea').value.includes('#00ff00')")
