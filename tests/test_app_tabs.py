"""The tabs outside Colorize in a real browser on a phone (390x844, Chromium via Playwright):
every tab is reachable from the tab bar (none behind a "..." menu) and shows its content with
nothing wider than the screen; Compare shows the grey input's row and whole model names.
On the tiny untrained test checkpoints (conftest ``weights_dir``)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from apphelp import BROWSER_MARKS, colour_photo, running_app

TIMEOUT_MS = 120_000

pytestmark = BROWSER_MARKS

# tab label -> a selector of what that tab shows
TABS = {"Colorize": "#upload", "Compare": "button:has-text('Compare all models')",
        "Channels": "button:has-text('Show channels')", "Turing test": "#cl-organiser",
        "Models": "#cl-models-table"}
# the tab bar's buttons a person can see and press: the bar's own, and any a narrow screen moves
# to a second row (never the 1-px copies Gradio keeps to measure them)
TAB_BUTTONS = ".tabs [role=tab], .tabs .overflow-dropdown button"
OFF_SCREEN = """() => {
  // what sticks out past the screen's right edge and cannot be scrolled to: not inside a
  // scrolling box (a wide table or a strip of examples may scroll sideways) that itself fits
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === 'auto' || o === 'scroll') && p.getBoundingClientRect().right <= innerWidth + 1)
        return true; }
    return false; };
  const out = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return e.offsetParent !== null && r.width > 1 && r.right > innerWidth + 1 && !scrolls(e);
  }).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5);
  if (document.documentElement.scrollWidth > innerWidth + 1) out.push('the page scrolls sideways');
  return out;
}"""


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    with running_app(weights_dir, tmp_path_factory.mktemp("tabs")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def phone(app, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app)
    page.wait_for_selector("#upload")
    yield page
    page.close()


def tab_button(page, label):
    return page.locator(TAB_BUTTONS).filter(has_text=label).first


def test_every_tab_is_reachable_on_a_phone(phone):
    assert not phone.locator(".tabs .overflow-menu > button").is_visible()   # no "..." menu
    for label, content in TABS.items():
        button = tab_button(phone, label)
        box = button.bounding_box()
        assert box and box["width"] > 30 and 0 <= box["x"] and box["x"] + box["width"] <= 390, (label, box)
        button.tap()
        phone.locator(content).first.wait_for(state="visible")
        assert phone.locator(".tabs [role=tab][aria-selected=true]").inner_text() == label
        assert phone.evaluate(OFF_SCREEN) == [], label   # nothing wider than the screen, nothing cut


def test_compare_on_a_phone_shows_the_grey_row_and_whole_names(phone, weights_dir, tmp_path):
    photo = tmp_path / "colour.png"
    Image.fromarray(colour_photo(120, 90)).save(photo)
    tab_button(phone, "Colorize").tap()
    phone.locator("#upload input[type=file]").set_input_files(str(photo))
    phone.wait_for_selector("#preview img")
    tab_button(phone, "Compare").tap()
    phone.get_by_role("button", name="Compare all models").tap()
    rows = "#cl-compare-table [role=row]"   # Gradio's table draws its body rows as role=row divs
    grey = phone.locator(rows, has_text="grey input (no colour added)")
    grey.wait_for(state="visible")
    cells = [c.strip() for c in grey.locator("[role=gridcell]").all_inner_texts()]
    assert float(cells[2]) > 0 and "★" not in "".join(cells)       # the grey's PSNR, never starred
    truth = phone.locator(rows, has_text="true photo (reference)").locator("[role=gridcell]").all_inner_texts()
    assert float(truth[-1]) > 0                                     # the truth's colourfulness
    names = sorted(p.stem for p in Path(weights_dir).glob("*.safetensors"))
    captions = phone.locator("#cl-compare-grid .caption-label")
    assert captions.count() == len(names)
    for i in range(len(names)):
        cap = captions.nth(i)
        assert cap.inner_text().split("\n")[0] == names[i]
        # the whole caption is shown: nothing clipped by the cell, no ellipsis
        assert cap.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && getComputedStyle(e).whiteSpace !== 'nowrap'")
    body = "".join(phone.locator(rows).all_inner_texts())
    assert body.count("★") == 5                                     # the best per metric, time included
    # every number is whole on one line (a cell never breaks "10.56" in two)
    for cell in phone.locator(f"{rows} [role=gridcell]:not(.first-column) span").all():
        assert cell.evaluate("e => e.getClientRects().length <= 1 && e.getBoundingClientRect().right"
                             " <= e.closest('[role=gridcell]').getBoundingClientRect().right + 1")
    assert "lower is better" in phone.locator("#cl-compare-legend").inner_text()
    assert phone.evaluate(OFF_SCREEN) == []


MODELS_TABLE_FITS = """() => {
  // the table's scrolling box and every cell shown: nothing wider than its box, no text cut
  const t = document.querySelector('#cl-models-table'), box = t.querySelector('.virtual-table-viewport');
  const cells = [...t.querySelectorAll('th, .body-cell')].filter(c => c.offsetParent !== null);
  const cut = cells.filter(c => { const s = c.querySelector('span'); if (!s) return false;
    const r = document.createRange(); r.selectNodeContents(s);
    const a = r.getBoundingClientRect(), b = c.getBoundingClientRect();
    return a.width > 0 && (a.right > b.right + 1 || a.left < b.left - 1); }).map(c => c.innerText);
  return {table: [t.scrollWidth, t.clientWidth], box: [box.scrollWidth, box.clientWidth], cut,
          headers: [...t.querySelectorAll('th')].filter(c => c.offsetParent !== null).map(c => c.innerText.trim())};
}"""


def test_the_models_table_fits_a_phone(phone):
    """At 390 px the Models table does not scroll sideways (its 15 columns took 1900 px): the
    model and three metrics across the width, every header and value whole, and a line saying
    where the other columns are."""
    tab_button(phone, "Models").tap()
    phone.locator("#cl-models-table [role=gridcell]").first.wait_for(state="visible")
    fits = phone.evaluate(MODELS_TABLE_FITS)
    assert fits["box"][0] <= fits["box"][1] + 1 and fits["table"][0] <= fits["table"][1] + 1, fits
    assert fits["headers"] == ["model", "PSNR ↑", "SSIM ↑", "CIEDE2000 ↓"] and not fits["cut"], fits
    assert "card below has the rest" in phone.inner_text("#cl-models-narrow")
    assert phone.evaluate(OFF_SCREEN) == []
