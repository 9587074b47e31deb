"""The README (the Space's card) and the docs pages: short card with its front matter, every
relative link and image resolves, and each page keeps one outline (one ``#`` title; headings
inside generated blocks nest under the page's own, never at ``##`` or above)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from colorlab.tools import docblocks

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _prose(text: str) -> str:
    return FENCE.sub("", text)


def test_readme_is_a_short_card_with_its_front_matter():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert text.startswith("---\n") and "\nsdk: gradio\n" in text and "\napp_file: app.py\n" in text
    for page in PAGES[1:]:
        if page.name not in ("cast.md", "claims.md"):          # generated whole by train.cast / train.claims
            assert f"(docs/{page.name})" in text, f"the README does not link docs/{page.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in LINK.findall(_prose(page.read_text())):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name}: link to {target} does not resolve"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_one_outline_per_page(page):
    text = _prose(page.read_text())
    titles = [line for line in text.splitlines() if re.match(r"# ", line)]
    assert len(titles) == 1, f"{page.name}: {len(titles)} top-level titles"
    for name, body in docblocks.blocks(text).items():
        top = [line for line in _prose(body).splitlines() if re.match(r"#{1,2} ", line)]
        assert not top, f"{page.name}: block {name!r} has headings at the page's level: {top[:2]}"
