"""``python -m train.claims --out docs/claims.md``: the papers' claims, tested on equal terms.

Each claim is a set of *comparisons*: model A against model B on the same val photos
(per-image scores from ``python -m train.scores``), one metric, the difference A - B
estimated with a 95% paired bootstrap interval (``train.stats``). A comparison over
several categories is the equal-weight mean of the categories' mean differences, each
category's photos resampled within it (stratified); where a category has several pairs
(e.g. one per space) each photo's differences are averaged first.

Verdict of a comparison, given the direction the claim predicts:

* **supported**: the interval excludes 0 on the predicted side and the difference is at
  least the seed spread;
* **refuted**: the interval excludes 0 on the other side and the difference is at least
  the seed spread;
* **no detectable difference**: otherwise: the interval contains 0, or it excludes 0
  but the difference is smaller than what a change of training seed does.

The seed spread of A - B is sqrt(SD_A^2 + SD_B^2), the SD of a difference between two
single runs, with each model's SD that of its space over the extra training seeds
(``docs/seeds.json``, faces; the grey input has none). It is applied to every
comparison between trained models (a proxy for designs other than the matrix network,
and not reduced by pooling categories: conservative). Without seed runs for a metric
the rule falls back to the interval alone, and the row says so.

A claim is supported when all its deciding comparisons are, refuted when any is
refuted, and otherwise no detectable difference; claim 6 asks for an effect (more
colourful) and no harm (CIEDE2000 and PSNR not significantly worse). Comparisons marked
*info* are shown but do not decide. A claim whose models have not been trained or
scored is "not run". The main footing is the networks' raw output (chroma gain 1):
the claims are about spaces, losses and training data, and the calibrated gain is
chosen afterwards by a rule that caps colourfulness at the truth's; the calibrated
("as shipped") result is shown beside it.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from colorlab.checkpoints import CATEGORIES
from colorlab.tools import docblocks

from . import seeds as seeds_mod
from .scores import GREY, Scores
from .stats import Interval, paired_diff_ci, stratified_mean_ci

ROOT = Path(__file__).resolve().parent.parent
SPACES = ("lab", "hsv", "rgb")
PRIMARY, SHIPPED = "raw", "shipped"
HINT_LEVELS = (("0 hints", SHIPPED), ("10 points", "hints-10"), ("tint only", "tint"))
METRIC_NAMES = {"psnr": "PSNR dB", "ssim": "SSIM", "ciede2000": "CIEDE2000", "colorfulness": "colourfulness",
                "hue_artifact": "hue-artefact score (turns)", "hue_speckle": "hue speckle (turns)"}
FORMATS = {"psnr": ".2f", "ssim": ".4f", "ciede2000": ".2f", "colorfulness": ".1f", "hue_artifact": ".4f",
           "hue_speckle": ".5f"}
VERDICTS = ("supported", "refuted", "no detectable difference", "not run")

# The collapse measured before the shipped hsv-general-unet4 switched to the weighted MAE
# (docs/results.md, "What the numbers say"): L1 + 1.15 K, 8 epochs, the first 60 general val photos.
RECORDED_COLLAPSE = {"psnr": 12.4, "grey_psnr": 22.2, "colorfulness": 97.0, "truth_colorfulness": 42.0,
                     "photos": 60, "epochs": 8}


@dataclass
class Comparison:
    label: str
    metric: str
    expect: int                         # +1: the claim predicts A - B > 0; -1: A - B < 0
    strata: dict                        # category -> [(model A, model B), ...]
    role: str = "effect"                # effect (must be supported) | harm (must not be refuted) | info


@dataclass
class Claim:
    key: str
    claim: str
    paper: str
    test: str
    comparisons: list = field(default_factory=list)
    recorded: dict | None = None        # evidence from a recorded run, used when the comparisons are not run
    kind: str = "claim"                 # claim | hints | suggest


def _matrix(space: str, cat: str) -> str:
    return f"{space}-{cat}"


def default_claims() -> list[Claim]:
    cats = {c: c for c in CATEGORIES}
    m = _matrix
    designs = ("lab-general-cunet", "lab-general-resunet", "hsv-general-pyramid", "hsv-general-unet4")
    matrix_test = ("matrix models (pretrained MobileNetV2 U-Net; per category the same data, resolution and "
                   "budget, only space and loss differ), full val sets of faces, landscapes and general")
    claims = [
        Claim("1", "HSV colorizations are more vivid (more colourful) than LAB ones",
              "HSV 4-level U-Net (Caballero & Joly); HSV pyramid (Kuo et al.)",
              f"{matrix_test}; Hasler–Süsstrunk colourfulness, HSV - LAB",
              [Comparison("HSV - LAB", "colorfulness", +1, {c: [(m("hsv", c), m("lab", c))] for c in cats}),
               Comparison("HSV - LAB", "ciede2000", -1, {c: [(m("hsv", c), m("lab", c))] for c in cats}, "info")]),
        Claim("2", "LAB is the better space for colorization",
              "CU-Net (Mohammadi et al.); LAB residual U-Net (Yance et al.)",
              f"{matrix_test}; CIEDE2000, LAB - HSV and LAB - RGB",
              [Comparison("LAB - HSV", "ciede2000", -1, {c: [(m("lab", c), m("hsv", c))] for c in cats}),
               Comparison("LAB - RGB", "ciede2000", -1, {c: [(m("lab", c), m("rgb", c))] for c in cats}),
               Comparison("LAB - HSV", "psnr", +1, {c: [(m("lab", c), m("hsv", c))] for c in cats}, "info"),
               Comparison("LAB - RGB", "psnr", +1, {c: [(m("lab", c), m("rgb", c))] for c in cats}, "info")]),
        Claim("3", "An RGB U-Net is the weakest choice",
              "RGB U-Net (Acharya & Pokhrel); HSV 4-level U-Net (Caballero & Joly)",
              f"{matrix_test}, RGB - LAB and RGB - HSV; and the five seed designs on general val (one shared "
              "budget), rgb-general-unet - each other design; CIEDE2000",
              [Comparison("RGB - LAB (matrix)", "ciede2000", +1, {c: [(m("rgb", c), m("lab", c))] for c in cats}),
               Comparison("RGB - HSV (matrix)", "ciede2000", +1, {c: [(m("rgb", c), m("hsv", c))] for c in cats})]
              + [Comparison(f"rgb-general-unet - {d}", "ciede2000", +1, {"general": [("rgb-general-unet", d)]})
                 for d in designs]),
        Claim("4", "Category-specific models beat a general model on their own category",
              "LAB residual U-Net (Yance et al.)",
              "{space}-faces and {space}-landscapes against {space}-general on the category's val set, the three "
              "spaces averaged per photo (the general matrix had 20 epochs on 1,685 general photos, the "
              "category models 8 on their own); CIEDE2000, category - general",
              [Comparison("category - general", "ciede2000", -1,
                          {c: [(m(s, c), m(s, "general")) for s in SPACES] for c in ("faces", "landscapes")}),
               Comparison("category - general", "colorfulness", +1,
                          {c: [(m(s, c), m(s, "general")) for s in SPACES] for c in ("faces", "landscapes")},
                          "info")]),
        Claim("5", "The cyclic hue loss reduces hue artefacts", "HSV pyramid (Kuo et al.)",
              "the pyramid network on general, shipped hsv-general-pyramid (cyclic hue L1) against "
              "hsv-general-pyramid-l1hue (plain hue L1, otherwise the same config, seed and budget); "
              "hue-artefact score against the truth (mean saturation-weighted circular hue error), cyclic - plain",
              [Comparison("cyclic - plain", "hue_artifact", -1,
                          {"general": [("hsv-general-pyramid", "hsv-general-pyramid-l1hue")]}),
               Comparison("cyclic - plain", "hue_speckle", -1,
                          {"general": [("hsv-general-pyramid", "hsv-general-pyramid-l1hue")]}, "info"),
               Comparison("cyclic - plain", "ciede2000", -1,
                          {"general": [("hsv-general-pyramid", "hsv-general-pyramid-l1hue")]}, "info")]),
    ]
    for lam, recorded in (("1.15", RECORDED_COLLAPSE), ("0.25", None)):
        a, b = f"hsv-general-unet4-lambda{lam}", "hsv-general-unet4-lambda0"
        claims.append(Claim(
            "6" if recorded else "6b",
            "The vividness loss (L1 + λK) raises colourfulness without hurting accuracy"
            + ("" if recorded else f" (smaller λ = {lam})"),
            "HSV 4-level U-Net (Caballero & Joly)" + (", λ = 1.15" if recorded else ""),
            f"the HSV 4-level U-Net (base 16) on general, λ = {lam} against λ = 0 (plain L1), same config, seed "
            "and budget; colourfulness must rise, CIEDE2000 and PSNR must not get worse",
            [Comparison(f"λ {lam} - λ 0", "colorfulness", +1, {"general": [(a, b)]}),
             Comparison(f"λ {lam} - λ 0", "ciede2000", -1, {"general": [(a, b)]}, "harm"),
             Comparison(f"λ {lam} - λ 0", "psnr", +1, {"general": [(a, b)]}, "harm")],
            recorded=recorded))
    claims.append(Claim("H", "Which space uses colour hints best (0 hints, 10 points, tint only)",
                        "issue 11 (hints)", "matrix models that take hints, simulated hints "
                        "(colorlab.hints.simulate) on the full val sets; CIEDE2000, best space - each other",
                        kind="hints"))
    claims.append(Claim("S", "A grey photo's cast is ambiguous: the top-ranked suggested look is often not the best",
                        "issue 23 (suggested looks)", "the shipped suggested looks (K = 4, colorlab.suggest) of the "
                        "hint-aware models on val photos (docs/suggestions.json, python -m train.suggestions_report); "
                        "how often the best of the 4 by PSNR is not the top-ranked one (95% Clopper-Pearson "
                        "interval, scipy.stats.binomtest), and by how much it beats it then", kind="suggest"))
    return claims


def suggest_rows(path: Path) -> list[dict]:
    """Per model in ``path`` (docs/suggestions.json): photos, how many have a best look that is
    not the top-ranked one with its 95% interval, and the PSNR gain then. [] if not run."""
    from scipy.stats import binomtest
    if not Path(path).is_file():
        return []
    rows = []
    for name, s in json.loads(Path(path).read_text()).items():
        n, a = s["n"], s["ambiguity"]
        k = round(a["best_not_top"] * n)
        ci = binomtest(k, n).proportion_ci(0.95, method="exact")
        rows.append({"model": name, "n": n, "k": k, "low": ci.low, "high": ci.high,
                     "gain": a["gain_when_not_top"], "gain_mean": a["gain_mean"]})
    return rows


# ---------------------------------------------------------------- evaluation

def _models(cmp: Comparison) -> set:
    return {n for pairs in cmp.strata.values() for pair in pairs for n in pair if n != GREY}


def _space(scores: Scores, name: str) -> str | None:
    if name == GREY:
        return None
    return scores.meta(name).get("space") or name.split("-")[0]


def seed_spread(cmp: Comparison, scores: Scores, seeds: dict | None) -> float | None:
    """max over the comparison's pairs of sqrt(SD_A^2 + SD_B^2); None if a model's SD is unknown."""
    worst = 0.0
    for cat, pairs in cmp.strata.items():
        for a, b in pairs:
            sds = []
            for n in (a, b):
                if n == GREY:
                    sds.append(0.0)
                    continue
                sd = seeds_mod.space_sd(seeds, _space(scores, n), cmp.metric, cat)
                if sd is None:
                    return None
                sds.append(sd)
            worst = max(worst, math.hypot(*sds))
    return worst


def verdict(iv: Interval, expect: int, spread: float | None) -> str:
    if not (math.isfinite(iv.low) and math.isfinite(iv.high)) or not iv.excludes(0.0):
        return "no detectable difference"
    if spread is not None and abs(iv.estimate) < spread:
        return "no detectable difference"
    return "supported" if (iv.estimate > 0) == (expect > 0) else "refuted"


def _differences(cmp: Comparison, scores: Scores, variant: str, cat: str) -> np.ndarray:
    cols = [(n, variant, cmp.metric) for pair in cmp.strata[cat] for n in pair]
    _, arrays = scores.aligned(cat, cols)
    diffs = [arrays[2 * i] - arrays[2 * i + 1] for i in range(len(cmp.strata[cat]))]
    return np.mean(diffs, axis=0)


def evaluate(cmp: Comparison, scores: Scores, seeds: dict | None, variant: str = PRIMARY) -> dict:
    """Estimate, interval, spread and verdict of one comparison, pooled and per category."""
    missing = sorted(n for n in _models(cmp) if not all(
        scores.has(n, cat, variant) for cat, pairs in cmp.strata.items() if any(n in p for p in pairs)))
    if missing:
        return {"status": "not run", "missing": missing}
    spread = seed_spread(cmp, scores, seeds)
    per_cat, groups = {}, []
    for cat, pairs in cmp.strata.items():
        if len(pairs) == 1:
            cols = [(pairs[0][0], variant, cmp.metric), (pairs[0][1], variant, cmp.metric)]
            _, (a, b) = scores.aligned(cat, cols)
            iv, d = paired_diff_ci(a, b), a - b
        else:
            d = _differences(cmp, scores, variant, cat)
            iv = stratified_mean_ci([d])
        groups.append(d)
        per_cat[cat] = {"interval": iv, "verdict": verdict(iv, cmp.expect, spread)}
    pooled = per_cat[next(iter(per_cat))]["interval"] if len(groups) == 1 else stratified_mean_ci(groups)
    return {"status": "ok", "interval": pooled, "spread": spread, "verdict": verdict(pooled, cmp.expect, spread),
            "per_category": per_cat}


def combine(claim: Claim, results: list[dict]) -> str:
    deciding = [(c, r) for c, r in zip(claim.comparisons, results) if c.role != "info"]
    if any(r["status"] != "ok" for _, r in deciding):
        return "not run"
    effects = [r["verdict"] for c, r in deciding if c.role == "effect"]
    harms = [r["verdict"] for c, r in deciding if c.role == "harm"]
    if "refuted" in effects or "refuted" in harms:
        return "refuted"
    if effects and all(v == "supported" for v in effects):
        return "supported"
    return "no detectable difference"


def hints_rows(claim: Claim, scores: Scores, seeds: dict | None) -> list[dict]:
    """The hints question: per hint level, the space with the lowest pooled CIEDE2000 and
    whether it beats each other space (paired, stratified over categories)."""
    rows = []
    for level, variant in HINT_LEVELS:
        names = {s: [_matrix(s, c) for c in CATEGORIES if scores.has(_matrix(s, c), c, variant)
                     and scores.meta(_matrix(s, c)).get("takes_hints")] for s in SPACES}
        cats = [c for c in CATEGORIES if all(_matrix(s, c) in names[s] for s in SPACES)]
        if not cats:
            rows.append({"level": level, "status": "not run"})
            continue
        means = {s: stratified_mean_ci([np.array(list(scores.get(_matrix(s, c), c, variant, "ciede2000").values()))
                                        for c in cats]) for s in SPACES}
        best = min(SPACES, key=lambda s: means[s].estimate)
        comps = [Comparison(f"{best.upper()} - {o.upper()}", "ciede2000", -1,
                            {c: [(_matrix(best, c), _matrix(o, c))] for c in cats}) for o in SPACES if o != best]
        res = [evaluate(c, scores, seeds, variant) for c in comps]
        ok = all(r["status"] == "ok" and r["verdict"] == "supported" for r in res)
        rows.append({"level": level, "status": "ok", "best": best, "means": means, "comparisons": list(zip(comps, res)),
                     "verdict": f"{best.upper()} best" if ok else "no detectable difference", "categories": cats})
    return rows


def run_claims(claims: list[Claim], scores: Scores, seeds: dict | None, suggestions: Path | None = None) -> list[dict]:
    out = []
    for claim in claims:
        if claim.kind == "suggest":
            rows = suggest_rows(suggestions) if suggestions else []
            verdict = "not run" if not rows else (
                f"ambiguous: the best look is not the top-ranked one for {min(r['k'] / r['n'] for r in rows):.0%}"
                f"-{max(r['k'] / r['n'] for r in rows):.0%} of the photos")
            out.append({"claim": claim, "suggest": rows, "verdict": verdict})
            continue
        if claim.kind == "hints":
            rows = hints_rows(claim, scores, seeds)
            out.append({"claim": claim, "hints": rows,
                        "verdict": "; ".join(f"{r['level']}: {r.get('verdict', 'not run')}" for r in rows)})
            continue
        primary = [evaluate(c, scores, seeds, PRIMARY) for c in claim.comparisons]
        shipped = [evaluate(c, scores, seeds, SHIPPED) for c in claim.comparisons]
        entry = {"claim": claim, "primary": primary, "shipped": shipped,
                 "verdict": combine(claim, primary), "verdict_shipped": combine(claim, shipped)}
        if entry["verdict"] == "not run" and claim.recorded:
            entry["verdict"] = "refuted" if claim.recorded["psnr"] < claim.recorded["grey_psnr"] else "not run"
            entry["from_record"] = True
        out.append(entry)
    return out


# ---------------------------------------------------------------- markdown

def _fmt(iv: Interval, metric: str) -> str:
    return iv.format(FORMATS.get(metric, ".3f"), signed=True)


def _estimate_cell(claim: Claim, results: list[dict], rec: bool = False) -> str:
    parts = []
    missing = sorted({n for c, r in zip(claim.comparisons, results) if c.role != "info" and r["status"] != "ok"
                      for n in r["missing"]})
    if missing and all(r["status"] != "ok" for c, r in zip(claim.comparisons, results) if c.role != "info"):
        parts.append(f"not run (missing {', '.join(missing)})")
    for c, r in zip(claim.comparisons, results):
        if c.role == "info" or (parts and r["status"] != "ok"):
            continue
        name = f"{c.label}, {METRIC_NAMES.get(c.metric, c.metric)}"
        if r["status"] != "ok":
            parts.append(f"{name}: not run (missing {', '.join(r['missing'])})")
        else:
            parts.append(f"{name}: {_fmt(r['interval'], c.metric)}")
    if rec and claim.recorded:
        d = claim.recorded
        parts.append(f"recorded run ({d['epochs']} epochs, first {d['photos']} general val photos, no interval): "
                     f"PSNR {d['psnr']} dB vs the grey input's {d['grey_psnr']}, colourfulness "
                     f"{d['colorfulness']:.0f} vs the truth's {d['truth_colorfulness']:.0f}: full saturation")
    return "<br>".join(parts)


def _spread_note(claim: Claim, results: list[dict]) -> str:
    spreads = [(c, r.get("spread")) for c, r in zip(claim.comparisons, results)
               if c.role != "info" and r["status"] == "ok"]
    if not spreads:
        return ""
    if any(s is None for _, s in spreads):
        return " (seed spread not measured: interval only)"
    shown = list(dict.fromkeys(f"{format(s, FORMATS.get(c.metric, '.3f'))}" for c, s in spreads))
    return " (seed spread " + ", ".join(shown) + ")"


def _bold(v: str) -> str:
    return f"**{v}**" if v in ("supported", "refuted") else v


def claims_markdown(results: list[dict], sources: str) -> str:
    lines = ["# Claims", "",
             f"Generated by `python -m train.claims` from {sources}. One row per claim: the estimate is "
             "model A - model B on the same val photos with its 95% paired bootstrap interval "
             "(`scipy.stats.bootstrap`, BCa, 9,999 resamples, fixed seed; several categories: the equal-weight "
             "mean of the categories, resampled within each). **Supported** / **refuted**: the interval excludes "
             "0 on the predicted / the other side *and* the difference is at least the seed spread "
             "(sqrt(SD_A² + SD_B²) over training seeds, docs/seeds.json); otherwise *no detectable difference*. "
             "Main footing: the networks' raw output (chroma gain 1); *as shipped* is with each checkpoint's "
             "calibrated gain. The rule in full is in `train/claims.py`.", "",
             "| # | claim (paper) | test (data, models, metric) | estimate A - B [95% CI] | verdict | as shipped |",
             "|---|---|---|---|---|---|"]
    details = []
    for entry in results:
        claim = entry["claim"]
        if claim.kind == "hints":
            cells = []
            for r in entry["hints"]:
                if r["status"] != "ok":
                    cells.append(f"{r['level']}: not run")
                    continue
                comps = ", ".join(f"{c.label} {_fmt(res['interval'], 'ciede2000')}" for c, res in r["comparisons"])
                cells.append(f"{r['level']}: best {r['best'].upper()}, {comps}")
            lines.append(f"| {claim.key} | {claim.claim} ({claim.paper}) | {claim.test} | {'<br>'.join(cells)} | "
                         f"{entry['verdict']} | — |")
            continue
        if claim.kind == "suggest":
            cells = [f"{r['model']}: {r['k']} of {r['n']} photos, {r['k'] / r['n']:.0%} [{r['low']:.0%}, "
                     f"{r['high']:.0%}]; then +{r['gain']:.2f} dB over the top-ranked" for r in entry["suggest"]]
            lines.append(f"| {claim.key} | {claim.claim} ({claim.paper}) | {claim.test} | "
                         f"{'<br>'.join(cells) or 'not run'} | {entry['verdict']} | — |")
            continue
        est = _estimate_cell(claim, entry["primary"], rec=entry.get("from_record", False))
        shipped = entry["verdict_shipped"]
        shipped_cell = "—" if shipped == "not run" else \
            f"{_estimate_cell(claim, entry['shipped'])}: {_bold(shipped)}"
        if all(r["status"] == "ok" and r["interval"] == s.get("interval")
               for r, s in zip(entry["primary"], entry["shipped"])) and shipped != "not run":
            shipped_cell = f"same (no gain): {_bold(shipped)}"
        verdict_cell = _bold(entry["verdict"]) + _spread_note(claim, entry["primary"])
        if entry.get("from_record"):
            verdict_cell += " (from the recorded run)"
        lines.append(f"| {claim.key} | {claim.claim} ({claim.paper}) | {claim.test} | {est} | {verdict_cell} | "
                     f"{shipped_cell} |")
        for c, r in zip(claim.comparisons, entry["primary"]):
            if r["status"] != "ok":
                details.append(f"| {claim.key} | {c.label} | {METRIC_NAMES.get(c.metric, c.metric)} | {c.role} | "
                               f"all | not run | — | not run |")
                continue
            spread = "—" if r["spread"] is None else format(r["spread"], FORMATS.get(c.metric, ".3f"))
            rows = [("pooled" if len(r["per_category"]) > 1 else next(iter(r["per_category"])), r["interval"],
                     r["verdict"])]
            if len(r["per_category"]) > 1:
                rows += [(cat, pc["interval"], pc["verdict"]) for cat, pc in r["per_category"].items()]
            for where, iv, v in rows:
                details.append(f"| {claim.key} | {c.label} | {METRIC_NAMES.get(c.metric, c.metric)} | {c.role} | "
                               f"{where} | {_fmt(iv, c.metric)} (n {iv.n}) | {spread} | {v} |")
    lines += ["", "## Every comparison (raw output)", "",
              "Deciding comparisons (*effect*: must be supported; *harm*: must not be refuted) and *info* ones, "
              "pooled and per category; n is the number of photos.", "",
              "| # | comparison A - B | metric | role | val set | estimate [95% CI] | seed spread | verdict |",
              "|---|---|---|---|---|---|---|---|"] + details
    return "\n".join(lines) + "\n"


def claims_json(results: list[dict]) -> list[dict]:
    def ivd(r):
        return r["interval"].to_dict() if r.get("status") == "ok" else None
    out = []
    for e in results:
        c = e["claim"]
        row = {"key": c.key, "claim": c.claim, "paper": c.paper, "test": c.test, "verdict": e["verdict"]}
        if c.kind == "suggest":
            row["suggest"] = e["suggest"]
        elif c.kind != "hints":
            row["verdict_shipped"] = e["verdict_shipped"]
            row["comparisons"] = [{"label": k.label, "metric": k.metric, "role": k.role, "expect": k.expect,
                                   "status": r["status"], "interval": ivd(r), "spread": r.get("spread"),
                                   "verdict": r.get("verdict")} for k, r in zip(c.comparisons, e["primary"])]
        out.append(row)
    return out


def inputs(scores: Path, extra: list[Path], seeds: Path, suggestions: Path | None = None) -> list[Path]:
    """The files the claims are made from: the per-image scores (main and extra runs), the seed
    spread and the suggested looks' measurements."""
    files = [p for folder in (scores, *extra) if Path(folder).is_dir() for p in sorted(Path(folder).glob("*.json"))]
    return files + [Path(p) for p in (seeds, suggestions) if p is not None and Path(p).is_file()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.claims", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "claims.md")
    ap.add_argument("--scores", type=Path, default=ROOT / "docs" / "scores", help="per-image scores of weights/")
    ap.add_argument("--extra", type=Path, nargs="*", default=[ROOT / "docs" / "scores" / "claims"],
                    help="per-image scores of the extra runs (claims 5, 6)")
    ap.add_argument("--seeds", type=Path, default=ROOT / "docs" / "seeds.json", help="seed spread (train.seeds)")
    ap.add_argument("--suggestions", type=Path, default=ROOT / "docs" / "suggestions.json",
                    help="the suggested looks' measurements (train.suggestions_report)")
    ap.add_argument("--json", type=Path, help="also write the verdicts as JSON")
    ap.add_argument("--weights-dir", type=Path, default=ROOT / "weights",
                    help="checkpoints the scores must be of (a stale score file is reported)")
    args = ap.parse_args(argv)
    scores = Scores(args.scores, *args.extra)
    from colorlab.checkpoints import list_checkpoints
    for meta in list_checkpoints(args.weights_dir) if args.weights_dir.is_dir() else []:
        if meta.name in scores.models and not scores.matches(meta.name, meta.sha256):
            print(f"{meta.name}: the per-image scores are of other weights than {args.weights_dir}'s; "
                  "re-run python -m train.scores", file=sys.stderr)
    if not scores:
        print(f"no per-image scores in {args.scores}: run python -m train.scores first; every claim is not run",
              file=sys.stderr)
    seeds = seeds_mod.load(args.seeds)
    if seeds is None:
        print(f"{args.seeds}: no seed spread; verdicts use the intervals alone", file=sys.stderr)
    results = run_claims(default_claims(), scores, seeds, args.suggestions)

    def shown(p):
        try:
            return Path(p).resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return str(p)
    sources = (f"the per-image scores in `{shown(args.scores)}` (extra runs: "
               f"{', '.join(f'`{shown(p)}`' for p in args.extra) or 'none'}) and the seed spread in "
               f"`{shown(args.seeds)}`" + ("" if seeds else " (not there yet: intervals alone)"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(docblocks.stamp(claims_markdown(results, sources),
                                        docblocks.files_digest(inputs(args.scores, args.extra, args.seeds,
                                                                      args.suggestions))))
    if args.json:
        args.json.write_text(json.dumps(claims_json(results), indent=1) + "\n")
    for e in results:
        print(f"claim {e['claim'].key}: {e['verdict']}")
    print(f"wrote {args.out}" + (f", {args.json}" if args.json else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
