"""The CPU gate (colorlab.serving.scheduling): who goes next, and what it records. No server, no model."""
from __future__ import annotations

import threading
import time

from colorlab.serving import scheduling
from colorlab.serving.scheduling import CpuGate, pause_point


def _queue_up(gate, jobs, order, hold=0.05):
    """Hold the gate with a blocker, start ``jobs`` [(client, big)] one after another (each
    waiting before the next starts), release: returns the order they ran in."""
    release = threading.Event()

    def blocker():
        with gate.quick(client="blocker"):
            release.wait(10)

    def job(label, client, big):
        with gate.quick(big=big, client=client):
            order.append(label)
            time.sleep(hold)
    threads = [threading.Thread(target=blocker)]
    threads[0].start()
    time.sleep(0.05)
    for i, (client, big) in enumerate(jobs):
        t = threading.Thread(target=job, args=(f"{client}{i}", client, big))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while len(gate._waiting) < i + 1 and time.monotonic() < deadline:   # it waits before the next comes
            time.sleep(0.005)
    release.set()
    for t in threads:
        t.join(10)
    return order


def test_a_newcomer_waits_for_one_job_of_a_client_with_many_waiting_not_all():
    order = _queue_up(CpuGate(1), [("flood", False)] * 4 + [("visitor", False)], [])
    assert order.index("visitor4") == 1, order          # after the flood's first job, not its four
    assert order[0] == "flood0" and order[2:] == ["flood1", "flood2", "flood3"], order


def test_clients_take_turns_and_small_jobs_still_go_before_big_ones():
    jobs = [("a", True), ("a", False), ("a", False), ("b", False), ("c", True), ("b", False)]
    order = _queue_up(CpuGate(1), jobs, [])
    small, big = order[:4], order[4:]
    assert set(small) == {"a1", "a2", "b3", "b5"} and set(big) == {"a0", "c4"}, order
    assert small == ["a1", "b3", "a2", "b5"], order   # a and b alternate
    # "blocker" was served last of all, so a client never served before goes first: a1 (arrived first)
    assert small[0] == "a1" and big == ["c4", "a0"], order    # a was just served: c's big job first


def test_every_job_records_its_wait_hold_and_pauses():
    gate = CpuGate(1)
    started = threading.Event()

    def big():
        with gate.quick(big=True, name="bigjob", client="x"):
            started.set()
            for _ in range(6):
                time.sleep(0.04)
                pause_point()

    def small():
        started.wait(5)
        time.sleep(0.05)
        with gate.quick(name="smalljob", client="y"):
            time.sleep(0.1)
    threads = [threading.Thread(target=big), threading.Thread(target=small)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    by_name = {t.name: t for t in gate.timings}
    b, s = by_name["bigjob"], by_name["smalljob"]
    assert b.kind == "big" and s.kind == "small"
    assert b.pauses == 1 and 0.08 <= b.paused < 1.0, b           # it waited while the small job ran
    assert 0.2 <= b.held < 1.5 and 0.03 <= b.longest < 0.5, b   # six stretches of 0.04 s; pauses left out
    assert b.longest_to.startswith("big:"), b                   # where the longest stretch ended
    assert s.waited < 0.2 and s.held >= 0.09, s                 # one stretch of the big job at most


def test_the_gate_remembers_a_bounded_number_of_clients(monkeypatch):
    monkeypatch.setattr(scheduling, "SERVED_CLIENTS", 3)
    gate = CpuGate(1)
    for i in range(10):
        with gate.quick(client=f"c{i}"):
            pass
    assert list(gate._served) == ["c7", "c8", "c9"]
    assert len(gate.timings) == 10 and gate.timings.maxlen == scheduling.RECENT


def test_a_big_jobs_finishing_work_gives_way_too(tmp_path):
    """After the pipeline's last band, the app still scores, reduces and encodes a large result:
    each of those steps starts at a pause point (so a small job waits for one of them, not all)."""
    import numpy as np

    from colorlab.serving import uploads

    class Counting:
        calls = 0

        def pause(self):
            Counting.calls += 1
    scheduling._held.gate = Counting()
    try:
        big = np.zeros((2000, 3000, 3), np.uint8)
        uploads.metric_view(big)
        shown = uploads.display_image(big)
        uploads.save_png(shown, tmp_path, "a.png")
    finally:
        scheduling._held.gate = None
    assert Counting.calls == 3
    pause_point()    # no gate held: nothing happens


def test_a_small_job_waits_for_one_stretch_of_a_compare_model_not_the_whole_model():
    gate, order, started = CpuGate(1), [], threading.Event()

    def compare_model():
        with gate.step("model"):
            started.set()
            for i in range(6):
                time.sleep(0.04)
                order.append(f"band{i}")
                pause_point()

    def small():
        started.wait(5)
        time.sleep(0.05)
        with gate.quick():
            order.append("small")

    def big():
        started.wait(5)
        time.sleep(0.08)             # arrives while the step is paused for the small job
        with gate.quick(big=True):
            order.append("big")
    threads = [threading.Thread(target=f) for f in (compare_model, small, big)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order.index("small") <= 3, order                   # within a band or two, not after all six
    assert order.index("big") > order.index("band5"), order   # the paused step is not overtaken by a big job
    assert next(t for t in gate.timings if t.kind == "step").pauses == 1
