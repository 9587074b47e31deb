"""No time estimates that cannot hold: Gradio's "elapsed/estimate" progress text, switched off.

Gradio (6.31) estimates an event's time as the mean run time of its function so far, and
the browser shows "elapsed/estimate s" (e.g. "6.3/3.0s") for as long as the event runs. In
this app that mean says little about the next run: a handler waits for the CPU inside
itself (``colorlab.serving.scheduling``), so its time includes other users' jobs; one
function takes a 0.1-MP photo and a 12-MP one; the first run of a model also loads it. The
elapsed time then overtakes the estimate, which reads as a broken promise. ``install``
keeps Gradio's record of run times (its monitoring reads it) but offers none of it as an
estimate: the browser shows the elapsed time alone, and ``gr.Progress`` its own steps.
"""
from __future__ import annotations

from collections import defaultdict
from importlib.metadata import version


class RunTimes(defaultdict):
    """Gradio's run times per function, recorded as before but never used for an estimate:
    Gradio asks ``fn in times`` before it reads an estimate, and the answer is always no.
    (Recording goes through ``times[fn]``, which still works.)"""

    def __contains__(self, fn) -> bool:
        return False


def install(blocks) -> None:
    """Switch off the time estimates of ``blocks``'s queue (after ``blocks.queue()``).

    Reaches into Gradio's private ``blocks._queue.process_time_per_fn`` (a defaultdict in the
    pinned gradio): re-check it on any Gradio upgrade (docs/development.md, "Pinned install").
    Raises RuntimeError if it is not there as expected, rather than letting estimates come back."""
    times = getattr(getattr(blocks, "_queue", None), "process_time_per_fn", None)
    if not isinstance(times, defaultdict):
        raise RuntimeError(f"gradio {version('gradio')} has no defaultdict blocks._queue.process_time_per_fn "
                           f"(found {type(times).__name__}): colorlab.serving.estimates cannot switch its "
                           "time estimates off; re-check it against this Gradio (docs/development.md)")
    blocks._queue.process_time_per_fn = RunTimes(times.default_factory, times)


__all__ = ["RunTimes", "install"]
