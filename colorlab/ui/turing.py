"""The Turing test tab: organisers publish and close studies, raters answer trials, anyone reads the results.

The studies live in ``colorlab.studies``; the store (SQLite) is opened when first needed, not
at import (``lab``).
"""
from __future__ import annotations

import functools

import gradio as gr

from .. import __version__, studies
from ..serving import hosting, limits
from ..serving.scratch import private_dir
from ..studies import stats as study_stats
from .common import scratch_dir, user_errors

PROTOCOL_CHOICES = [(label, key) for key, label in studies.plan.PROTOCOL_LABELS.items()]
RATE_HEADERS = ["model", "category", "n", "fooled / judged real", "rate", "95% low", "95% high", "p vs 50%"]
PAIR_HEADERS = ["model A", "model B", "rate A", "rate B", "Fisher p", "Holm p"]
RATER_HEADERS = ["session", "answers", "catch right", "catch trials", "attention", "fooled", "colorized",
                 "median ms", "included"]
# The exposure limit: once the trial's pictures have loaded they stay visible for ``ms``,
# then are hidden (a newer trial cancels an older trial's timer).
EXPOSURE_JS = """(ms) => {
  const me = (window.colorlabTrial = (window.colorlabTrial || 0) + 1);
  const boxes = ['#turing-image', '#turing-left', '#turing-right'].map(s => document.querySelector(s)).filter(Boolean);
  boxes.forEach(b => { b.style.visibility = 'visible'; });
  if (!(ms > 0)) return [];
  const hide = () => { if (window.colorlabTrial === me) boxes.forEach(b => { b.style.visibility = 'hidden'; }); };
  const wait = () => {
    if (window.colorlabTrial !== me) return;
    const imgs = boxes.filter(b => b.offsetParent !== null).map(b => b.querySelector('img')).filter(Boolean);
    if (imgs.length && imgs.every(i => i.complete && i.naturalWidth > 0)) setTimeout(hide, ms);
    else setTimeout(wait, 15);
  };
  wait();
  return [];
}"""


@functools.cache
def storage() -> hosting.Storage:
    """Where the ratings live: $COLORLAB_DATA, else a Space's /data if writable, else ./data."""
    return hosting.choose_storage()


@functools.cache
def lab() -> studies.Lab:
    """The studies, sessions and answers (SQLite, WAL), opened on first use; a new study's
    pictures are prepared in the background."""
    store = studies.StudyStore(private_dir(storage().directory))
    private_dir(storage().directory)   # the database files just made: 0600 in a 0700 folder
    return studies.Lab(store, warm_on_publish=True)


# ---------------------------------------------------------------- handlers

def study_choices() -> list[tuple[str, str]]:
    return [(f"{s['id']} · {s['protocol']} · {'closed' if s['closed_at'] else 'open'} · {s['answers']} answers",
             str(s["id"])) for s in lab().store.studies()]


def _studies_update(value=None):
    choices = study_choices()
    return gr.update(choices=choices, value=value if value is not None else (choices[0][1] if choices else None))


@user_errors
def publish_study(token, protocol, models, categories, trials, catch_pct, exposure_ms, realism_score, own_photos):
    studies.check_token(token)   # before anything is read, copied or stored
    pool = "shipped"
    if own_photos:
        folder, _ = lab().import_photos(token, [getattr(f, "name", f) for f in own_photos])
        pool = str(folder)
    settings = studies.Settings(protocol, tuple(models or ()), tuple(categories or ()), int(trials or 0),
                                float(catch_pct or 0) / 100, exposure_ms=int(exposure_ms or 0),
                                realism_score=bool(realism_score), pool=pool)
    study, note = lab().publish(token, settings)
    return note, _studies_update(str(study.study_id))


@user_errors
def close_study(token, study_id):
    if not study_id:
        raise gr.Error("Choose the study to close.")
    study = lab().close(token, study_id)
    return f"Study {study.study_id} is closed: it takes no new sessions or answers.", _studies_update(str(study_id))


def open_page(request: gr.Request):
    """On page load: the ``?study=ID`` of the page's address (empty: the latest open study)
    for the rater, and the current list of studies for the results view."""
    params = getattr(request, "query_params", None) or {}
    linked = str(params.get("study", "") or "").strip()
    return linked, _studies_update(linked if lab().store.study(linked) else None)


