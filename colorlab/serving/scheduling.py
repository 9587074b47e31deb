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
  (``step()``) and, between models, lets every waiting quick job go first; within a step it
  gives way to small jobs at pause points as a big job does (and counts as the paused one).

So a small job waits for at most one band or pass of a big job or of a Compare's model, not
for the whole of either. Quick jobs that wait are served *by client* (``quick(client=...)``,
the app passes the client's address): among the waiting jobs of one kind, the job of the client
served longest ago goes first, then the oldest; so a client with several jobs waiting (a flood
is allowed ``PER_CLIENT_EVENTS``) gets one served in turn with every other client's, and a
newcomer waits for at most one job of each other client, not for all of them.
``pause_point()`` is a no-op in a thread that holds no big slot (the CLI, the tests, the
library used alone).

Every job's time at the gate is recorded (``Timing``: waiting for a slot, holding it, paused),
the last ``RECENT`` in ``CpuGate.timings``, and logged at DEBUG on ``colorlab.gate`` (the app
turns that log on with ``COLORLAB_GATE_LOG=1``): what the hostile-traffic benchmark reads to
tell the CPU's wait from Gradio's.
"""
from __future__ import annotations

import collections
import contextlib
import logging
import sys
import threading
import time
from dataclasses import dataclass

_held = threading.local()     # .gate: the CpuGate whose big slot this thread holds
log = logging.getLogger("colorlab.gate")
RECENT = 1000                 # timings kept per gate (bounded: a long-running server)
SERVED_CLIENTS = 4096         # clients whose last service the gate remembers (bounded, oldest forgotten)


@dataclass
class Timing:
    """One job's time at the gate, in seconds: ``waited`` for its slot, ``held`` it (pauses
    left out), ``paused`` while small jobs went first (a big job only); ``kind`` is small, big
    or step; ``name`` what the caller called it (the handler's name in the app)."""
    kind: str
    name: str = ""
    waited: float = 0.0
    held: float = 0.0
    paused: float = 0.0
    pauses: int = 0
    longest: float = 0.0      # a big job or step: the longest stretch it ran without reaching a pause point...
    longest_to: str = ""      # ...and where that stretch ended (function:line, or "end")
    _mark: float = 0.0

    def stretch(self, now: float, where: str) -> None:
        """A pause point (or the end) reached at ``now``: the stretch since the last one."""
        if now - self._mark > self.longest:
            self.longest, self.longest_to = now - self._mark, where
        self._mark = now


class _Ticket:
    """A quick job waiting for a slot: its kind, client and arrival number."""
    __slots__ = ("big", "client", "seq")

    def __init__(self, big: bool, client: str, seq: int):
        self.big, self.client, self.seq = big, client, seq


class CpuGate:
    def __init__(self, slots: int = 1):
        if slots < 1:
            raise ValueError(f"a gate needs at least one slot, got {slots}")
        self.slots = slots
        self._cv = threading.Condition()
        self._running = 0
        self._paused = 0
        self._waiting: list[_Ticket] = []       # quick jobs waiting for a slot
        self._served: collections.OrderedDict[str, int] = collections.OrderedDict()   # client -> last served
        self._seq = 0
        self.pauses = 0           # how often a big job let a small one go first (for tests and the bench)
        self.timings: collections.deque[Timing] = collections.deque(maxlen=RECENT)

    # ------------------------------------------------------------ who goes next
    def _order(self, t: _Ticket) -> tuple[int, int]:
        """Sort key among waiting jobs of one kind: the client served longest ago (never: first), then arrival."""
        return self._served.get(t.client, -1), t.seq

    def _first(self, big: bool) -> _Ticket | None:
        return min((t for t in self._waiting if t.big == big), key=self._order, default=None)

    @property
    def _small_waiting(self) -> int:
        """How many small jobs wait for a slot."""
        return sum(1 for t in self._waiting if not t.big)

    def _may_go(self, t: _Ticket) -> bool:
        if self._running >= self.slots:
            return False
        if t.big and (self._small_waiting or self._paused):
            return False
        return self._first(t.big) is t

    def _serve(self, t: _Ticket) -> None:
        self._served[t.client] = t.seq
        self._served.move_to_end(t.client)
        while len(self._served) > SERVED_CLIENTS:   # bounded: a forgotten client was served long ago
            self._served.popitem(last=False)

    # ------------------------------------------------------------ the three kinds of job
    @contextlib.contextmanager
    def quick(self, big: bool = False, name: str = "", client: str = ""):
        """Hold a slot for a quick job; it goes ahead of any waiting long-job step. A ``big`` one
        also gives way to small jobs at its pause points (and waits while another big job is
        paused). ``client`` (e.g. the address) orders the waiting jobs of one kind (see the module)."""
        timing, t0 = Timing("big" if big else "small", name), time.perf_counter()
        with self._cv:
            ticket = _Ticket(big, client, self._seq)
            self._seq += 1
            self._waiting.append(ticket)
            try:
                self._cv.wait_for(lambda: self._may_go(ticket))
            finally:
                self._waiting.remove(ticket)
                self._cv.notify_all()     # the next in order may now be someone else
            self._serve(ticket)
            self._running += 1
        timing.waited = time.perf_counter() - t0
        timing._mark = t0 + timing.waited
        previous, previous_timing = getattr(_held, "gate", None), getattr(_held, "timing", None)
        _held.gate, _held.timing = (self if big else None), timing
        try:
            yield
        finally:
            _held.gate, _held.timing = previous, previous_timing
            if big:
                timing.stretch(time.perf_counter(), "end")
            self._release()
            self._record(timing, t0)

    @contextlib.contextmanager
    def step(self, name: str = ""):
        """Hold a slot for one step of a long job, once no quick job is waiting or paused; like a big
        job, the step gives way to small jobs at its pause points (a paused step counts as the one
        paused big job: no big job starts meanwhile)."""
        timing, t0 = Timing("step", name), time.perf_counter()
        with self._cv:
            self._cv.wait_for(lambda: self._running < self.slots and not self._waiting and not self._paused)
            self._running += 1
        timing.waited = time.perf_counter() - t0
        timing._mark = t0 + timing.waited
        previous, previous_timing = getattr(_held, "gate", None), getattr(_held, "timing", None)
        _held.gate, _held.timing = self, timing
        try:
            yield
        finally:
            _held.gate, _held.timing = previous, previous_timing
            timing.stretch(time.perf_counter(), "end")
            self._release()
            self._record(timing, t0)

    def _record(self, timing: Timing, t0: float) -> None:
        timing.held = time.perf_counter() - t0 - timing.waited - timing.paused
        self.timings.append(timing)
        log.debug("%s %s waited %.3f held %.3f paused %.3f pauses %d longest %.3f to %s", timing.kind, timing.name,
                  timing.waited, timing.held, timing.paused, timing.pauses, timing.longest, timing.longest_to or "-")

    def pause(self) -> None:
        """Called by the thread holding a big slot or a step: if small jobs wait, let them run, then resume."""
        timing = getattr(_held, "timing", None)
        if timing is not None:
            caller = sys._getframe(2)    # who called pause_point()
            timing.stretch(time.perf_counter(), f"{caller.f_code.co_name}:{caller.f_lineno}")
        with self._cv:
            if not self._small_waiting:
                return
            self._running -= 1
            self._paused += 1
            self.pauses += 1
            self._cv.notify_all()
            t0 = time.perf_counter()
            try:
                self._cv.wait_for(lambda: self._running < self.slots and not self._small_waiting)
            finally:
                self._paused -= 1
            self._running += 1
        if timing is not None:
            now = time.perf_counter()
            timing.paused += now - t0
            timing.pauses += 1
            timing._mark = now

    def _release(self) -> None:
        with self._cv:
            self._running -= 1
            self._cv.notify_all()


def pause_point() -> None:
    """Where a big job may give way to small ones (see the module); free when no gate is held."""
    gate = getattr(_held, "gate", None)
    if gate is not None:
        gate.pause()


__all__ = ["CpuGate", "Timing", "pause_point"]
