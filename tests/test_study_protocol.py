"""The study protocol in the library (colorlab.studies): the server secret, one answer per
trial shown (tokens, serialised concurrent answers, refusals that change nothing), late
answers, invite codes, the per-client cap, organiser-only results, an old database
opened by the new code, and own photos that share a file name."""
from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time

import numpy as np
import pytest
from PIL import Image

from colorlab import studies
from colorlab.studies import plan, stats
from colorlab.studies import store as store_mod
from colorlab.studies.plan import Settings
from colorlab.studies.secret import SECRET_ENV, SECRET_FILE, load_secret

TOKEN = "protocol-organiser-token"
FLOOR_MS = 40    # the floor under an answer, shortened so that these tests wait little


@pytest.fixture
def lab(weights_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.setattr(store_mod, "MIN_ANSWER_MS", FLOOR_MS)
    return studies.Lab(studies.StudyStore(tmp_path / "data"), weights_dir)


def publish(lab, **kw) -> studies.Study:
    base = {"protocol": plan.TWO_AFC, "models": ("lab-general", "rgb-general"), "categories": ("landscapes",),
            "trials": 4, "catch_share": 0.2, "size": 48}
    return lab.publish(TOKEN, Settings(**{**base, **kw}))[0]


def wait_floor():
    time.sleep(FLOOR_MS / 1000 + 0.01)


def right_side(session) -> str:
    return session.current().truth


def snapshot(lab, session_id):
    return lab.store.count(), lab.store.session(session_id)


# ---------------------------------------------------------------- the secret

def test_secret_is_created_once_private_and_env_overrides(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    a = load_secret(tmp_path)
    path = tmp_path / SECRET_FILE
    assert len(a) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(tmp_path) == a and load_secret(tmp_path / "other") != a
    os.chmod(path, 0o644)
    assert load_secret(tmp_path) == a and stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv(SECRET_ENV, "x" * 40)
    assert load_secret(tmp_path) == b"x" * 40
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(ValueError, match="32 characters"):
        load_secret(tmp_path)


def test_plans_come_from_the_secret_not_from_anything_the_rater_sees(weights_dir, tmp_path, monkeypatch):
    """Two servers with different secrets give different plans to the same session ids and
    study ids; the session id is never part of what ``show`` returns."""
    monkeypatch.setenv(studies.TOKEN_ENV, TOKEN)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    labs = [studies.Lab(studies.StudyStore(tmp_path / d), weights_dir) for d in ("a", "b")]
    sts = [publish(lb, trials=10, catch_share=0) for lb in labs]
    assert [s.study_id for s in sts] == [1, 1]
    assert [p.photo_id for p in sts[0].photos] != [p.photo_id for p in sts[1].photos]   # photo order: secret
    monkeypatch.setattr(plan, "new_session_id", lambda: "0123456789abcdef")
    monkeypatch.setattr(store_mod, "new_session_id", lambda: "0123456789abcdef")
    sa, sb = labs[0].start(1), labs[1].start(1)
    assert sa.session_id == sb.session_id and sa.index == sb.index == 0
    assert [t.truth for t in sa.trials] != [t.truth for t in sb.trials]
    shown = labs[0].show(sa)
    assert sa.session_id not in repr(shown) and str(shown.number) == "1"


# ---------------------------------------------------------------- one answer per trial shown

def test_repeat_unseen_early_and_unknown_answers_are_refused_and_change_nothing(lab, monkeypatch):
    st = publish(lab)
    s = lab.start(st.study_id)
    with pytest.raises(studies.Refused, match="not on screen") as info:   # nothing served yet
        lab.answer(s, "made-up-token", plan.LEFT)
    assert info.value.reason == "unseen"
    shown = lab.show(s)
    before = snapshot(lab, s.session_id)
    # a floor no loaded machine gets past: a 40 ms one was crossed between serving and answering
    monkeypatch.setattr(store_mod, "MIN_ANSWER_MS", 60_000)
    with pytest.raises(studies.Refused, match="before the pictures") as info:   # a double click's second half
        lab.answer(s, shown.token, plan.LEFT)
    monkeypatch.setattr(store_mod, "MIN_ANSWER_MS", FLOOR_MS)
    assert info.value.reason == "early" and snapshot(lab, s.session_id) == before
    wait_floor()
    for bad in ("", None, shown.token[:-1] + ("A" if shown.token[-1] != "A" else "B")):
        with pytest.raises(studies.Refused, match="not on screen"):
            lab.answer(s, bad, plan.LEFT)
    assert snapshot(lab, s.session_id) == before
    lab.answer(s, shown.token, right_side(s))
    after = snapshot(lab, s.session_id)
    assert after[0] == before[0] + 1 and after[1]["position"] == 1 and after[1]["trial_token"] is None
    with pytest.raises(studies.Refused, match="already answered") as info:
        lab.answer(s, shown.token, plan.RIGHT)
    assert info.value.reason == "repeat" and snapshot(lab, s.session_id) == after
    with pytest.raises(ValueError, match="does not fit"):   # a single-image answer to a side-by-side trial
        lab.show(s)
        wait_floor()
        lab.answer(s, lab.store.session(s.session_id)["trial_token"], studies.REAL)
    with pytest.raises(studies.Refused, match="unknown"):
        lab.store.answer("no-such-session", "t", s.trials, plan.LEFT, None, "v", st.settings)
    rows = lab.store.answers(st.study_id)
    assert [r["trial"] for r in rows] == [0] and rows[0]["response_ms"] >= FLOOR_MS


def test_a_closed_study_takes_no_answer_and_the_database_is_durable(lab):
    st = publish(lab)
    s = lab.start(st.study_id)
    shown = lab.show(s)
    wait_floor()
    lab.close(TOKEN, st.study_id)
    with pytest.raises(LookupError, match="closed"):
        lab.answer(s, shown.token, right_side(s))
    with pytest.raises(LookupError, match="closed"):
        lab.start(st.study_id)
    assert lab.store.count(st.study_id) == 0 and lab.store.integrity_ok()
    conn = lab.store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_concurrent_answers_of_one_session_store_exactly_one(lab):
    """16 threads answer the trial on screen at the same instant (through separate
    connections, as the app's worker threads do): one answer is stored, 15 are refused as
    repeats, the session moves on by exactly one trial; repeated over a whole session."""
    st = publish(lab, trials=6, catch_share=0)
    s = lab.start(st.study_id)
    while not s.done:
        shown = lab.show(s)
        wait_floor()
        outcomes, go = [], threading.Barrier(16)

        def click(choice, go=go, shown=shown, outcomes=outcomes):
            go.wait()
            try:
                lab.answer(s, shown.token, choice)
                outcomes.append("stored")
            except studies.Refused as exc:
                outcomes.append(exc.reason)
            finally:
                lab.store.close_connection()

        threads = [threading.Thread(target=click, args=([plan.LEFT, plan.RIGHT][k % 2],)) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["repeat"] * 15 + ["stored"], outcomes
        assert lab.store.session(s.session_id)["position"] == s.position
    rows = lab.store.answers(st.study_id)
    assert sorted(r["trial"] for r in rows) == list(range(6)) and lab.store.integrity_ok()


def test_late_answers_are_stored_flagged_and_left_out_by_default(lab):
    st = publish(lab, trials=4, catch_share=0, exposure_ms=100, grace_ms=150)
    s = lab.start(st.study_id)
    for k in range(4):
        shown = lab.show(s)
        time.sleep(0.45 if k % 2 else 0.06)   # 100 ms + 150 ms grace: the odd ones are late
        lab.answer(s, shown.token, right_side(s))
    rows = lab.store.answers(st.study_id)
    assert [r["late"] for r in rows] == [0, 1, 0, 1]
    assert all((r["response_ms"] > 250) == bool(r["late"]) for r in rows)
    _, res = lab.results(TOKEN, st.study_id, include=(stats.FAST,))
    assert res["used"] == 2 and res["left_out"]["late"] == {"sessions": 1, "answers": 2, "included": False}
    _, res = lab.results(TOKEN, st.study_id, include=(stats.FAST, stats.LATE))
    assert res["used"] == 4 and res["left_out"]["late"]["included"]
    with pytest.raises(ValueError, match="unknown exclusion"):
        lab.results(TOKEN, st.study_id, include=("everything",))


def test_fast_sessions_are_flagged_by_their_median():
    rows = [{"session_id": s, "response_ms": ms, "id": i, "kind": "main", "condition": "m", "category": "faces",
             "truth": "left", "answer": "left", "study_id": 1}
            for i, (s, ms) in enumerate([("a", 250), ("a", 260), ("a", 5000), ("b", 280), ("b", 900), ("b", 950)])]
    assert stats.fast_sessions(rows, 300) == {"a"} and stats.fast_sessions(rows, 0) == set()
    res = stats.results(rows, Settings(plan.TWO_AFC, ("m",)))
    assert res["excluded"] == ["a"] and res["left_out"]["fast"]["sessions"] == 1
    assert [r["fast"] for r in res["raters"]] == [True, False]


# ---------------------------------------------------------------- raters you can account for

def test_invite_codes_work_once(lab):
    st = publish(lab, access=plan.INVITE, invites=3)
    with pytest.raises(studies.AccessDenied):
        lab.invites("wrong", st.study_id)
    codes = [c["code"] for c in lab.invites(TOKEN, st.study_id)]
    assert len(set(codes)) == 3 and all(len(c) == 11 and c[5] == "-" for c in codes)
    for bad in (None, "", "AAAAA-AAAAA", "<b>x</b>"):
        with pytest.raises(studies.Refused, match="invite code") as info:
            lab.start(st.study_id, invite=bad)
        assert info.value.reason == "invite"
    assert lab.store.sessions(st.study_id) == []
    s = lab.start(st.study_id, invite=codes[0].lower().replace("-", " "))   # as typed by hand
    with pytest.raises(studies.Refused, match="already been used"):
        lab.start(st.study_id, invite=codes[0])
    lab.start(st.study_id, invite=codes[1])
    used = {c["code"]: c["used"] for c in lab.invites(TOKEN, st.study_id)}
    assert used == {codes[0]: 1, codes[1]: 1, codes[2]: 0}
    assert lab.store.session(s.session_id)["invite"] == codes[0]
    with pytest.raises(ValueError, match="invite codes"):
        Settings(plan.TWO_AFC, ("m",), access=plan.INVITE, invites=0).validate()


def test_sessions_per_client_and_hour_are_capped(lab, monkeypatch):
    st = publish(lab, sessions_per_hour=2)
    lab.start(st.study_id, client="10.0.0.1")
    lab.start(st.study_id, client="10.0.0.1")
    with pytest.raises(studies.Refused, match="at most 2 sessions per hour") as info:
        lab.start(st.study_id, client="10.0.0.1")
    assert info.value.reason == "cap" and len(lab.store.sessions(st.study_id)) == 2
    lab.start(st.study_id, client="10.0.0.2")          # another address
    stored = {s["client"] for s in lab.store.sessions(st.study_id)}
    assert not any("10.0.0" in c for c in stored) and len(stored) == 2   # keyed hashes, not addresses
    later = time.time() + 3601
    monkeypatch.setattr(store_mod.time, "time", lambda: later)
    lab.start(st.study_id, client="10.0.0.1")          # an hour later
    one = publish(lab, sessions_per_hour=1)
    lab.start(one.study_id, client="10.0.0.1")
    with pytest.raises(studies.Refused, match="at most 1 session per hour"):
        lab.start(one.study_id, client="10.0.0.1")


def test_results_and_export_are_organiser_only(lab):
    st = publish(lab)
    for bad in (None, "", "nope", TOKEN + " "):
        with pytest.raises(studies.AccessDenied):
            lab.results(bad, st.study_id)
        with pytest.raises(studies.AccessDenied):
            lab.export_csv(bad)
        with pytest.raises(studies.AccessDenied):
            lab.invites(bad, st.study_id)
    assert lab.export_csv(TOKEN).startswith("study_id,")


def test_publish_note_pluralises():
    assert studies.plural(1, "attention check") == "1 attention check"
    assert studies.plural(2, "attention check") == "2 attention checks"
    assert studies.plural(0, "trial") == "0 trials"


# ---------------------------------------------------------------- old databases, own photos

def test_an_old_database_gets_the_new_columns_and_keeps_its_answers(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    d = tmp_path / "old"
    d.mkdir()
    conn = sqlite3.connect(d / "studies.sqlite3")
    conn.executescript("""
        CREATE TABLE studies (id INTEGER PRIMARY KEY AUTOINCREMENT, protocol TEXT NOT NULL, settings TEXT NOT NULL,
            photos TEXT NOT NULL, app_version TEXT NOT NULL, created_at REAL NOT NULL, closed_at REAL);
        CREATE TABLE sessions (session_id TEXT PRIMARY KEY, study_id INTEGER NOT NULL, idx INTEGER NOT NULL,
            started_at REAL NOT NULL, UNIQUE (study_id, idx));
        CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, study_id INTEGER NOT NULL, session_id TEXT NOT NULL,
            trial INTEGER NOT NULL, photo TEXT NOT NULL, category TEXT NOT NULL, condition TEXT NOT NULL,
            kind TEXT NOT NULL, checkpoint_sha256 TEXT NOT NULL DEFAULT '', shown_order TEXT NOT NULL DEFAULT '',
            truth TEXT NOT NULL, answer TEXT NOT NULL, score INTEGER, response_ms INTEGER NOT NULL,
            app_version TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE (session_id, trial));
        INSERT INTO studies VALUES (1, '2afc', '{"protocol": "2afc", "models": ["m"]}', '[]', 'old', 0, NULL);
        INSERT INTO sessions VALUES ('1-0-beef', 1, 0, 0);
        INSERT INTO answers (study_id, session_id, trial, photo, category, condition, kind, truth, answer,
            response_ms, app_version, created_at) VALUES (1, '1-0-beef', 0, 'faces/x', 'faces', 'm', 'main',
            'left', 'right', 900, 'old', 0);
    """)
    conn.commit()
    conn.close()
    store = studies.StudyStore(d)
    rows = store.answers(1)
    assert len(rows) == 1 and rows[0]["late"] == 0 and store.session("1-0-beef")["position"] == 0
    _, idx = store.start_session(1)
    assert idx == 1 and store.integrity_ok()


def test_own_photos_with_the_same_file_name_are_all_kept(lab, tmp_path):
    paths = []
    for k in range(3):
        d = tmp_path / f"camera{k}"
        d.mkdir()
        Image.fromarray(np.full((40, 50, 3), 40 * k + 20, np.uint8)).save(d / "IMG_0001.png")
        paths.append(d / "IMG_0001.png")
    paths.append(paths[0])   # the very same file twice: one photo
    folder, refused = lab.import_photos(TOKEN, paths)
    assert refused == [] and len(list(folder.iterdir())) == 3
    st, _ = lab.publish(TOKEN, Settings(plan.SINGLE, ("lab-general",), trials=2, catch_share=0, pool=str(folder)))
    assert len(st.photos) == 3 and len({p.photo_id for p in st.photos}) == 3
