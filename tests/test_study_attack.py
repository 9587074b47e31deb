"""Can a rater tell the truth from what the study sends before they answer?

Given only what ``start`` and each step return to the rater (the trial number and total,
the trial token, the picture names and the picture bytes), predictors of the truth do no
better than chance over 400 trials per protocol. Side by side (real left or right,
50/50) each predictor's hit count lies inside the 99% binomial interval of 50%
(``scipy.stats.binomtest``); in both protocols its guesses are independent of the truth
(``fisher_exact`` on guess x truth). Both are Bonferroni-corrected over the predictors,
so the test as a whole fails by chance in under 1% of runs. The pool is 24 photos, so
every real photo comes round in almost every session (what the old URLs gave away). No
picture name or picture content is ever served twice, across sessions, and the per-
serving re-encoding changes what a rater sees by far less than a just-noticeable
difference.

Run once against the old seeding (main at 4af8f67, before issue 19: plans seeded from the
session id shown on the page, the photo order from the public study id, pictures
addressed by their content), by a one-off script (not kept: it drove the old API) with
the same predictors fed what that code returned (the session id from the page's text, the
picture bytes that Gradio's URLs are derived from), 20 sessions of 20 trials on the
shipped pool: the seed predictor was right in 400 of 400 side-by-side trials
(p = 7.7e-121) and in 400 of 400 single-image trials; the repeat predictor named the real
side in 263 of 400 side-by-side trials (p = 2.9e-10). Against the new protocol the same
predictors are at chance.
"""
from __future__ import annotations

import hashlib
import io
import random
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from scipy.stats import binomtest, fisher_exact

from colorlab import studies
from colorlab.metrics import ciede2000, psnr
from colorlab.studies import plan
from colorlab.studies import store as store_mod
from colorlab.studies.plan import Settings
from colorlab.studies.pool import square

TOKEN = "attack-organiser-token"
TRIALS = 400
PER_SESSION = 20


def old_seed(text: str) -> int:
    """The pre-issue-19 seeding: SHA-256 of a string the page showed."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class Predictors:
    """Guesses of the truth from what the rater received. Each returns the predicted
    position of the real picture (side by side: 0 left, 1 right) or, single image, 1 for
    "real" and 0 for "colorized"."""

    names = ("seed", "repeat", "name_order", "token_bit", "size")

    def __init__(self, study: studies.Study):
        self.study = study
        self.seen_names: set[str] = set()
        self.seen_bytes: set[str] = set()
        self.rng = random.Random(0)

    def guess(self, shown: studies.Shown, pictures: list[bytes]) -> dict[str, int]:
        two = shown.two_afc
        coin = self.rng.randrange(2)
        out = {}
        # the seed attack: every string the rater got, tried as the old seed of the plan
        votes = []
        for text in (shown.token, *shown.pictures):
            trials = plan.plan_session(self.study, 0, old_seed(text))
            t = trials[shown.number - 1]
            votes.append(0 if (t.truth == plan.LEFT if two else t.truth == studies.COLORIZED) else 1)
        out["seed"] = Counter(votes).most_common(1)[0][0]
        # a picture (by URL or by content) seen before is the real photo coming round again
        digests = [hashlib.sha256(b).hexdigest() for b in pictures]
        again = [i for i, (n, d) in enumerate(zip(shown.pictures, digests))
                 if n in self.seen_names or d in self.seen_bytes]
        out["repeat"] = (again[0] if two else 1) if again else coin
        self.seen_names.update(shown.pictures)
        self.seen_bytes.update(digests)
        out["name_order"] = int(shown.pictures[0] > shown.pictures[-1]) if two else int(shown.pictures[0] < "8")
        out["token_bit"] = shown.token.encode()[0] & 1
        sizes = [len(b) for b in pictures]   # file size as a (content) cue
        out["size"] = int(sizes[1] > sizes[0]) if two else int(sizes[0] % 2)
        return out


def truth_index(trial: plan.Trial) -> int:
    if trial.right:
        return 0 if trial.truth == plan.LEFT else 1
    return 1 if trial.truth == studies.REAL else 0


@pytest.fixture
def lab(weights_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    monkeypatch.delenv(studies.SECRET_ENV, raising=False)
    monkeypatch.setattr(store_mod, "MIN_ANSWER_MS", 0)
    return studies.Lab(studies.StudyStore(tmp_path / "data"), weights_dir)


@pytest.fixture
def small_pool(tmp_path):
    """24 shipped pool photos (12 faces, 12 landscapes) as an organiser's own folder."""
    import shutil
    folder = tmp_path / "pool"
    for cat in ("faces", "landscapes"):
        (folder / cat).mkdir(parents=True)
        for p in studies.shipped_pool((cat,))[:12]:
            shutil.copyfile(p.path, folder / cat / p.path.name)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("protocol", plan.PROTOCOLS)
