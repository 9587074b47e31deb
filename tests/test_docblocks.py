"""Every generated block in the README and docs/ is current (fast; the slow tests in
test_shipped.py regenerate the results in full).

* every ``<!-- NAME:start -->`` block on any page is registered in ``docblocks.PAGES`` and lives
  on its page, once; every registered block is there;
* hints, bench and suggestions: regenerated from docs/hints_curve.json, bench/results.json and
  docs/suggestions.json and compared;
* results and headline (bootstrap intervals: too slow here): their stamp names the current
  sidecars and per-image scores, and their text is the generated one (no hand edits);
* the pages generated whole: docs/claims.md by its stamp, bench/soak.md regenerated from its JSON.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from colorlab.tools import docblocks

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(name: str) -> str:
    return docblocks.blocks(docblocks.page(name).read_text())[name]


def test_every_block_is_registered_and_on_its_page():
    seen = {}
    for page in PAGES:
        text = page.read_text()
        for name in docblocks.blocks(text):
            assert name in docblocks.PAGES, f"{page.name}: block {name!r} has no generator in docblocks.PAGES"
            assert page == docblocks.page(name), f"block {name!r} is on {page.name}, not {docblocks.PAGES[name][0]}"
            assert text.count(f"<!-- {name}:start -->") == 1, f"{page.name}: block {name!r} twice"
            seen[name] = page
    assert set(seen) == set(docblocks.PAGES), f"blocks missing: {set(docblocks.PAGES) - set(seen)}"


def test_hints_block_is_what_the_stored_scores_give():
    from train import hints_curve
    data = json.loads((ROOT / "docs" / "hints_curve.json").read_text())
    assert _blocks("hints").strip() == hints_curve.table(data).strip(), (
        "docs/hints.md's block is not what docs/hints_curve.json gives: "
        "rerun `python -m train.hints_curve --from-json`")


def test_bench_block_is_what_the_stored_run_gives():
    from bench import run
    data = json.loads((ROOT / "bench" / "results.json").read_text())
    assert _blocks("bench") == run.page_block(run.report_from_json(data)), (
        "docs/benchmarks.md's block is not what bench/results.json gives: rerun `python -m bench.run`")


def test_hostile_block_is_what_the_stored_run_gives():
    from bench import hostile
    data = json.loads((ROOT / "bench" / "hostile.json").read_text())
    assert _blocks("hostile") == docblocks.demote_headings(hostile.render(data).rstrip("\n") + "\n"), (
        "docs/benchmarks.md's hostile block is not what bench/hostile.json gives: "
        "rerun `python -m bench.run --hostile`")


def test_suggestions_block_is_what_the_stored_measurements_give():
    from train import suggestions_report
    data = json.loads((ROOT / "docs" / "suggestions.json").read_text())
    assert _blocks("suggestions") == suggestions_report.readme_block(data), (
        "the README's suggestions block is not what docs/suggestions.json gives: "
        "rerun `python -m train.suggestions_report`")


@pytest.mark.parametrize("name", ["results", "headline"])
def test_results_blocks_are_stamped_with_the_current_inputs(name):
    from colorlab.checkpoints import WEIGHTS_DIR
    from train import report
    body, inputs, unedited = docblocks.read_stamp(_blocks(name))
    assert inputs is not None, f"the {name} block has no stamp: rerun `python -m train.report`"
    assert unedited, f"the {name} block was edited by hand: rerun `python -m train.report`"
    want = docblocks.files_digest(report.inputs(WEIGHTS_DIR, ROOT / "docs" / "scores"))
    assert inputs == want, (f"the {name} block was made from other sidecars or scores: "
                            "rerun `python -m train.report` (after `python -m train.scores`)")


def test_claims_page_is_stamped_with_the_current_scores():
    """docs/claims.md is generated whole by `python -m train.claims` (bootstrap: ~30 s), so it is
    checked by its stamp like the results."""
    from train import claims
    body, inputs, unedited = docblocks.read_stamp((ROOT / "docs" / "claims.md").read_text())
    assert inputs is not None and unedited, "docs/claims.md is not as train.claims wrote it: rerun it"
    scores = ROOT / "docs" / "scores"
    want = docblocks.files_digest(claims.inputs(scores, [scores / "claims"], ROOT / "docs" / "seeds.json",
                                                ROOT / "docs" / "suggestions.json"))
    assert inputs == want, "docs/claims.md was made from other scores: rerun `python -m train.claims`"


def test_soak_page_is_what_the_stored_run_gives():
    from bench import soak
    data = json.loads((ROOT / "bench" / "soak.json").read_text())
    assert (ROOT / "bench" / "soak.md").read_text() == soak.render(data), (
        "bench/soak.md is not what bench/soak.json gives: rerun `python -m bench.soak`")


def test_replace_and_stamp_round_trip(tmp_path):
    text = "a\n<!-- x-y:start -->\nold\n<!-- x-y:end -->\nb\n"
    assert docblocks.replace(text, "x-y", "new") == "a\n<!-- x-y:start -->\nnew\n<!-- x-y:end -->\nb\n"
    assert docblocks.replace("a <!-- x-y:end --> <!-- x-y:start -->", "x-y", "n") is None
    page = tmp_path / "p.md"
    page.write_text("plain\n")
    with pytest.raises(ValueError, match="no <!-- x-y:start -->"):
        docblocks.write(page, "x-y", "n")
    assert page.read_text() == "plain\n"
    body, inputs, unedited = docblocks.read_stamp(docblocks.stamp("| a |\n", "0123456789abcdef"))
    assert (body.strip(), inputs, unedited) == ("| a |", "0123456789abcdef", True)
    edited = docblocks.stamp("| a |\n", "0123456789abcdef").replace("| a |", "| b |")
    assert docblocks.read_stamp(edited)[2] is False
    markdown = "## A\n```\n## code\n```\ntext ## no\n"
    assert docblocks.demote_headings(markdown) == "#" + markdown
