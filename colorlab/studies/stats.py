"""Per-study results from the answer rows (``StudyStore.answers``), with scipy.stats.

* Exclusion rules (``RULES``), each left out by default, counted in the results, and
  waived on request (``include``):
  - "attention": a session fails when it answered catch trials and got fewer than the
    study's ``catch_pass`` share right; the whole session is left out;
  - "fast": a session whose median response time (measured on the server) is below the
    study's ``fast_median_ms`` (300 ms by default: nobody judges pictures that fast);
    the whole session is left out;
  - "late": with an exposure limit, an answer more than ``grace_ms`` after the limit
    (the store flags it); that answer is left out.
* Fooling rate per model and category (and per model over all categories): single image,
  the share of colorizations judged real (real photos judged real are the reference row);
  side by side, the share of trials where the rater chose the colorization as the real
  one, so 50% means indistinguishable. 95% Wilson intervals (``binomtest(...).proportion_ci``).
* Side by side: a two-sided exact binomial test of each model's fooling rate against 50%.
* Pairwise model comparisons: Fisher's exact test on fooled / not fooled, Holm-corrected
  over all pairs.
* Per rater (session): answers, catch trials right, fooled, median response time, included.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from itertools import combinations

import numpy as np
from scipy.stats import binomtest, fisher_exact

from .plan import COLORIZED, REAL, TWO_AFC, Settings
from .pool import CATCH

ALL = "all"
ATTENTION, FAST, LATE = "attention", "fast", "late"
RULES = (ATTENTION, FAST, LATE)
CSV_COLUMNS = ("study_id", "protocol", "session_id", "trial", "photo", "category", "condition", "kind",
               "checkpoint_sha256", "shown_order", "truth", "answer", "correct", "score", "response_ms",
               "late", "attention", "fast", "app_version", "created_at")


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of k successes in n; (0, 1) when n = 0."""
    if n <= 0:
        return 0.0, 1.0
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as given)."""
    order = np.argsort(pvalues)
    adj, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adj[i] = running
    return adj


def fooled(row: dict) -> bool | None:
    """Whether a main trial with a colorization fooled the rater (None for real/catch rows)."""
    if row["kind"] != "main" or row["condition"] == REAL:
        return None
    return row["answer"] != row["truth"]


def attention(rows: list[dict], catch_pass: float) -> dict[str, str]:
    """session -> "passed", "failed" or "none" (no catch trial answered)."""
    right, seen = defaultdict(int), defaultdict(int)
    sessions = {r["session_id"] for r in rows}
    for r in rows:
        if r["kind"] == CATCH:
            seen[r["session_id"]] += 1
            right[r["session_id"]] += r["answer"] == r["truth"]
    return {s: ("none" if not seen[s] else "passed" if right[s] / seen[s] >= catch_pass - 1e-12 else "failed")
            for s in sessions}


def fast_sessions(rows: list[dict], threshold_ms: float) -> set[str]:
    """Sessions whose median response time is below ``threshold_ms`` (0: none)."""
    times = defaultdict(list)
    for r in rows:
        times[r["session_id"]].append(r["response_ms"])
    return {s for s, t in times.items() if threshold_ms > 0 and float(np.median(t)) < threshold_ms}


def _rate(k: int, n: int, protocol: str) -> dict:
    low, high = wilson(k, n)
    d = {"n": n, "k": k, "rate": k / n if n else float("nan"), "ci_low": low, "ci_high": high, "p_vs_half": None}
    if protocol == TWO_AFC and n:
        d["p_vs_half"] = float(binomtest(k, n, 0.5).pvalue)
    return d


def results(rows: list[dict], settings: Settings, include: tuple[str, ...] = ()) -> dict:
    """Everything the results view shows, from one study's answer rows. ``include``: the
    exclusion rules (``RULES``) to waive. ``left_out`` counts, per rule, the sessions it
    applies to (and for "late" the answers), whether or not it was waived."""
    unknown = set(include) - set(RULES)
    if unknown:
        raise ValueError(f"unknown exclusion rules {sorted(unknown)}; the rules are {RULES}")
    att = attention(rows, settings.catch_pass)
    failed = {s for s, a in att.items() if a == "failed"}
    fast = fast_sessions(rows, int(getattr(settings, "fast_median_ms", 0)))
    late = [r for r in rows if r.get("late")]
    excluded = (failed if ATTENTION not in include else set()) | (fast if FAST not in include else set())
    drop_late = LATE not in include
    main = [r for r in rows if r["kind"] == "main" and r["session_id"] not in excluded
            and not (drop_late and r.get("late"))]
    protocol = settings.protocol

    counts = defaultdict(lambda: [0, 0])     # (condition, category) -> [k, n]
    for r in main:
        hit = (r["answer"] == REAL) if protocol != TWO_AFC else fooled(r)
        for cat in (r["category"], ALL):
            c = counts[(r["condition"], cat)]
            c[0] += bool(hit)
            c[1] += 1
    rates = []
    for (cond, cat), (k, n) in sorted(counts.items(), key=lambda kv: (kv[0][0] == REAL, kv[0][0], kv[0][1] == ALL,
                                                                        kv[0][1])):
        rates.append({"model": cond, "category": cat, **_rate(k, n, protocol)})

    models = sorted({r["condition"] for r in main if r["condition"] != REAL})
    pairs, pvals = [], []
    for a, b in combinations(models, 2):
        ka, na = counts[(a, ALL)]
        kb, nb = counts[(b, ALL)]
        if na and nb:
            _, p = fisher_exact([[ka, na - ka], [kb, nb - kb]])
            pairs.append({"a": a, "b": b, "rate_a": ka / na, "rate_b": kb / nb, "p": float(p)})
            pvals.append(float(p))
    for pair, p_holm in zip(pairs, holm(pvals) if pvals else []):
        pair["p_holm"] = p_holm

    raters = []
    by_session = defaultdict(list)
    for r in rows:
        by_session[r["session_id"]].append(r)
    for s, rs in sorted(by_session.items(), key=lambda kv: min(r["id"] for r in kv[1])):
        catches = [r for r in rs if r["kind"] == CATCH]
        fools = [f for f in map(fooled, rs) if f is not None]
        raters.append({"session_id": s, "answers": len(rs),
                       "catch_right": sum(r["answer"] == r["truth"] for r in catches),
                       "catch_trials": len(catches), "attention": att[s], "fooled": sum(fools),
                       "colorized": len(fools), "median_response_ms": float(np.median([r["response_ms"] for r in rs])),
                       "fast": s in fast, "late": sum(bool(r.get("late")) for r in rs),
                       "included": s not in excluded})
    left_out = {ATTENTION: {"sessions": len(failed), "included": ATTENTION in include},
                FAST: {"sessions": len(fast), "included": FAST in include},
                LATE: {"sessions": len({r["session_id"] for r in late}), "answers": len(late),
                       "included": LATE in include}}
    return {"protocol": protocol, "rates": rates, "pairs": pairs, "raters": raters, "left_out": left_out,
            "excluded": sorted(excluded), "sessions": len(by_session), "answers": len(rows), "used": len(main)}


def export_csv(rows: list[dict], settings_by_study: dict[int, Settings]) -> str:
    """Every answer as CSV, with its session's attention-check outcome, whether the session
    was flagged fast and whether the answer was late."""
    att, fast = {}, set()
    for sid, st in settings_by_study.items():
        mine = [r for r in rows if r["study_id"] == sid]
        att.update(attention(mine, st.catch_pass))
        fast |= fast_sessions(mine, int(st.fast_median_ms))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        d = dict(r, correct=int(r["answer"] == r["truth"]), attention=att.get(r["session_id"], "none"),
                 fast=int(r["session_id"] in fast), late=int(bool(r.get("late"))))
        w.writerow(["" if d.get(c) is None else d[c] for c in CSV_COLUMNS])
    return buf.getvalue()


def plot(res: dict, title: str = ""):
    """Fooling rate per model (all categories, and per category) with 95% intervals -> Figure."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = res["rates"]
    two_afc = res["protocol"] == TWO_AFC
    fig = Figure(figsize=(7, 0.42 * max(len(rows), 2) + 1.4))
    ax = fig.add_subplot()
    if not rows:
        ax.text(0.5, 0.5, "no answers yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    y = list(range(len(rows)))[::-1]
    rate = [r["rate"] for r in rows]
    err = [[r["rate"] - r["ci_low"] for r in rows], [r["ci_high"] - r["rate"] for r in rows]]
    colours = ["#999999" if r["model"] == REAL else "#d9632b" if r["category"] == ALL else "#f0a57c" for r in rows]
    ax.barh(y, rate, xerr=err, color=colours, capsize=3)
    for yi, r in zip(y, rows):
        ax.text(min(r["ci_high"] + 0.02, 0.88), yi, f"{r['rate']:.0%}  n={r['n']}", va="center", fontsize=8)
    ax.axvline(0.5, ls="--", color="black", lw=0.8)
    ax.set_yticks(y, [f"{r['model']} / {r['category']}" + (" (real photos)" if r["model"] == REAL else "")
                      for r in rows], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("fooling rate: colorization chosen as real (50% = indistinguishable)" if two_afc
                  else "share judged real (colorized: fooling rate; grey: real photos)")
    ax.set_title(title or "Fooling rate, 95% Wilson intervals", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["ALL", "ATTENTION", "COLORIZED", "CSV_COLUMNS", "FAST", "LATE", "RULES", "attention", "export_csv",
           "fast_sessions", "fooled", "holm", "plot", "results", "wilson"]
