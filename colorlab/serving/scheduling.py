"""Sharing a small CPU between quick jobs and long ones.

Torch already spreads one inference over every core, so two inferences at once only
slow each other down (and thrash the cache). The app therefore runs inference through a
``CpuGate`` with as many slots as it allows concurrent jobs. Quick jobs (one model:
Colorize, Channels) take a slot for their whole inference; a long job (Compare: every
model in turn) takes a slot for one model at a time and, between models, lets every
waiting quick job go first. So a visitor's Colorize waits for at most one model of
somebody else's Compare, never for the whole comparison.
"""
from __future__ import annotations

import contextlib
import threading


class CpuGate:
    def __init__(self, slots: int = 1):
        if slots < 1:
            raise ValueError(f"a gate needs at least one slot, got {slots}")
        self.slots = slots
        self._cv = threading.Condition()
        self._running = 0
        self._quick_waiting = 0

    @contextlib.contextmanager
    def quick(self):
        """Hold a slot for a quick job; it goes ahead of any waiting long-job step."""
        with self._cv:
            self._quick_waiting += 1
            try:
                self._cv.wait_for(lambda: self._running < self.slots)
            finally:
                self._quick_waiting -= 1
            self._running += 1
        try:
            yield
        finally:
            self._release()

    @contextlib.contextmanager
    def step(self):
        """Hold a slot for one step of a long job, once no quick job is waiting."""
        with self._cv:
            self._cv.wait_for(lambda: self._running < self.slots and not self._quick_waiting)
            self._running += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._cv:
            self._running -= 1
            self._cv.notify_all()


__all__ = ["CpuGate"]
