"""train.suggest_index: the leave-one-out choice of the looks' knobs, and the index it writes
is what ``load_index`` reads (the knobs included) and nothing else."""
import numpy as np
import pytest

from colorlab.checkpoints import CheckpointError
from colorlab.suggestions import load_index
from train import suggest_index as si


def _scenes(n_per=30, seed=0):
    """Three kinds of scene (features in separate directions), each with its own cast; and a
    noisy "own cast" per photo, as a model would give."""
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 16) * 5
    casts = np.array([[20.0, 0.0], [0.0, 20.0], [-15.0, -15.0]])
    kind = np.repeat(np.arange(3), n_per)
    feats = centres[kind] + rng.normal(0, 0.5, (len(kind), 16))
    true = casts[kind] + rng.normal(0, 2, (len(kind), 2))
    own = true + rng.normal(0, 3, true.shape)
    return feats, true, own


def test_reweighting_by_a_good_own_cast_brings_the_looks_nearer_the_truth():
    feats, casts, own = _scenes()
    index = si.build(feats, casts, si.reduce(feats, 8), neighbours=60, temperature=0.5)
    rows = np.arange(0, len(feats), 2)
    scores = si.loo_scores(index, casts, rows, [own[rows]], sigmas=(6.0, 0.0))
    # the neighbours (60 of 89) span two kinds; the own cast says which: trusting it must help
    assert scores[6.0] < scores[0.0]


def test_choose_returns_the_best_scored_knobs(monkeypatch):
    feats, casts, own = _scenes()
    monkeypatch.setattr(si, "NEIGHBOURS", (5, 60))
    monkeypatch.setattr(si, "TEMPERATURES", (0.1,))
    rows = np.arange(0, len(feats), 3)
    params, scores = si.choose(feats, casts, si.reduce(feats, 8), [own[rows], own[rows] + 1.0], rows)
    assert len(scores) == 2 * len(si.SIGMAS)
    assert scores[f"{params['neighbours']},{params['temperature']},{params['own_cast_sigma']}"] == min(scores.values())
    # with 5 neighbours all of one kind, a single look is near: fewer, closer neighbours win here
    assert params["neighbours"] == 5


def test_the_written_index_loads_with_its_knobs_and_is_refused_when_changed(tmp_path):
    feats, casts, _ = _scenes()
    index = si.build(feats, casts, si.reduce(feats, 8), neighbours=7, temperature=0.3, own_cast_sigma=9.0)
    si.write_index(index, tmp_path, {"category": "general", "neighbours": 7, "temperature": 0.3,
                                     "own_cast_sigma": 9.0})
    back = load_index("general", tmp_path)
    assert (back.neighbours, back.temperature, back.sigma) == (7, 0.3, 9.0)
    assert np.allclose(back.casts, casts, atol=1e-3)
    blob = bytearray((tmp_path / "general.safetensors").read_bytes())
    blob[-1] ^= 1
    (tmp_path / "general.safetensors").write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="does not match"):
        load_index("general", tmp_path)
