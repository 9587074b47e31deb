"""bench/run.py's report: a partial run keeps the sections it did not re-run, marked as older."""
from __future__ import annotations

import json
from types import SimpleNamespace

from bench import run as bench


def test_a_partial_run_carries_the_other_sections_over(tmp_path):
    train = [{"spec": {"architecture": "cunet", "arch": {}, "space": "lab", "loss": "mse", "example": "lab-x"},
              "images_per_s": 26.5, "step_s": 0.6, "trainable": 470000, "params": 470000, "peak_mb": 936}]
    prev = tmp_path / "results.json"
    prev.write_text(json.dumps({"machine": {"commit": "abc1234", "date": "2026-11-30 10:00"}, "train": train,
                                "latency": [], "app": None, "big": None}))
    results = {"latency": [], "train": None, "app": None, "big": None}
    origin = bench.carry_over(results, prev)
    assert results["train"] == train and origin == {"train": "commit abc1234, 2026-11-30 10:00"}
    assert results["latency"] == []                      # what was run this time stays
    info = {"date": "2026-12-02", "commit": "def5678", "cpu": "x", "cores": 2, "affinity": 2, "torch": "t",
            "python": "p", "load": 0.0}
    args = SimpleNamespace(threads=2, quick=False, runs=5)
    text = bench.render(info, results["latency"], results["train"], None, args, origin)
    section = text.split("## Training throughput")[1]
    assert "Not re-run this time: from the run of commit abc1234" in section and "| 26.5 |" in section
    # carried again by a later partial run, it keeps its first origin
    prev.write_text(json.dumps({"machine": {"commit": "def5678"}, **results, "origin": origin}))
    again = {"latency": [], "train": None, "app": None, "big": None}
    assert bench.carry_over(again, prev) == origin
    assert bench.carry_over(dict.fromkeys(bench.SECTIONS), tmp_path / "none.json") == {}
