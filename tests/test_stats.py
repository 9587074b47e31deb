"""train.stats: bootstrap intervals over images (scipy.stats.bootstrap underneath)."""
from __future__ import annotations

import numpy as np
import pytest

from train import stats


def photos(rng, n=120):
    """Per-photo scores with a large spread between photos (as real val sets have)."""
    return rng.normal(22.0, 3.0, n)


def test_paired_difference_covers_a_known_difference():
    rng = np.random.default_rng(1)
    covered, excluded = 0, 0
    for _ in range(40):
        a = photos(rng)
        b = a + 0.4 + rng.normal(0, 0.5, a.size)      # model b is 0.4 better on every photo, plus noise
        iv = stats.paired_diff_ci(b, a, n_resamples=999)
        covered += iv.contains(0.4)
        excluded += iv.excludes(0.0)
    assert covered >= 34          # ~95% of 40; binomial 2.5% tail is about 35
    assert excluded == 40         # 0.4 with a per-photo noise of 0.5 on 120 photos is always detected


def test_pairing_cancels_the_photos_difficulty():
    rng = np.random.default_rng(2)
    a = photos(rng)
    b = a + 0.4 + rng.normal(0, 0.5, a.size)
    paired = stats.paired_diff_ci(b, a)
    spread = stats.mean_ci(a)
    assert paired.high - paired.low < 0.3 * (spread.high - spread.low)
    assert paired.excludes(0.0)


def test_identical_inputs_contain_zero():
    rng = np.random.default_rng(3)
    x = photos(rng)
    same = stats.paired_diff_ci(x, x)
    assert same.contains(0.0) and same.estimate == 0.0
    shuffled = stats.paired_diff_ci(x, rng.permutation(x))     # same photos' values, pairs broken: mean 0
    assert shuffled.estimate == pytest.approx(0.0, abs=1e-9) and shuffled.contains(0.0)
    assert shuffled.high - shuffled.low > 0.5                  # a real interval, not a point


def test_mean_interval_and_reproducibility():
    rng = np.random.default_rng(4)
    x = rng.normal(10.0, 2.0, 200)
    iv = stats.mean_ci(x)
    assert iv.estimate == pytest.approx(x.mean()) and iv.low < x.mean() < iv.high
    assert iv.high - iv.low == pytest.approx(2 * 1.96 * x.std(ddof=1) / np.sqrt(x.size), rel=0.15)
    assert stats.mean_ci(x) == iv                     # fixed seed: the docs do not change
    assert iv.format(".2f").startswith(f"{x.mean():.2f} [")


def test_stratified_mean_weights_groups_equally():
    rng = np.random.default_rng(5)
    big, small = rng.normal(1.0, 1.0, 300), rng.normal(3.0, 1.0, 30)
    iv = stats.stratified_mean_ci([big, small])
    assert iv.estimate == pytest.approx((big.mean() + small.mean()) / 2)   # not the pooled mean (~1.2)
    assert iv.contains(2.0) and iv.n == 330


def test_dcf_gap_statistic():
    rng = np.random.default_rng(6)
    truth = rng.normal(40, 8, 150)
    pred = truth * 0.5 + rng.normal(0, 2, 150)
    iv = stats.paired_ci((pred, truth), stats.abs_gap)
    assert iv.estimate == pytest.approx(abs(pred.mean() - truth.mean())) and iv.contains(20.0)


def test_degenerate_and_bad_input():
    const = np.full(50, 3.0)
    assert stats.mean_ci(const) == stats.Interval(3.0, 3.0, 3.0, 50)
    with pytest.raises(ValueError, match="finite"):
        stats.mean_ci([1.0, float("inf")])
    with pytest.raises(ValueError, match="differ in length"):
        stats.paired_diff_ci([1.0, 2.0], [1.0, 2.0, 3.0])
