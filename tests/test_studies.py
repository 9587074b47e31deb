"""Turing studies (colorlab.studies): the shipped pool, counterbalanced plans without
repeats, organiser access, the store, the statistics (coverage of the intervals with
simulated raters) and a session from start to result on the tiny test checkpoints."""
from __future__ import annotations

import csv
import io
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.stats import binomtest

from colorlab import studies
from colorlab.studies import plan, stats
from colorlab.studies.plan import Settings, Study, plan_session, session_lengths
from colorlab.studies.pool import POOL_DIR, ROOT, Photo, hue_turned

TOKEN = "s3cret-token"
DATA = ROOT.parent / "shared" / "data"
MODELS3 = ("m-a", "m-b", "m-c")


def fake_photos(n: int, cats=("faces", "landscapes", "general")) -> list[Photo]:
    return [Photo(cats[i % len(cats)], Path(f"/nowhere/{i:04d}.jpg"), f"{i:064x}") for i in range(n)]


def study(protocol=plan.TWO_AFC, models=MODELS3, n_photos=60, trials=20, catch_share=0.1, study_id=1) -> Study:
    return Study(study_id, Settings(protocol, models, trials=trials, catch_share=catch_share),
                 tuple(fake_photos(n_photos)))


def seed(k: int) -> int:
    return 1000 + k * 7919


def plan_of(st: Study, k: int) -> list:
    """Session ``k``'s plan with a fixed seed per session (the app derives it from its secret)."""
    return plan_session(st, k, seed(k))


@pytest.fixture
def instant(monkeypatch):
    """Answers may follow serving at once (the 200 ms floor is tested in test_study_protocol)."""
    from colorlab.studies import store
    monkeypatch.setattr(store, "MIN_ANSWER_MS", 0)


# ---------------------------------------------------------------- the shipped pool