def _show(session: studies.Session | None, last_stored: bool | None = None):
    """Outputs after any Turing step: state, single image, left and right images, text, the
    single and side-by-side answer boxes, the score (reset) and the exposure limit in ms."""
    hide = gr.update(visible=False)
    if session.done:
        s = session.summary()
        text = (f"### Finished: {s['correct']} of {s['answered']} correct\n"
                f"Colorizations you took for real: {s['fooled']} of {s['colorized_shown']}. "
                f"Thank you! Press *Start a session* to rate again.  \n"
                f"<small>study {session.study.study_id} · session `{session.session_id}`</small>")
        return session, None, None, None, text, hide, hide, gr.update(value=None), 0
    trial = session.current()
    # the same names for every picture: nothing the rater gets before answering tells the truth
    files = [str(p) for p in session.serve(lab().preparer(session.study.settings.size), scratch_dir())]
    n = f"Trial **{session.position + 1} of {len(session.trials)}**"
    if trial.right:
        text = f"{n}: one of these two is a real colour photo, the other a colorization. Which one is real?"
        single, left, right = None, files[0], files[1]
    else:
        text = f"{n}: is this a real colour photo, or colorized?"
        single, left, right = files[0], None, None
    if last_stored is False:
        text += " (your previous answer had already been recorded)"
    text += f"  \n<small>study {session.study.study_id} · session `{session.session_id}`</small>"
    score = gr.update(value=None, visible=not trial.right and session.study.settings.realism_score)
    return (session, single, left, right, text, gr.update(visible=not trial.right),
            gr.update(visible=bool(trial.right)), score, session.study.settings.exposure_ms)


@user_errors
def start_session(study_id=""):
    return _show(lab().start(study_id))


def _answer(choice, session, score=None):
    if session is None:
        raise gr.Error("Press *Start a session* first.")
    if session.done:
        return _show(session)
    stored = session.answer(choice, lab().store, __version__, int(score) if score else None)
    return _show(session, stored)


@user_errors
def answer_real(session, score=None):
    return _answer(studies.REAL, session, score)


@user_errors
def answer_colorized(session, score=None):
    return _answer(studies.COLORIZED, session, score)


@user_errors
def answer_left(session):
    return _answer(studies.LEFT, session)


@user_errors
def answer_right(session):
    return _answer(studies.RIGHT, session)


def _p(x):
    return None if x is None else float(f"{x:.3g}")


@user_errors
def results(study_id, include_failed=False):
    if not study_id:
        raise gr.Error("Choose a study (publish one first).")
    study, res = lab().results(study_id, bool(include_failed))
    rates = [[r["model"], r["category"], r["n"], r["k"], round(r["rate"], 3), round(r["ci_low"], 3),
              round(r["ci_high"], 3), _p(r["p_vs_half"])] for r in res["rates"]]
    pairs = [[p["a"], p["b"], round(p["rate_a"], 3), round(p["rate_b"], 3), _p(p["p"]), _p(p["p_holm"])]
             for p in res["pairs"]]
    raters = [[r["session_id"], r["answers"], r["catch_right"], r["catch_trials"], r["attention"], r["fooled"],
               r["colorized"], round(r["median_response_ms"]), r["included"]] for r in res["raters"]]
    excluded = ", ".join(res["excluded"]) or "none"
    note = (f"{res['answers']} answers in study {study.study_id} ({study.settings.protocol}, "
            f"{'closed' if study.closed else 'open'}); {res['used']} main trials used. Sessions failing the "
            f"attention checks{' (included on request)' if include_failed else ', left out'}: {excluded}.")
    title = f"Study {study.study_id}: fooling rate, 95% Wilson intervals"
    return study_stats.plot(res, title), rates, pairs, raters, note


@user_errors
def export_csv(study_id=None):
    path = scratch_dir() / (f"colorlab-study-{study_id}.csv" if study_id else "colorlab-studies.csv")
    path.write_text(lab().export_csv(study_id or None))
    return str(path)


# ---------------------------------------------------------------- layout and events

