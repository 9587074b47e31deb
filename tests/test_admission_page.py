"""The fair share against what the real page sends: the app's Blocks as ``ui.build()`` makes
them, its events' concurrency groups read from ``demo.fns``, and one tab's honest burst (an
upload, a category change and a click on the photo while the CPU gate is busy) admitted,
while a flooding tab is still refused (colorlab.serving.admission, docs/space.md)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from colorlab.serving import hosting, limits
from colorlab.serving.admission import GATED_IDS, Refused, check_share

# What one tab holds at once when it uploads a photo, ticks another category and clicks the photo
# while other visitors keep the gate busy, as the server logged it (COLORLAB_GATE_LOG=1,
# 2026-12-06): the upload's looks and colorization, the category change's menu step and
# colorization, the click's colours, then the three listeners of the hints' JSON it changed.
HONEST_BURST = ["make_looks", "auto_colorize", "model_changed", "auto_colorize", "click_photo",
                "hints_view", "after_edit", "follow"]


@pytest.fixture
def demo(ui_app, monkeypatch):
    from colorlab import ui
    from colorlab.ui import turing
    monkeypatch.setattr(turing, "storage", lambda: hosting.choose_storage({hosting.DATA_ENV: str(ui_app / "data")}))
    return ui.build()


def groups(demo) -> dict[str, set]:
    """Handler name -> the concurrency groups of the app's events that run it."""
    out: dict[str, set] = {}
    for fn in demo.fns.values():
        if fn.fn is not None:
            out.setdefault(fn.fn.__name__, set()).add(fn.concurrency_id)
    return out


def push(held: list, names: list[str], by_name: dict, session: str = "tab") -> None:
    """Admit events of handlers ``names`` (in order) from one tab, as FairShare's push does."""
    for name in names:
        group = sorted(by_name[name], key=str)[0]
        check_share(held, session, group, total=len(held))
        held.append(SimpleNamespace(session_hash=session, concurrency_id=group))


def test_every_handler_that_takes_the_cpu_gate_is_counted_as_a_job(demo):
    gated = {fn.fn.__name__: fn.concurrency_id for fn in demo.fns.values()
             if fn.fn is not None and getattr(fn.fn, "colorlab_gated", False)}
    assert {"click_photo", "make_looks", "load_photo", "from_photo", "channels", "preview"} <= set(gated), gated
    assert all(group in GATED_IDS for group in gated.values()), gated
    by_name = groups(demo)      # the page's colorizations call the gated _colorize / _full_png
    for name in ("auto_colorize", "press_colorize", "download_png", "colorize", "full_png", "compare"):
        assert by_name[name] and by_name[name] <= GATED_IDS, (name, by_name.get(name))


def test_an_honest_tabs_burst_is_admitted_while_the_gate_is_busy(demo):
    by_name = groups(demo)
    held: list = []
    push(held, HONEST_BURST, by_name)           # (before: model_changed refused, 3 jobs held)
    assert len(held) == len(HONEST_BURST)
    # another tab of the same address (two windows) still gets its own upload in
    push(held, ["make_looks", "auto_colorize"], by_name, session="second tab")


def test_a_flooding_tab_is_still_refused_with_a_clear_message(demo):
    by_name = groups(demo)
    held: list = []
    with pytest.raises(Refused) as jobs:
        push(held, ["auto_colorize"] * 20, by_name)
    assert len(held) == limits.PER_SESSION_EVENTS and jobs.value.status == 429
    assert f"This page already has {limits.PER_SESSION_EVENTS} jobs" in jobs.value.message
    assert f"try again in {limits.RETRY_AFTER} s" in jobs.value.message
    with pytest.raises(Refused, match=f"This page already has {limits.PER_SESSION_QUICK} updates"):
        push(held, ["hints_view"] * 20, by_name)
    # its address's other tabs share one client's caps: jobs, then quick updates
    with pytest.raises(Refused, match=f"Your address already has {limits.PER_CLIENT_EVENTS} jobs"):
        push(held, ["click_photo"] * 20, by_name, session="another tab")
    with pytest.raises(Refused, match=f"Your address already has {limits.PER_CLIENT_QUICK} updates"):
        push(held, ["after_edit"] * 20, by_name, session="another tab")


def test_a_change_made_while_a_colorization_waits_is_run_after_it_not_dropped(demo):
    """Gradio's default trigger mode ("once") drops an event whose last run is still pending: a
    second category ticked while the first one's colorization waited for the gate was never
    colorized. The colorizations that follow a change, and the menus, run the last change."""
    modes = {}
    for fn in demo.fns.values():
        if fn.fn is not None:
            modes.setdefault(fn.fn.__name__, set()).add(fn.trigger_mode)
    assert modes["auto_colorize"] == {"always_last"}, modes["auto_colorize"]
    assert modes["model_changed"] == modes["design_changed"] == {"always_last"}