def test_shipped_pool_is_held_out_credited_and_small():
    pool = studies.shipped_pool()
    per = Counter(p.category for p in pool)
    assert per == dict.fromkeys(studies.CATEGORIES, 64), per        # docs/studies.md: 64 per category
    files = [p for p in POOL_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 10 * 2 ** 20
    examples = {p.stem for p in (ROOT / "examples").rglob("*.jpg")}
    credits = (POOL_DIR / "CREDITS.md").read_text()
    for p in pool:
        assert p.path.stem not in examples, f"{p.photo_id} is also an app example"
        assert p.path.stem in credits, f"{p.photo_id} is not credited"
        with Image.open(p.path) as img:
            assert img.format == "JPEG" and min(img.size) <= 256
    if DATA.is_dir():   # the source sets: every pool photo is a val photo, none a training photo
        for cat in studies.CATEGORIES:
            val = {q.stem for q in (DATA / cat / "val").rglob("*.jpg")}
            train = {q.stem for q in (DATA / cat / "train").rglob("*.jpg")}
            stems = {p.path.stem for p in pool if p.category == cat}
            assert stems <= val and not stems & train


def test_hue_turned_catch_image(photo):
    turned = np.asarray(hue_turned(photo), float)
    orig = np.asarray(photo, float)
    assert turned.shape == orig.shape
    # the disc is red (220, 40, 40): turned 180 degrees it becomes cyan
    r, g, b = turned[36, 48]
    assert g > r + 100 and b > r + 100
    assert np.abs(np.asarray(hue_turned(hue_turned(photo)), float) - orig).mean() < 6


# ---------------------------------------------------------------- plans

@pytest.mark.parametrize("protocol", plan.PROTOCOLS)
@pytest.mark.parametrize("n_photos,trials,catch_share", [(60, 20, 0.1), (13, 20, 0.2), (7, 5, 0.0), (192, 24, 0.1)])
def test_no_photo_twice_in_a_session(protocol, n_photos, trials, catch_share):
    st = study(protocol, n_photos=n_photos, trials=trials, catch_share=catch_share)
    main, catch = st.lengths()
    assert main + catch <= n_photos
    for k in range(40):
        trials_ = plan_of(st, k)
        assert len(trials_) == main + catch
        photos = [t.photo.photo_id for t in trials_]
        assert len(set(photos)) == len(photos), f"session {k} repeats a photo"
        assert Counter(t.kind for t in trials_)["catch"] == catch
        for t in trials_:
            if protocol == plan.TWO_AFC:
                assert sorted(t.shown) == sorted([studies.REAL, t.condition]) and t.truth in (plan.LEFT, plan.RIGHT)
                assert t.shown[0 if t.truth == plan.LEFT else 1] == studies.REAL
            else:
                assert t.shown == [t.condition] and t.truth == (studies.REAL if t.condition == studies.REAL
                                                                  else plan.COLORIZED)


@pytest.mark.parametrize("protocol", plan.PROTOCOLS)
@pytest.mark.parametrize("n_photos,trials,sessions", [(60, 20, 37), (64, 16, 50), (13, 5, 29), (192, 20, 61)])
def test_latin_square_balance(protocol, n_photos, trials, sessions):
    """Over any number of sessions every photo has been in every condition equally often
    within 1; within a session the conditions are balanced within 2."""
    st = study(protocol, n_photos=n_photos, trials=trials)
    conds = st.conditions
    counts = Counter()
    for k in range(sessions):
        ts = [t for t in plan_of(st, k) if t.kind == "main"]
        per_cond = Counter(t.condition for t in ts)
        assert max(per_cond[c] for c in conds) - min(per_cond[c] for c in conds) <= 2
        counts.update((t.photo.photo_id, t.condition) for t in ts)
        per_photo = [[counts[(p.photo_id, c)] for c in conds] for p in st.photos]
        assert max(max(r) - min(r) for r in per_photo) <= 1, f"unbalanced after {k + 1} sessions"
    # exactly equal once the sessions have made C full passes over the pool
    st = study(protocol, n_photos=12, trials=12, catch_share=0)
    counts = Counter((t.photo.photo_id, t.condition) for k in range(len(st.conditions))
                     for t in plan_of(st, k) if t.kind == "main")
    assert set(counts.values()) == {1} and len(counts) == 12 * len(st.conditions)


def test_plan_is_reproducible_from_its_seed_and_shuffled():
    st = study()
    a = plan_session(st, 3, 12345)
    assert a == plan_session(st, 3, 12345)
    b = plan_session(st, 3, 54321)           # same place in the rotation, another order
    assert sorted(t.photo.photo_id for t in a) == sorted(t.photo.photo_id for t in b) and a != b
    sides = Counter(t.truth for k in range(30) for t in plan_of(st, k))
    assert abs(sides[plan.LEFT] - sides[plan.RIGHT]) < 0.15 * sum(sides.values())


def test_pairs_judge_each_model_on_its_own_category():
    models = ("lab-faces", "rgb-faces", "lab-landscapes", "rgb-landscapes")
    pairs = (("lab-faces", "faces"), ("rgb-faces", "faces"), ("lab-landscapes", "landscapes"),
             ("rgb-landscapes", "landscapes"))
    for protocol in plan.PROTOCOLS:
        st = Study(1, Settings(protocol, models, ("faces", "landscapes"), trials=12, pairs=pairs),
                   tuple(p for p in fake_photos(48) if p.category != "general"))
        counts = Counter()
        for k in range(20):
            for t in plan_of(st, k):
                if t.kind == "main" and t.condition != studies.REAL:
                    assert (t.condition, t.photo.category) in pairs
                    counts[t.condition] += 1
        assert set(counts) == set(models) and max(counts.values()) - min(counts.values()) <= 0.25 * max(counts.values())
    with pytest.raises(ValueError, match="pair"):
        Settings(plan.TWO_AFC, ("lab-faces",), ("faces",), pairs=(("lab-faces", "general"),)).validate()


@pytest.mark.parametrize("text", ["<img src=x onerror=alert(1)>", "1.5", "-3", "0", "1e3", "99999999999999999999",
                                  "\u0661\u0662", " ", "3; DROP TABLE studies", None])
def test_study_ids_from_links_are_validated_without_echo(text):
    with pytest.raises(ValueError) as info:
        plan.parse_study_id(text)
    assert "<" not in str(info.value) and (text is None or text.strip() == "" or text not in str(info.value))
    assert plan.parse_study_id(" 42 ") == 42


def test_short_pool_shortens_the_session_and_says_so(weights_dir, tmp_path, monkeypatch):
    s = Settings(plan.TWO_AFC, ("a",), trials=20, catch_share=0.1)
    assert session_lengths(s, 192) == (20, 2) and session_lengths(s, 10) == (9, 1)
    assert session_lengths(Settings(plan.SINGLE, ("a",), trials=20, catch_share=0), 5) == (5, 0)
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    folder = tmp_path / "own"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((40, 50, 3), 30 * i, np.uint8)).save(folder / f"p{i}.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    lab = studies.Lab(studies.StudyStore(tmp_path / "data"), weights_dir)
    st, note = lab.publish(TOKEN, Settings(plan.SINGLE, ("lab-general",), trials=20, pool=str(folder)))
    assert len(st.photos) == 6 and st.lengths() == (5, 1)
    assert "Shorter than the 20 trials" in note and "broken.jpg" in note


# ---------------------------------------------------------------- organiser access

@pytest.mark.parametrize("env,given,message", [(None, TOKEN, "COLORLAB_ORGANISER_TOKEN"), ("", TOKEN, "turned off"),
                                               (TOKEN, "wrong", "Wrong organiser token"),
                                               (TOKEN, "", "Wrong organiser token"),
                                               (TOKEN, None, "Wrong organiser token")])
def test_missing_or_wrong_token_is_refused_and_nothing_stored(weights_dir, tmp_path, monkeypatch, env, given,
                                                              message, photo):
    if env is None:
        monkeypatch.delenv(studies.TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(studies.TOKEN_ENV, env)
    store = studies.StudyStore(tmp_path / "data")
    lab = studies.Lab(store, weights_dir)
    upload = tmp_path / "mine.png"
    photo.save(upload)
    with pytest.raises(studies.AccessDenied, match=message):
        lab.publish(given, Settings(plan.TWO_AFC, ("lab-general",)))
    with pytest.raises(studies.AccessDenied, match=message):
        store.publish(given, Settings(plan.TWO_AFC, ("lab-general",)), fake_photos(5), "t")
    with pytest.raises(studies.AccessDenied, match=message):
        lab.import_photos(given, [upload])
    assert store.studies() == [] and not (tmp_path / "data" / "pools").exists()
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    st, _ = lab.publish(TOKEN, Settings(plan.TWO_AFC, ("lab-general",)))
    with pytest.raises(studies.AccessDenied):
        lab.close(given if given != TOKEN else "nope", st.study_id)
    assert not lab.study(st.study_id).closed


def test_token_is_compared_in_constant_time(monkeypatch):
    import hmac
    calls = []
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or a == b)
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    studies.check_token(TOKEN)
    assert calls == [(TOKEN.encode(), TOKEN.encode())]


# ---------------------------------------------------------------- store and sessions

def test_studies_are_immutable_several_at_once_and_closable(weights_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    lab = studies.Lab(studies.StudyStore(tmp_path), weights_dir)
    a, _ = lab.publish(TOKEN, Settings(plan.TWO_AFC, ("lab-general", "hsv-general"), ("faces",), trials=6))
    b, _ = lab.publish(TOKEN, Settings(plan.SINGLE, ("rgb-general",), ("landscapes",), trials=4, catch_share=0))
    assert lab.study(None).study_id == b.study_id == lab.study("").study_id   # the plain link: latest open
    assert lab.study(a.study_id) == a and {p.category for p in a.photos} == {"faces"}
    s1, s2 = lab.start(a.study_id), lab.start(a.study_id)
    assert (s1.index, s2.index) == (0, 1) and s1.session_id != s2.session_id
    assert len(s1.session_id) == 16 and s1.trials != s2.trials   # random ids; plans from the secret
    lab.close(TOKEN, b.study_id)
    assert lab.study(None).study_id == a.study_id
    with pytest.raises(LookupError, match="closed"):
        lab.start(b.study_id)
    with pytest.raises(LookupError, match="no open study"):
        lab.close(TOKEN, b.study_id)
    with pytest.raises(LookupError, match="no study"):
        lab.start(999)
    with pytest.raises(ValueError, match="whole number"):
        lab.start("10" * 40)
    assert not hasattr(lab.store, "update") and not any("settings" in n and n != "settings" for n in dir(lab.store))


@pytest.mark.parametrize("protocol", plan.PROTOCOLS)
def test_session_from_start_to_result(weights_dir, tmp_path, monkeypatch, protocol, instant):
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    assert Settings(protocol, ("lab-general",)).size == 256      # docs/studies.md: 256x256 pictures by default
    store = studies.StudyStore(tmp_path / "data")
    lab = studies.Lab(store, weights_dir)
    st, note = lab.publish(TOKEN, Settings(protocol, ("lab-general", "rgb-general"), ("landscapes",), trials=4,
                                           catch_share=0.2, size=64))
    assert "4 trials + 1 attention check." in note
    made = []
    real_make = studies.Preparer.make
    monkeypatch.setattr(studies.Preparer, "make", lambda self, p, c: made.append((p, c)) or real_make(self, p, c))
    session = lab.start(st.study_id)
    numbers = []
    while not session.done:
        shown = lab.show(session)
        numbers.append((shown.number, shown.total, len(shown.pictures), shown.two_afc))
        for name in shown.pictures:
            with Image.open(io.BytesIO(lab.shelf.get(name))) as img:
                assert img.size == (64, 64) and img.mode == "RGB" and not img.info
        trial = session.current()
        lab.answer(session, shown.token, trial.truth if trial.kind == "catch" else plan.LEFT if trial.right else
                   studies.REAL, score=4, app_version="v1")
        assert all(lab.shelf.get(n) is None for n in shown.pictures)   # gone once answered
    pics = 2 if protocol == plan.TWO_AFC else 1
    assert numbers == [(k, 5, pics, protocol == plan.TWO_AFC) for k in range(1, 6)]
    assert lab.show(session) is None
    with pytest.raises(studies.Refused, match="already answered"):
        lab.answer(session, shown.token, plan.LEFT if protocol == plan.TWO_AFC else studies.REAL)
    rows = store.answers(st.study_id)
    assert len(rows) == 5 and {r["session_id"] for r in rows} == {session.session_id}
    assert all(r["response_ms"] >= 0 and r["app_version"] == "v1" and not r["late"] for r in rows)
    assert all((r["score"] == 4) == (protocol == plan.SINGLE) for r in rows)
    assert all(bool(r["checkpoint_sha256"]) == (r["condition"] not in ("real", "catch")) for r in rows)
    assert lab.summary(session)["answered"] == 5
    # the pictures are made once and then come from the disk cache
    n_made = len(made)
    assert n_made == len({(t.photo, c) for t in session.trials for c in t.shown})
    for t in session.trials:
        for c in t.shown:
            lab.preparer(64).path(t.photo, c)
    assert len(made) == n_made
    for bad in (None, "", "wrong"):
        with pytest.raises(studies.AccessDenied):
            lab.results(bad, st.study_id)
        with pytest.raises(studies.AccessDenied):
            lab.export_csv(bad, st.study_id)
    _, res = lab.results(TOKEN, st.study_id)   # answered at machine speed: flagged fast, left out
    assert res["excluded"] == [session.session_id] and res["left_out"]["fast"]["sessions"] == 1 and res["used"] == 0
    _, res = lab.results(TOKEN, st.study_id, include=(stats.FAST,))
    assert res["raters"][0]["attention"] == "passed" and res["excluded"] == [] and res["used"] == 4
    text = lab.export_csv(TOKEN, st.study_id)
    out = list(csv.DictReader(io.StringIO(text)))
    assert tuple(out[0]) == stats.CSV_COLUMNS and len(out) == 5
    assert [int(r["correct"]) for r in out] == [int(r["answer"] == r["truth"]) for r in rows]   # 1: answered the truth
    assert sum(int(r["correct"]) for r in out if r["kind"] == "catch") == 1                 # the check, answered right
    assert {r["protocol"] for r in out} == {protocol} and {r["attention"] for r in out} == {"passed"}
    assert all(bool(r["shown_order"]) == (protocol == plan.TWO_AFC) for r in out)


# ---------------------------------------------------------------- statistics

def test_wilson_and_holm_known_values():
    lo, hi = stats.wilson(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert stats.wilson(0, 0) == (0.0, 1.0)
    assert stats.wilson(0, 10)[0] == 0 and stats.wilson(10, 10)[1] == pytest.approx(1.0)
    assert stats.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert stats.holm([0.02, 0.01]) == pytest.approx([0.02, 0.02])


def simulate(st: Study, p_fool: dict[str, float], sessions: int, rng: random.Random, careless: int = 0) -> list[dict]:
    """Answer rows of ``sessions`` simulated raters: a colorization of model m fools with
    probability p_fool[m] (single: a real photo is judged real with p_fool["real"]);
    catch trials are answered right, except by the first ``careless`` sessions (at random)."""
    rows, rid = [], 0
    for k in range(sessions):
        sid = f"s{k:04d}"
        for t in plan_of(st, k):
            if t.kind == "catch":
                right = rng.random() < (0.5 if k < careless else 1.0)
            else:
                fool = rng.random() < p_fool[t.condition]
                right = not fool if t.condition != studies.REAL else fool
            other = {plan.LEFT: plan.RIGHT, plan.RIGHT: plan.LEFT, studies.REAL: plan.COLORIZED,
                     plan.COLORIZED: studies.REAL}[t.truth]
            rid += 1
            rows.append({"id": rid, "study_id": st.study_id, "session_id": sid, "kind": t.kind,
                         "condition": t.condition, "category": t.photo.category, "truth": t.truth,
                         "answer": t.truth if right else other, "response_ms": 1000, "photo": t.photo.photo_id})
    return rows


@pytest.mark.parametrize("protocol", plan.PROTOCOLS)
def test_intervals_cover_the_true_fooling_rates(protocol):
    """Simulated raters with known fooling probabilities, 300 studies of 25 sessions: the
    95% Wilson intervals (per model, all categories) cover the true rates about 95% of the
    time (binomial test of the coverage count against 0.95 does not reject at 0.001)."""
    truth = {"m-a": 0.15, "m-b": 0.35, "m-c": 0.5, studies.REAL: 0.8}
    rng = random.Random(1)
    st = study(protocol, n_photos=60, trials=20, catch_share=0)
    covered = total = 0
    for _ in range(300):
        res = stats.results(simulate(st, truth, 25, rng), st.settings)
        for r in res["rates"]:
            if r["category"] == stats.ALL:
                total += 1
                covered += r["ci_low"] <= truth[r["model"]] <= r["ci_high"]
    assert total == 300 * len(st.conditions)
    assert binomtest(covered, total, 0.95).pvalue > 0.001, f"coverage {covered / total:.3f}"
    assert 0.93 <= covered / total <= 0.97


def test_results_tests_pairs_and_attention_exclusion():
    rng = random.Random(2)
    st = study(plan.TWO_AFC, n_photos=90, trials=30, catch_share=0.1)
    rows = simulate(st, {"m-a": 0.1, "m-b": 0.45, "m-c": 0.5}, 60, rng, careless=10)
    res = stats.results(rows, st.settings)
    att = stats.attention(rows, st.settings.catch_pass)
    failed = {s for s, a in att.items() if a == "failed"}
    assert failed and failed <= {f"s{k:04d}" for k in range(10)} and set(res["excluded"]) == failed
    assert res["used"] == sum(r["kind"] == "main" and r["session_id"] not in failed for r in rows)
    overall = {r["model"]: r for r in res["rates"] if r["category"] == stats.ALL}
    assert overall["m-a"]["p_vs_half"] < 1e-6 and overall["m-c"]["p_vs_half"] > 0.001
    k, n = overall["m-b"]["k"], overall["m-b"]["n"]
    assert overall["m-b"]["p_vs_half"] == pytest.approx(binomtest(k, n, 0.5).pvalue)
    pairs = {(p["a"], p["b"]): p for p in res["pairs"]}
    assert set(pairs) == {("m-a", "m-b"), ("m-a", "m-c"), ("m-b", "m-c")}
    assert pairs[("m-a", "m-c")]["p_holm"] < 1e-6 and pairs[("m-b", "m-c")]["p_holm"] > 0.01
    assert [p["p_holm"] for p in res["pairs"]] == pytest.approx(stats.holm([p["p"] for p in res["pairs"]]))
    assert sum(r["n"] for r in res["rates"] if r["category"] != stats.ALL) == res["used"]
    raters = {r["session_id"]: r for r in res["raters"]}
    assert len(raters) == 60 and all(raters[s]["included"] is (s not in failed) for s in raters)
    with_failed = stats.results(rows, st.settings, include=(stats.ATTENTION,))
    assert with_failed["excluded"] == [] and with_failed["used"] > res["used"]
    assert stats.plot(res).axes and stats.plot(stats.results([], st.settings)).axes


# ---------------------------------------------------------------- promises of docs/studies.md

def test_attention_checks_default_to_a_tenth_and_pass_at_three_quarters():
    settings = Settings(plan.TWO_AFC, ("m-a",))
    assert settings.catch_share == 0.1

    def rows(session, right, wrong):
        return [{"session_id": session, "kind": plan.CATCH, "truth": "left", "answer": a}
                for a in ["left"] * right + ["right"] * wrong]
    att = stats.attention(rows("s75", 3, 1) + rows("s67", 2, 1) + rows("s100", 4, 0), settings.catch_pass)
    assert att == {"s75": "passed", "s67": "failed", "s100": "passed"}


def test_the_picture_cache_follows_a_retrained_model(tmp_path, photo):
    from conftest import make_checkpoint

    from colorlab.studies.pool import Preparer
    weights = tmp_path / "weights"
    make_checkpoint(weights, "lab-general", "lab")
    src = tmp_path / "photo.png"
    photo.save(src)
    pic = Photo("general", src, "ab" * 32)
    prep = Preparer(tmp_path / "cache", size=48, weights_dir=weights)
    first = prep.path(pic, "lab-general")
    assert prep.path(pic, "lab-general") == first                 # cached: made once
    torch = pytest.importorskip("torch")
    from colorlab.checkpoints import save_checkpoint
    from colorlab.models import create_model
    torch.manual_seed(7)                                          # "retrained": other weights, same name
    net = create_model("lab_resunet", out_channels=2, widths=(4, 8, 8)).eval()
    for p in net.parameters():
        p.data.normal_(0, 0.3)
    save_checkpoint(net, weights / "lab-general", {"name": "lab-general", "space": "lab", "category": "general",
                                                    "train_size": 64, "render_size": 64})
    second = prep.path(pic, "lab-general")
    assert second != first and second.is_file()
    assert not np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(second)))