def tab(demo: gr.Blocks, names: list[str]) -> None:
    """The tab's components and events (inside ``demo``); ``names``: the installed models."""
    with gr.Tab("Turing test", id="turing"):
        session = gr.State(None)
        if storage().notice():
            gr.Markdown(storage().notice())
        with gr.Accordion("Organiser: publish or close a study", open=False):
            gr.Markdown(f"Needs the organiser token (`{studies.TOKEN_ENV}`). A published study never "
                        "changes: for other settings publish a new one. Raters open the page with "
                        "`?study=ID`; the plain address goes to the latest open study.")
            t_token = gr.Textbox(label="Organiser token", type="password", elem_id="turing-token")
            t_protocol = gr.Radio(PROTOCOL_CHOICES, value=studies.TWO_AFC, label="Protocol")
            t_models = gr.CheckboxGroup(names, value=names[:3], label="Models")
            t_cats = gr.CheckboxGroup(list(studies.CATEGORIES), value=list(studies.CATEGORIES),
                                      label="Categories (study pool)")
            with gr.Row():
                t_n = gr.Number(value=studies.plan.DEFAULT_TRIALS, precision=0, minimum=1,
                                label="Trials per session")
                t_catch = gr.Slider(0, 50, value=10, step=1, label="Attention checks (% of the session)")
                t_exp = gr.Number(value=0, precision=0, minimum=0, maximum=60000,
                                  label="Exposure limit in ms (0 = none)")
            t_realism = gr.Checkbox(value=True, label="Single image: ask for the optional 1-5 realism score")
            t_own = gr.File(label="Or your own photos instead of the study pool (optional; each up to "
                                  f"{limits.MAX_UPLOAD_TEXT})",
                            file_count="multiple", file_types=["image"])
            with gr.Row():
                publish = gr.Button("Publish study", elem_id="turing-publish")
                close = gr.Button("Close the chosen study")
            publish_note = gr.Markdown(elem_id="turing-publish-note")
        t_study = gr.Textbox(label="Study (from the link; empty = the latest open study)", elem_id="turing-study")
        start = gr.Button("Start a session", variant="primary", elem_id="turing-start")
        t_text = gr.Markdown(elem_id="turing-text")
        t_exposure = gr.Number(value=0, visible=False)
        with gr.Column(visible=False) as single_box:
            t_image = gr.Image(label="Real or colorized?", format="png", interactive=False, height=320,
                               elem_id="turing-image", buttons=[])
            t_score = gr.Radio(["1", "2", "3", "4", "5"], value=None, label="Realism (optional, 5 = real)",
                               elem_id="turing-score")
            with gr.Row():
                real_btn = gr.Button("Real", elem_id="turing-real")
                fake_btn = gr.Button("Colorized", elem_id="turing-colorized")
        with gr.Column(visible=False) as pair_box:
            with gr.Row():
                t_left = gr.Image(label="Left", format="png", interactive=False, height=320,
                                  elem_id="turing-left", buttons=[])
                t_right = gr.Image(label="Right", format="png", interactive=False, height=320,
                                   elem_id="turing-right", buttons=[])
            with gr.Row():
                left_btn = gr.Button("Left is real", elem_id="turing-left-btn")
                right_btn = gr.Button("Right is real", elem_id="turing-right-btn")
        with gr.Accordion("Results", open=False, elem_id="turing-results-box"):
            choices = study_choices()
            with gr.Row():
                r_study = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Study",
                                      elem_id="turing-results-study")
                r_failed = gr.Checkbox(value=False, label="Include sessions that failed the attention checks")
            with gr.Row():
                refresh_studies = gr.Button("Refresh list")
                results_btn = gr.Button("Show results", elem_id="turing-results")
            results_note = gr.Markdown(elem_id="turing-results-note")
            plot = gr.Plot(label="Fooling rate per model and category", elem_id="turing-plot")
            results_table = gr.Dataframe(headers=RATE_HEADERS, label="Fooling rate per model and category")
            pairs_table = gr.Dataframe(headers=PAIR_HEADERS, label="Pairwise (Fisher's exact test, Holm-corrected)")
            raters_table = gr.Dataframe(headers=RATER_HEADERS, label="Per rater (session)")
            export_btn = gr.Button("Export CSV")
            csv_file = gr.File(label="Answers (CSV)")

    turing_out = [session, t_image, t_left, t_right, t_text, single_box, pair_box, t_score, t_exposure]
    turing_run = {"concurrency_id": "turing", "concurrency_limit": 4}
    publish.click(publish_study, [t_token, t_protocol, t_models, t_cats, t_n, t_catch, t_exp, t_realism, t_own],
                  [publish_note, r_study], api_name="turing_publish")
    close.click(close_study, [t_token, r_study], [publish_note, r_study], api_name="turing_close")
    demo.load(open_page, None, [t_study, r_study], api_name="turing_link")
    for event in (start.click(start_session, t_study, turing_out, api_name="turing_start", **turing_run),
                  real_btn.click(answer_real, [session, t_score], turing_out, api_name="turing_answer_real",
                                 **turing_run),
                  fake_btn.click(answer_colorized, [session, t_score], turing_out,
                                 api_name="turing_answer_colorized", **turing_run),
                  left_btn.click(answer_left, session, turing_out, api_name="turing_answer_left", **turing_run),
                  right_btn.click(answer_right, session, turing_out, api_name="turing_answer_right",
                                  **turing_run)):
        event.then(None, t_exposure, None, js=EXPOSURE_JS, api_visibility="private")
    refresh_studies.click(lambda: _studies_update(), None, r_study, api_name="turing_studies")
    results_btn.click(results, [r_study, r_failed], [plot, results_table, pairs_table, raters_table, results_note],
                      api_name="turing_results")
    export_btn.click(export_csv, r_study, csv_file, api_name="turing_export")
