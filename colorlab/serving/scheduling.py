"""Sharing a small CPU between small jobs, big jobs and long ones.

Torch already spreads one inference over every core, so two inferences at once only
slow each other down (and thrash the cache). The app therefore runs inference through a
``CpuGate`` with as many slots as it allows concurrent jobs. Three kinds of job:

* a *small* quick job (a Colorize or preview of a photo of a few megapixels, a few points)
  takes a slot for its whole run and goes ahead of everything else that waits;
* a *big* quick job (a large photo, many points, a large render size: ``quick(big=True)``)
  takes a slot like a small one, but at each ``pause_point()`` on its way (the pipeline
  calls it between bands and passes) it lets any waiting small job run first, then resumes.
  Only one big job is ever paused at a time, and a paused big job is only overtaken by
  small ones, so the server holds at most one big and one small job's memory;
* a *long* job (Compare: every model in turn) takes a slot for one model at a time
  (``step()``) and, between models, lets every waiting quick job go first.

So a small job waits for at most one band or pass of a big job, or one model of a Compare,
not for the whole of either. ``pause_point()`` is a no-op in a thread that holds no big slot
(the CLI, the tests, the library used alone).
"""
from __future__ import annotations

import contextlib
import threading

_held = threading.local()     # .gate: the CpuGate whose big slot this thread holds


class CpuGate:
    def __init__(self, slots: int = 1):
        if slots < 1:
            raise ValueError(f"a gate needs at least one slot, got {slots}")
        self.slots = slots
        self._cv = threading.Condition()
        self._running = 0
        self._small_waiting = 0
        self._big_waiting = 0
        self._paused = 0
        self.pauses = 0           # how often a big job let a small one go first (for tests and the bench)

    @contextlib.contextmanager
    def quick(self, big: bool = False):
        """Hold a slot for a quick job; it goes ahead of any waiting long-job step. A ``big`` one
        also gives way to small jobs at its pause points (and waits while another big job is paused)."""
        with self._cv:
            if big:
                self._big_waiting += 1
                try:
                    self._cv.wait_for(lambda: self._running < self.slots and not self._small_waiting
                                      and not self._paused)
                finally:
                    self._big_waiting -= 1
            else:
                self._small_waiting += 1
                try:
                    self._cv.wait_for(lambda: self._running < self.slots)
                finally:
                    self._small_waiting -= 1
            self._running += 1
        previous = getattr(_held, "gate", None)
        _held.gate = self if big else None
        try:
            yield
        finally:
            _held.gate = previous
            self._release()

    @contextlib.contextmanager
    def step(self):
        """Hold a slot for one step of a long job, once no quick job is waiting or paused."""
        with self._cv:
            self._cv.wait_for(lambda: self._running < self.slots and not self._small_waiting
                              and not self._big_waiting and not self._paused)
            self._running += 1
        try:
            yield
        finally:
            self._release()

    def pause(self) -> None:
        """Called by the thread holding a big slot: if small jobs wait, let them run, then resume."""
        with self._cv:
            if not self._small_waiting:
                return
            self._running -= 1
            self._paused += 1
            self.pauses += 1
            self._cv.notify_all()
            try:
                self._cv.wait_for(lambda: self._running < self.slots and not self._small_waiting)
            finally:
                self._paused -= 1
            self._running += 1

    def _release(self) -> None:
        with self._cv:
            self._running -= 1
            self._cv.notify_all()


def pause_point() -> None:
    """Where a big job may give way to small ones (see the module); free when no gate is held."""
    gate = getattr(_held, "gate", None)
    if gate is not None:
        gate.pause()


__all__ = ["CpuGate", "pause_point"]
