"""Turing studies through the real server (``python app.py`` on loopback, tiny test
checkpoints), driven by gradio_client as raters and organisers are:

* a session from the link to its end screen, with pictures under per-trial random URLs
  that stop working once the trial is answered and never repeat across sessions;
* two answers sent at once for the trial on screen (a double click): exactly one is
  stored, none for the next trial; repeats and made-up tokens are refused;
* results, per-rater table, invite codes and export refused without the token; nothing
  about other raters in anything a rater receives; Gradio's run history is off;
* invite codes work once; the per-client cap holds; study ids from links are validated
  and never echoed.
"""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from apphelp import running_app
from colorlab.studies import StudyStore

pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

pytestmark = pytest.mark.slow

TOKEN = "study-app-organiser-token"
SRC = re.compile(r'src="(gradio_api/study-picture/[0-9a-f]{32}\.png)"')
FLOOR = 0.25   # seconds: more than the server's floor under an answer (200 ms)


@pytest.fixture(scope="module")
def app(weights_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study-app")
    with running_app(weights_dir, tmp, token=TOKEN) as (url, data):
        yield url, data, tmp


@pytest.fixture(scope="module")
def organiser(app):
    return Client(app[0], verbose=False, download_files=str(app[2] / "downloads"))


def publish(organiser, protocol="2afc", trials=4, catch=20, access="open", invites=30, cap=0, models=None):
    note, _, codes = organiser.predict(TOKEN, protocol, models or ["lab-general", "rgb-general"], True, ["general"],
                                       trials, catch, 0, True, access, invites, cap, None, api_name="/turing_publish")
    return int(re.search(r"Study \*\*(\d+)\*\*", note).group(1)), note, codes


def rater(app) -> Client:
    return Client(app[0], verbose=False)


def step(out) -> dict:
    """A start/answer result as the rater receives it."""
    progress, trial, token, exposure, _score, end = out
    return {"progress": progress, "trial": trial, "token": token, "exposure": exposure, "end": end,
            "urls": SRC.findall(trial or "") if isinstance(trial, str) else []}


def refused(out) -> str:
    """The message of a refused answer ('' if it was not refused): nothing else changes."""
    progress, trial, token, *_, end = out
    if isinstance(progress, str):
        return ""
    assert all(isinstance(x, dict) and "value" not in x for x in (progress, trial, token))
    return end


def test_a_session_from_the_link_to_its_end_screen(app, organiser):
    url, data, _ = app
    study_id, note, _ = publish(organiser, "single", trials=5)
    assert "5 trials + 1 attention check." in note and f"?study={study_id}" in note
    r = rater(app)
    s = step(r.predict(str(study_id), "", api_name="/turing_start"))
    seen = []
    for k in range(6):
        assert s["progress"] == f"Trial {k + 1} of 6" and len(s["urls"]) == 1 and s["exposure"] == 0
        pic = httpx.get(url + s["urls"][0])
        assert pic.status_code == 200 and pic.headers["content-type"] == "image/png"
        assert pic.headers["cache-control"] == "no-store" and len(pic.content) > 100_000   # 256 px, uncompressed
        seen += s["urls"]
        time.sleep(FLOOR)
        endpoint = "/turing_answer_real" if k % 2 else "/turing_answer_colorized"
        s = step(r.predict(s["token"], str(k % 5 + 1) if k != 2 else None, api_name=endpoint))
        assert httpx.get(url + seen[-1]).status_code == 404   # valid only while its trial is on screen
    assert s["urls"] == [] and s["end"].startswith("### Finished") and "of 6 trials" in s["end"]
    assert re.search("finished|already answered", refused(r.predict(s["token"] or "x", "3",
                                                                    api_name="/turing_answer_real")))
    rows = StudyStore(data).answers(study_id)
    assert len(rows) == 6 and sum(r["score"] is not None for r in rows) == 5
    assert all(r["response_ms"] >= 200 for r in rows)


def test_double_clicks_store_one_answer_for_the_trial_on_screen(app, organiser):
    """Left and right sent at the same moment, five trials running: each time exactly one
    is stored and the other is refused (its reply changes nothing and says why); a made-up
    token is refused; no answer is ever stored for a trial the rater was not shown."""
    url, data, _ = app
    study_id, _, _ = publish(organiser, trials=6, catch=0)
    r = rater(app)
    s = step(r.predict(str(study_id), "", api_name="/turing_start"))
    store = StudyStore(data)
    session_id = max(store.sessions(study_id), key=lambda x: x["started_at"])["session_id"]
    with ThreadPoolExecutor(2) as pool:
        for k in range(5):
            time.sleep(FLOOR)
            jobs = [pool.submit(r.predict, s["token"], api_name=e)
                    for e in ("/turing_answer_left", "/turing_answer_right")]
            outcomes = [j.result() for j in jobs]
            ok = [step(o) for o in outcomes if not refused(o)]
            messages = [refused(o) for o in outcomes if refused(o)]
            assert len(ok) == 1 and len(messages) == 1, outcomes
            assert "already answered" in messages[0]
            assert ok[0]["progress"] == f"Trial {k + 2} of 6"
            trials = [a["trial"] for a in store.answers(study_id, session_id)]
            assert trials == list(range(k + 1)), trials
            s = ok[0]
    time.sleep(FLOOR)
    assert "not on screen" in refused(r.predict("made-up-token", api_name="/turing_answer_left"))
    assert len(store.answers(study_id, session_id)) == 5


def test_results_and_export_need_the_token_and_nothing_leaks_to_a_rater(app, organiser):
    url, _, tmp = app
    study_id, _, _ = publish(organiser, trials=2, catch=0)
    r = rater(app)
    outputs = [r.predict(str(study_id), "", api_name="/turing_start")]
    s = step(outputs[-1])
    while not s["end"]:
        time.sleep(FLOOR)
        outputs.append(r.predict(s["token"], api_name="/turing_answer_left"))
        s = step(outputs[-1])
    text = repr(outputs)
    sessions = [x["session_id"] for x in StudyStore(app[1]).sessions(study_id)]
    assert sessions and not any(sid in text for sid in sessions)     # not even the rater's own session id
    for bad in ("", "wrong", None):
        for args, endpoint in (((bad, str(study_id), []), "/turing_results"), ((bad, str(study_id)), "/turing_export"),
                               ((bad, str(study_id)), "/turing_invites")):
            with pytest.raises(Exception, match="organiser token|turned off") as info:
                r.predict(*args, api_name=endpoint)
            assert "session" not in str(info.value)
    choices = r.predict(api_name="/turing_studies")["choices"]
    assert all(re.fullmatch(r"\d+ · (2afc|single) · (open|closed)", c[0]) for c in choices)   # no counts
    assert httpx.get(url + "gradio_api/runs").status_code == 404           # run history is off
    plot, rates, pairs, raters, note = organiser.predict(TOKEN, str(study_id), [], api_name="/turing_results")
    assert note.startswith(f"2 answers in study {study_id} (2afc, open) from 1 session;")
    assert "failed attention checks: 0 sessions" in note and "implausibly fast" in note
    assert len(raters["data"]) == 1
    exported = Path(organiser.predict(TOKEN, str(study_id), api_name="/turing_export")).read_text().splitlines()
    assert len(exported) == 3 and exported[0].startswith("study_id,protocol,session_id")


def test_invite_codes_work_once_and_the_cap_holds(app, organiser):
    study_id, note, codes = publish(organiser, access="invite", invites=2)
    assert "Invite-only: 2 invite codes" in note
    codes = codes["value"].split()
    assert len(codes) == 2
    with pytest.raises(Exception, match="invite code"):
        rater(app).predict(str(study_id), "", api_name="/turing_start")
    rater(app).predict(str(study_id), codes[0], api_name="/turing_start")
    with pytest.raises(Exception, match="already been used"):
        rater(app).predict(str(study_id), codes[0], api_name="/turing_start")
    listed = organiser.predict(TOKEN, str(study_id), api_name="/turing_invites")["value"]
    assert f"{codes[0]}  used" in listed and f"{codes[1]}  unused" in listed
    capped, note, _ = publish(organiser, cap=2)
    assert "At most 2 sessions per network address and hour" in note
    for _ in range(2):
        rater(app).predict(str(capped), "", api_name="/turing_start")
    with pytest.raises(Exception, match="at most 2 sessions per hour"):
        rater(app).predict(str(capped), "", api_name="/turing_start")


@pytest.mark.parametrize("raw,message", [("<img src=x onerror=alert(1)>", "whole number"),
                                         ("9" * 400, "whole number"), ("999999", "no study")])
def test_study_ids_from_links_are_validated_and_never_echoed(app, raw, message):
    with pytest.raises(Exception, match=message) as info:
        rater(app).predict(raw, "", api_name="/turing_start")
    assert "<img" not in str(info.value) and "9" * 20 not in str(info.value)
    assert "went wrong" not in str(info.value)


def test_no_picture_url_is_served_twice_across_sessions(app, organiser):
    study_id, _, _ = publish(organiser, trials=6, catch=0)
    urls = []
    for _ in range(3):
        r = rater(app)
        s = step(r.predict(str(study_id), "", api_name="/turing_start"))
        while not s["end"]:
            urls += s["urls"]
            time.sleep(FLOOR)
            s = step(r.predict(s["token"], api_name="/turing_answer_right"))
    assert len(urls) == 3 * 6 * 2 and len(set(urls)) == len(urls)