def test_nothing_the_rater_receives_predicts_the_truth(lab, protocol, small_pool):
    st, _ = lab.publish(TOKEN, Settings(protocol, ("lab-general", "rgb-general"), ("landscapes", "faces"),
                                        trials=PER_SESSION, catch_share=0, size=40, pool=str(small_pool)))
    assert len(st.photos) == 24
    guesser = Predictors(st)
    table = {name: np.zeros((2, 2), int) for name in Predictors.names}   # [guess, truth]
    n = 0
    names, digests = [], []
    while n < TRIALS:
        s = lab.start(st.study_id)
        while not s.done and n < TRIALS:
            shown = lab.show(s)
            pictures = [lab.shelf.get(p) for p in shown.pictures]
            names += shown.pictures
            digests += [hashlib.sha256(b).hexdigest() for b in pictures]
            truth = truth_index(s.current())
            for name, g in guesser.guess(shown, pictures).items():
                table[name][g, truth] += 1
            lab.answer(s, shown.token, s.current().truth)
            n += 1
    alpha = 0.01 / len(Predictors.names)
    for name, t in table.items():
        hits = int(t[0, 0] + t[1, 1])
        p_indep = fisher_exact(t)[1]
        assert p_indep > alpha, f"{name}: guesses depend on the truth {t.tolist()} (p = {p_indep:.2g})"
        if protocol == plan.TWO_AFC:
            p = binomtest(hits, n, 0.5).pvalue
            assert p > alpha, f"{name} named the real side {hits} of {n} times (p = {p:.2g})"
    # no picture name or content is served twice, across all sessions
    assert len(set(names)) == len(names) and len(set(digests)) == len(digests)
    assert all(len(x) == 36 and x.endswith(".png") for x in names)


def test_reencoding_is_invisible():
    """Per-serving re-encoding of 30 shipped pool photos at 256 px: at most one level per
    channel, mean CIEDE2000 below 0.5 (a just-noticeable difference is ~2.3)."""
    des = []
    for photo in studies.shipped_pool()[:30]:
        img = square(photo.path, 256)
        a = np.asarray(img)
        first, second = studies.fresh_png(img), studies.fresh_png(img)
        assert first != second
        b = np.asarray(Image.open(io.BytesIO(first)))
        assert b.shape == a.shape and np.abs(a.astype(int) - b).max() <= 1
        des.append(ciede2000(b, a))
        assert psnr(b, a) > 50
    assert float(np.mean(des)) < 0.5 and max(des) < 0.6, des


def test_a_served_picture_lives_only_while_its_trial_is_on_screen():
    shelf = studies.Shelf(ttl=60)
    a = shelf.put("s1", b"one")
    b = shelf.put("s2", b"two")
    assert a != b and shelf.get(a) == b"one" and shelf.get("../" + a) is None
    assert shelf.drop("s1") == 1 and shelf.get(a) is None and shelf.get(b) == b"two"
    old = studies.Shelf(ttl=0)
    name = old.put("s", b"x")
    assert old.get(name) is None                       # expired
    small = studies.Shelf(capacity=2)
    first = small.put("s", b"1")
    small.put("s", b"2")
    small.put("s", b"3")
    assert small.get(first) is None and len(small) == 2   # bounded memory
