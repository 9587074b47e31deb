"""Bootstrap confidence intervals over images, for the results table and the claims.

Every interval is ``scipy.stats.bootstrap`` (BCa, 9,999 resamples, 95%) with a fixed
seed, so the same per-image scores always give the same README:

* ``mean_ci(x)``: the mean of one model's per-image metric;
* ``paired_diff_ci(a, b)``: mean(a - b) for two models scored on the same photos,
  resampling photos (``paired=True``): each photo's difficulty cancels out;
* ``stratified_mean_ci(groups)``: the equal-weight mean of several groups' means
  (e.g. per-photo differences on faces, landscapes and general), each group resampled
  within itself, so a category's weight does not depend on its val set's size;
* ``paired_ci(arrays, statistic)``: any statistic of paired per-image arrays (e.g.
  the colourfulness gap |mean CF(pred) - mean CF(truth)|).

A sample with no spread (every value equal) has a degenerate bootstrap distribution:
its interval is the point itself.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import bootstrap

CONFIDENCE = 0.95
N_RESAMPLES = 9999
SEED = 11          # fixed: the README's intervals are reproducible


@dataclass(frozen=True)
class Interval:
    """An estimate with its bootstrap confidence interval [low, high] over ``n`` images."""
    estimate: float
    low: float
    high: float
    n: int

    def excludes(self, value: float = 0.0) -> bool:
        return self.low > value or self.high < value

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def format(self, spec: str = ".2f", signed: bool = False) -> str:
        est = format(self.estimate, ("+" if signed else "") + spec)
        return f"{est} [{format(self.low, spec)}, {format(self.high, spec)}]"

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "n": self.n}


def _arrays(data) -> tuple[np.ndarray, ...]:
    out = tuple(np.asarray(a, dtype=np.float64).ravel() for a in data)
    for a in out:
        if a.size == 0:
            raise ValueError("no values to bootstrap")
        if not np.all(np.isfinite(a)):
            raise ValueError("values must be finite (cap PSNR's inf first)")
    return out


def _interval(data, statistic, paired: bool, confidence: float, n_resamples: int, seed: int) -> Interval:
    data = _arrays(data)
    if paired and len({a.size for a in data}) != 1:
        raise ValueError(f"paired samples differ in length: {[a.size for a in data]}")
    estimate = float(statistic(*data, axis=-1))
    n = data[0].size if paired else sum(a.size for a in data)
    if all(np.ptp(a) == 0 for a in data) or all(a.size < 2 for a in data):
        return Interval(estimate, estimate, estimate, n)     # no spread: nothing to resample
    res = None
    for method in ("BCa", "percentile"):     # BCa can be undefined (e.g. a statistic flat in the data)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")      # scipy warns where BCa is undefined; we fall back
            res = bootstrap(data, statistic, paired=paired, vectorized=True, axis=-1,
                            confidence_level=confidence, n_resamples=n_resamples, method=method,
                            rng=np.random.default_rng(seed))
        low, high = (float(v) for v in res.confidence_interval)
        if math.isfinite(low) and math.isfinite(high):
            return Interval(estimate, low, high, n)
    return Interval(estimate, float("nan"), float("nan"), n)


def _mean(x, axis=-1):
    return np.mean(x, axis=axis)


def _mean_diff(a, b, axis=-1):
    return np.mean(a - b, axis=axis)


def mean_ci(x, confidence: float = CONFIDENCE, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> Interval:
    """The mean of ``x`` (one value per image) with its bootstrap interval."""
    return _interval((x,), _mean, False, confidence, n_resamples, seed)


def paired_diff_ci(a, b, confidence: float = CONFIDENCE, n_resamples: int = N_RESAMPLES,
                   seed: int = SEED) -> Interval:
    """mean(a - b) over images scored by both, photos resampled in pairs (``paired=True``)."""
    return _interval((a, b), _mean_diff, True, confidence, n_resamples, seed)


def paired_ci(arrays, statistic, confidence: float = CONFIDENCE, n_resamples: int = N_RESAMPLES,
              seed: int = SEED) -> Interval:
    """``statistic(*arrays, axis=-1)`` (vectorised) of per-image arrays of one set of photos."""
    return _interval(tuple(arrays), statistic, True, confidence, n_resamples, seed)


def _mean_of_means(*groups, axis=-1):
    return np.mean([np.mean(g, axis=axis) for g in groups], axis=0)


def stratified_mean_ci(groups, confidence: float = CONFIDENCE, n_resamples: int = N_RESAMPLES,
                       seed: int = SEED) -> Interval:
    """The equal-weight mean of the groups' means; each group is resampled within itself
    (``paired=False`` over several samples: a stratified bootstrap). One group: ``mean_ci``."""
    groups = list(groups)
    if len(groups) == 1:
        return mean_ci(groups[0], confidence, n_resamples, seed)
    return _interval(tuple(groups), _mean_of_means, False, confidence, n_resamples, seed)


def abs_gap(pred, truth, axis=-1):
    """|mean(pred) - mean(truth)|: e.g. dCF from per-image colourfulness of prediction and truth."""
    return np.abs(np.mean(pred, axis=axis) - np.mean(truth, axis=axis))


def abs_gap_diff(pred_a, pred_b, truth, axis=-1):
    """dCF of model a minus dCF of model b, on the same photos."""
    return abs_gap(pred_a, truth, axis) - abs_gap(pred_b, truth, axis)


__all__ = ["CONFIDENCE", "Interval", "abs_gap", "abs_gap_diff", "mean_ci", "paired_ci", "paired_diff_ci",
           "stratified_mean_ci"]
