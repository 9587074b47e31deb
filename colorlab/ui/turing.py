"""The Turing-study pages of the app: the rater view and the organiser's tab.

* **Rater view** (``?study=ID``, optionally ``&invite=CODE``): the page shows only the
  study, its Start button, a large progress line and the trial; the header, the other
  tabs, the organiser panel, the results and the storage notice are hidden (at once by a
  class the page's head script sets from the address, and by the page-load event). Side
  by side, the two pictures stay next to each other and letterboxed at any width (at
  390x844 both are fully in view with the answer buttons), and the buttons name the side.
  The rater receives the trial number, a trial token and picture URLs
  ``gradio_api/study-picture/<random>.png`` served from the lab's shelf (``routes``), never
  through Gradio's content-addressed file cache; at the end only their own result.
* **Organiser tab**: publish (defaults: each category's three matrix models judged on
  their own category), the studies with *Close* next to the one chosen, the full rater link
  to copy, invite codes, and the results, per-rater table, chart and CSV export, all of
  which need the organiser token (a password field; the app runs with Gradio's run
  history off, so the browser never stores it).

Every handler goes through ``common.user_errors`` (``colorlab.serving.errors`` decides what a client
is told). No colour maths and no study logic here: that is ``colorlab.studies``.
"""
from __future__ import annotations

import functools
import html
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__, studies
from ..serving import hosting, limits
from ..serving.admission import client_key
from ..serving.scratch import private_dir
from ..studies import stats as study_stats
from ..studies.pictures import ROUTE
from ..studies.plan import DEFAULT_TRIALS, PROTOCOL_LABELS
from .common import user_errors

PROTOCOL_CHOICES = [(label, key) for key, label in PROTOCOL_LABELS.items()]
RATE_HEADERS = ["model", "category", "n", "fooled / judged real", "rate", "95% low", "95% high", "p vs 50%"]
PAIR_HEADERS = ["model A", "model B", "rate A", "rate B", "Fisher p", "Holm p"]
RATER_HEADERS = ["session", "answers", "catch right", "catch trials", "attention", "fast", "late answers",
                 "fooled", "colorized", "median ms", "included"]
RULE_CHOICES = [("failed attention checks", study_stats.ATTENTION), ("implausibly fast sessions", study_stats.FAST),
                ("late answers (after the exposure limit + grace)", study_stats.LATE)]
RUN = {"concurrency_id": "turing", "concurrency_limit": 4, "show_progress": "hidden"}
NAME_RE = re.compile(r"[0-9a-f]{32}\.png")

# Set before the page renders: a rater link hides everything but the rater view at once.
HEAD = """<script>
(() => { const q = new URLSearchParams(location.search);
  if (q.has('study')) document.documentElement.classList.add('cl-rater-page'); })();
</script>"""
CSS = """
html.cl-rater-page #cl-header, html.cl-rater-page .tabs, html.cl-rater-page #cl-organiser { display: none !important; }
html:not(.cl-rater-page) #cl-rater { display: none !important; }
#cl-progress, #cl-progress * { font-size: 1.6rem !important; font-weight: 700; text-align: center; margin: 0.2rem 0; }
#cl-trial .cl-pair { display: flex; gap: 8px; width: 100%; }
#cl-trial figure { flex: 1 1 0; min-width: 0; margin: 0; text-align: center; }
#cl-trial figcaption { font-weight: 700; }
#cl-trial img { display: block; width: 100%; aspect-ratio: 1 / 1; max-height: 55vh; object-fit: contain;
                background: #808080; margin: 0 auto; }
#cl-trial .cl-single img { max-height: 60vh; }
#cl-buttons-pair, #cl-buttons-single { flex-wrap: nowrap !important; }
#cl-buttons-pair button, #cl-buttons-single button { min-width: 0 !important; font-size: 1.1rem; }
"""
# The exposure limit, run after each step: a new trial (new token) shows its pictures and,
# with a limit, hides them that many ms after they have loaded; a refused click (same
# token) changes nothing, so it cannot bring hidden pictures back.
EXPOSURE_JS = """(token, ms) => {
  if (!token || window.clToken === token) return [];
  window.clToken = token;
  const me = (window.clTrial = (window.clTrial || 0) + 1);
  const box = document.querySelector('#cl-trial');
  if (!box) return [];
  box.style.visibility = 'visible';
  const wait = () => {
    if (window.clTrial !== me) return;
    const imgs = [...box.querySelectorAll('img')];
    if (imgs.length && imgs.every(i => i.complete && i.naturalWidth > 0)) {
      if (ms > 0) setTimeout(() => { if (window.clTrial === me) box.style.visibility = 'hidden'; }, ms);
    } else setTimeout(wait, 15);
  };
  wait();
  return [];
}"""
# Before an answer leaves the browser: unless the trial's pictures have loaded and the last
# answer sent from this page is at least GAP_MS old, the token is replaced by EARLY, which
# the server refuses. This is what stops the second click of a double click from answering
# the trial that has just appeared (no one judges a new pair within half a second of the
# previous answer).
GAP_MS = 500
EARLY = "early"
GUARD_JS = f"""(...args) => {{
  const now = performance.now();
  const imgs = [...document.querySelectorAll('#cl-trial img')];
  const ok = imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)
             && !(now - (window.clLastAnswer || -1e9) < {GAP_MS});
  if (ok) window.clLastAnswer = now; else args[1] = '{EARLY}';
  return args;
}}"""
LINK_JS = "(id) => id ? location.origin + location.pathname + '?study=' + id : ''"


@functools.cache
def storage() -> hosting.Storage:
    """Where the ratings live: $COLORLAB_DATA, else a Space's /data if writable, else ./data."""
    return hosting.choose_storage()


@functools.cache
def lab() -> studies.Lab:
    """The studies, sessions and answers (SQLite, WAL) and the served pictures, opened on first
    use; a new study's pictures are prepared in the background."""
    store = studies.StudyStore(private_dir(storage().directory))
    private_dir(storage().directory)   # the database files just made: 0600 in a 0700 folder
    return studies.Lab(store, warm_on_publish=True)


def routes() -> list[Route]:
    """The route that serves the shelf's pictures (for ``launch(app_kwargs={"routes": ...})``)."""
    async def picture(request: Request) -> Response:
        name = request.path_params["name"]
        data = lab().shelf.get(name) if NAME_RE.fullmatch(name) else None
        if data is None:
            return Response("gone", status_code=404, headers={"Cache-Control": "no-store"})
        return Response(data, media_type="image/png",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
    return [Route(f"/{ROUTE}/{{name}}", picture, methods=["GET"])]


@dataclass
class Rater:
    """The rater view's components."""
    column: gr.Column
    study: gr.Textbox
    intro: gr.Markdown
    invite: gr.Textbox
    start: gr.Button
    progress: gr.HTML
    trial: gr.HTML
    token: gr.Textbox
    exposure: gr.Number
    single: gr.Column
    score: gr.Radio
    real: gr.Button
    colorized: gr.Button
    pair: gr.Row
    left: gr.Button
    right: gr.Button
    end: gr.Markdown
    session: gr.State

    def outputs(self) -> list:
        return [self.session, self.progress, self.trial, self.token, self.exposure, self.single, self.pair,
                self.score, self.start, self.end]


class TuringPages:
    """Builds and wires the rater view (``rater``, placed above the tabs) and the organiser tab
    (``organiser``, inside the Turing tab) for the lab ``get_lab()`` (opened on first use)."""

    def __init__(self, get_lab, app_version: str = ""):
        self._get_lab, self.version = get_lab, app_version
        self.r: Rater | None = None

    @property
    def lab(self) -> studies.Lab:
        return self._get_lab()

    # ------------------------------------------------------------------ the rater view
    def rater(self) -> Rater:
        with gr.Column(elem_id="cl-rater") as column:
            study = gr.Textbox(visible=False, elem_id="cl-study")   # from the link; the API names it directly
            intro = gr.Markdown("### Perception study", elem_id="cl-intro")
            invite = gr.Textbox(label="Invite code", visible=False, max_lines=1, elem_id="cl-invite")
            start = gr.Button("Start", variant="primary", elem_id="cl-start", visible=False)   # shown by the load
            progress = gr.HTML("", elem_id="cl-progress")
            trial = gr.HTML("", elem_id="cl-trial")
            token = gr.Textbox(visible=False, elem_id="cl-token")
            exposure = gr.Number(value=0, visible=False)
            with gr.Column(visible=False) as single:
                score = gr.Radio(["1", "2", "3", "4", "5"], value=None, label="Realism (optional, 5 = real)",
                                 elem_id="cl-score")
                with gr.Row(elem_id="cl-buttons-single"):
                    real = gr.Button("Real", elem_id="cl-real", min_width=0)
                    colorized = gr.Button("Colorized", elem_id="cl-colorized", min_width=0)
            with gr.Row(visible=False, elem_id="cl-buttons-pair") as pair:
                left = gr.Button("Left is real", elem_id="cl-left", min_width=0)
                right = gr.Button("Right is real", elem_id="cl-right", min_width=0)
            end = gr.Markdown("", elem_id="cl-end")
            session = gr.State(None)
        self.r = Rater(column, study, intro, invite, start, progress, trial, token, exposure, single, score, real,
                       colorized, pair, left, right, end, session)
        return self.r

    def _trial_outputs(self, session: studies.Session | None):
        """Outputs after a step: the next trial, or the rater's own end screen."""
        hide = gr.update(visible=False)
        if session.done:
            s = self.lab.summary(session)
            end = (f"### Finished: thank you!\nYou were right in {s['correct']} of "
                   f"{studies.plural(s['answered'], 'trial')}; you took {s['fooled']} of "
                   f"{studies.plural(s['colorized_shown'], 'colorization')} for the real photo.")
            again = gr.update(visible=session.study.settings.access != studies.INVITE, value="Start another session")
            return session, "", "", "", 0, hide, hide, gr.update(value=None, visible=False), again, end
        shown = self.lab.show(session)
        progress = f"Trial {shown.number} of {shown.total}"
        urls = [f"{ROUTE}/{name}" for name in shown.pictures]
        if shown.two_afc:
            trial = ('<div class="cl-pair">'
                     f'<figure><figcaption>Left</figcaption><img src="{urls[0]}" alt="left picture"></figure>'
                     f'<figure><figcaption>Right</figcaption><img src="{urls[1]}" alt="right picture"></figure>'
                     '</div><p>One is a real colour photo, the other a colorization. Which one is real?</p>')
        else:
            trial = (f'<div class="cl-single"><img src="{urls[0]}" alt="the picture"></div>'
                     '<p>Is this a real colour photo, or colorized?</p>')
        score = gr.update(value=None, visible=shown.realism_score)
        return (session, progress, trial, shown.token, shown.exposure_ms, gr.update(visible=not shown.two_afc),
                gr.update(visible=shown.two_afc), score, gr.update(visible=False), "")   # "" clears a refusal

    def open_page(self, request: gr.Request):
        """On page load: the study of a ``?study=ID`` link (validated, never echoed), the intro,
        the invite field, and the organiser's study list."""
        params = getattr(request, "query_params", None) or {}
        raw, invite = params.get("study"), str(params.get("invite", "") or "")
        studies_update = _studies_update(self.lab)
        if raw is None:
            return "", gr.update(), gr.update(visible=False), gr.update(visible=True), studies_update
        try:
            st = self.lab.study(raw)
        except ValueError as exc:
            return "", f"### Perception study\n{html.escape(str(exc))}", gr.update(visible=False), \
                gr.update(visible=False), studies_update
        if st is None or st.closed:
            text = "This study is closed: thank you for your interest." if st else "There is no such study."
            return "", f"### Perception study\n{text}", gr.update(visible=False), gr.update(visible=False), \
                studies_update
        main, catch = st.lengths()
        what = ("two pictures side by side: one is a real colour photo, the other a colorization of it. Say which "
                "one is real." if st.settings.protocol == studies.TWO_AFC else
                "one picture at a time: say whether it is a real colour photo or colorized.")
        text = (f"### Perception study\nYou will see {what} {studies.plural(main + catch, 'trial')}, about "
                f"{max(1, round((main + catch) * 4 / 60))} min. There is no time limit"
                + (f", but each picture shows for {st.settings.exposure_ms / 1000:g} s" if st.settings.exposure_ms
                   else "") + ". Go with your first impression.")
        needs_code = st.settings.access == studies.INVITE
        return (str(st.study_id), text, gr.update(visible=needs_code, value=studies.store.normalise_code(invite) or ""),
                gr.update(visible=True), studies_update)

    def start(self, study_id, invite, request: gr.Request):
        host = client_key(request) if request is not None else None   # as the fair-share queue sees it
        if study_id in (None, ""):
            raise gr.Error("Open the study from its link (…?study=ID) to take part.", print_exception=False)
        return self._trial_outputs(self.lab.start(str(study_id), client=host, invite=invite or None))

    def _answer(self, choice, session, token, score=None):
        if session is None:
            raise gr.Error("Press Start first.", print_exception=False)
        try:
            if token == EARLY:
                raise studies.Refused("That answer came before the pictures were on screen: nothing was recorded.",
                                      "early")
            self.lab.answer(session, token, choice, int(score) if score else None, self.version)
        except studies.Refused as exc:
            # a double click, a repeat, a stale page: the record is unchanged, the rater gets a warning
            # (an error would mark the trial's pictures "Error") and the page keeps the trial it shows
            msg = html.escape(str(exc))
            gr.Warning(msg)
            return (*(gr.skip() for _ in self.r.outputs()[:-1]), f"*{msg}*")   # API clients read it here
        return self._trial_outputs(session)

    # ------------------------------------------------------------------ the organiser tab
    def organiser(self, model_names: list[str]) -> None:
        models, cats, _ = studies.matrix_design(model_names)
        with gr.Column(elem_id="cl-organiser"):
            if storage().notice():
                gr.Markdown(storage().notice())
            gr.Markdown(f"Organiser: publishing, closing, invite codes and results need the organiser token "
                        f"(`{studies.TOKEN_ENV}`). A published study never changes: for other settings publish a "
                        "new one. Raters open the study's link (below), which shows them the study and nothing else. "
                        "docs/studies.md explains what the study resists and what it does not.")
            token = gr.Textbox(label="Organiser token", type="password", max_lines=1,
                               elem_id="turing-token")
            with gr.Accordion("Publish a study", open=True):
                protocol = gr.Radio(PROTOCOL_CHOICES, value=studies.TWO_AFC, label="Protocol")
                model_box = gr.CheckboxGroup(model_names, value=models or model_names[:3], label="Models")
                own_cat = gr.Checkbox(value=bool(models), label="Judge each model on its own category only "
                                      "(e.g. lab-faces on faces)")
                cat_box = gr.CheckboxGroup(list(studies.CATEGORIES), value=cats or list(studies.CATEGORIES),
                                           label="Categories (study pool)")
                with gr.Row():
                    n = gr.Number(value=DEFAULT_TRIALS, precision=0, minimum=1, label="Trials per session")
                    catch = gr.Slider(0, 50, value=10, step=1, label="Attention checks (% of the session)")
                    exp = gr.Number(value=0, precision=0, minimum=0, maximum=60000,
                                    label="Exposure limit in ms (0 = none)")
                realism = gr.Checkbox(value=True, label="Single image: ask for the optional 1-5 realism score")
                with gr.Row():
                    access = gr.Radio([("Open link", studies.OPEN), ("Invite codes (one session each)",
                                                                     studies.INVITE)], value=studies.OPEN,
                                      label="Who may take part")
                    n_invites = gr.Number(value=30, precision=0, minimum=1, maximum=1000, label="Invite codes")
                    cap = gr.Number(value=0, precision=0, minimum=0, label="Sessions per network address and hour "
                                    "(0 = no cap; behind a proxy all raters may share one address)")
                own = gr.File(label="Or your own photos instead of the study pool (optional; each up to "
                              f"{limits.MAX_UPLOAD_TEXT})", file_count="multiple", file_types=["image"])
                publish = gr.Button("Publish study", elem_id="turing-publish")
                note = gr.Markdown(elem_id="turing-publish-note")
                codes = gr.Textbox(label="Invite codes", lines=4, visible=False, elem_id="turing-codes")
            with gr.Row():
                study = gr.Dropdown(_study_choices(self.lab), label="Study", elem_id="turing-results-study", scale=3,
                                    allow_custom_value=True)   # the handlers validate the id
                close = gr.Button("Close this study", elem_id="turing-close", scale=1)
                refresh = gr.Button("Refresh list", scale=1)
            link = gr.Textbox(label="Rater link (copy it for your raters)", buttons=["copy"], elem_id="turing-link")
            show_codes = gr.Button("Show this study's invite codes")
            with gr.Accordion("Results", open=False, elem_id="turing-results-box"):
                include = gr.CheckboxGroup(RULE_CHOICES, value=[], label="Include sessions/answers left out for")
                results_btn = gr.Button("Show results", elem_id="turing-results")
                results_note = gr.Markdown(elem_id="turing-results-note")
                plot = gr.Plot(label="Fooling rate per model and category", elem_id="turing-plot")
                rates = gr.Dataframe(headers=RATE_HEADERS, label="Fooling rate per model and category")
                pairs = gr.Dataframe(headers=PAIR_HEADERS, label="Pairwise (Fisher's exact test, Holm-corrected)")
                raters = gr.Dataframe(headers=RATER_HEADERS, label="Per rater (session)")
                export = gr.Button("Export CSV")
                csv_file = gr.File(label="Answers (CSV)")

        pub = publish.click(user_errors(self.publish), [token, protocol, model_box, own_cat, cat_box, n, catch, exp,
                                                       realism, access, n_invites, cap, own],
                            [note, study, codes], api_name="turing_publish")
        pub.then(None, study, link, js=LINK_JS, api_visibility="private")
        study.change(None, study, link, js=LINK_JS, api_visibility="private")
        close.click(user_errors(self.close), [token, study], [note, study], api_name="turing_close")
        refresh.click(lambda: _studies_update(self.lab), None, study, api_name="turing_studies")
        show_codes.click(user_errors(self.invites), [token, study], codes, api_name="turing_invites")
        results_btn.click(user_errors(self.results), [token, study, include],
                          [plot, rates, pairs, raters, results_note], api_name="turing_results")
        export.click(user_errors(self.export), [token, study], csv_file, api_name="turing_export")
        self._wire_rater(study)

    def _wire_rater(self, organiser_study) -> None:
        r = self.r
        out = r.outputs()
        steps = [r.start.click(user_errors(self.start), [r.study, r.invite], out, api_name="turing_start", **RUN),
                 r.real.click(user_errors(lambda s, t, sc: self._answer(studies.REAL, s, t, sc)),
                              [r.session, r.token, r.score], out, api_name="turing_answer_real", js=GUARD_JS, **RUN),
                 r.colorized.click(user_errors(lambda s, t, sc: self._answer(studies.COLORIZED, s, t, sc)),
                                   [r.session, r.token, r.score], out, api_name="turing_answer_colorized",
                                   js=GUARD_JS, **RUN),
                 r.left.click(user_errors(lambda s, t: self._answer(studies.LEFT, s, t)), [r.session, r.token], out,
                              api_name="turing_answer_left", js=GUARD_JS, **RUN),
                 r.right.click(user_errors(lambda s, t: self._answer(studies.RIGHT, s, t)), [r.session, r.token], out,
                               api_name="turing_answer_right", js=GUARD_JS, **RUN)]
        for step in steps:
            step.then(None, [r.token, r.exposure], None, js=EXPOSURE_JS, api_visibility="private")
        self._organiser_study = organiser_study

    def load(self, demo: gr.Blocks) -> None:
        """Wire the page-load event (call once, inside the Blocks, after ``rater`` and ``organiser``)."""
        r = self.r
        demo.load(user_errors(self.open_page), None, [r.study, r.intro, r.invite, r.start, self._organiser_study],
                  api_name="turing_link")

    # ------------------------------------------------------------------ organiser handlers
    def publish(self, token, protocol, models, own_category, categories, trials, catch_pct, exposure_ms, realism,
                access, n_invites, cap, own_photos, request: gr.Request = None):
        studies.check_token(token)   # before anything is read, copied or stored
        pool = "shipped"
        if own_photos:
            folder, _ = self.lab.import_photos(token, [getattr(f, "name", f) for f in own_photos])
            pool = str(folder)
        models, categories = tuple(models or ()), tuple(categories or ())
        pairs = ()
        if own_category and pool == "shipped":
            meta = self.lab.models()
            pairs = tuple((m, meta[m].category) for m in models if m in meta)
            off = [m for m, c in pairs if c not in categories]
            if off:
                raise ValueError(f"judged on their own category, these models need their category chosen too: {off}")
        settings = studies.Settings(protocol, models, categories, int(trials or 0), float(catch_pct or 0) / 100,
                                    exposure_ms=int(exposure_ms or 0), realism_score=bool(realism), pool=pool,
                                    access=access or studies.OPEN,
                                    invites=int(n_invites or 0) if access == studies.INVITE else 0,
                                    sessions_per_hour=int(cap or 0), pairs=pairs)
        origin = str((getattr(request, "headers", None) or {}).get("origin", "") or "")
        study, note = self.lab.publish(token, settings, origin if re.fullmatch(r"https?://[\w.:-]+", origin) else "")
        codes = self.lab.invites(token, study.study_id) if settings.access == studies.INVITE else []
        return (note, _studies_update(self.lab, str(study.study_id)),
                gr.update(value="\n".join(c["code"] for c in codes), visible=bool(codes)))

    def close(self, token, study_id):
        if not study_id:
            raise ValueError("Choose the study to close.")
        st = self.lab.close(token, study_id)
        return (f"Study {st.study_id} is closed: it takes no new sessions or answers.",
                _studies_update(self.lab, str(st.study_id)))

    def invites(self, token, study_id):
        if not study_id:
            raise ValueError("Choose a study.")
        rows = self.lab.invites(token, study_id)
        if not rows:
            return gr.update(value="This study has an open link: no invite codes.", visible=True)
        return gr.update(value="\n".join(f"{r['code']}  {'used' if r['used'] else 'unused'}" for r in rows),
                         visible=True)

    def results(self, token, study_id, include):
        if not study_id:
            raise ValueError("Choose a study (publish one first).")
        st, res = self.lab.results(token, study_id, tuple(include or ()))
        rates = [[r["model"], r["category"], r["n"], r["k"], round(r["rate"], 3), round(r["ci_low"], 3),
                  round(r["ci_high"], 3), _p(r["p_vs_half"])] for r in res["rates"]]
        pairs = [[p["a"], p["b"], round(p["rate_a"], 3), round(p["rate_b"], 3), _p(p["p"]), _p(p["p_holm"])]
                 for p in res["pairs"]]
        raters = [[r["session_id"], r["answers"], r["catch_right"], r["catch_trials"], r["attention"], r["fast"],
                   r["late"], r["fooled"], r["colorized"], round(r["median_response_ms"]), r["included"]]
                  for r in res["raters"]]
        lo = res["left_out"]
        rules = [f"failed attention checks: {studies.plural(lo['attention']['sessions'], 'session')}",
                 f"implausibly fast (median under {st.settings.fast_median_ms} ms): "
                 f"{studies.plural(lo['fast']['sessions'], 'session')}",
                 f"late: {studies.plural(lo['late']['answers'], 'answer')} in "
                 f"{studies.plural(lo['late']['sessions'], 'session')}"]
        rules = [f"{r} ({'included on request' if lo[k]['included'] else 'left out'})"
                 for r, k in zip(rules, ("attention", "fast", "late"))]
        note = (f"{studies.plural(res['answers'], 'answer')} in study {st.study_id} ({st.settings.protocol}, "
                f"{'closed' if st.closed else 'open'}) from {studies.plural(res['sessions'], 'session')}; "
                f"{studies.plural(res['used'], 'main trial')} used.  \nRules: " + "; ".join(rules) + ".")
        title = f"Study {st.study_id}: fooling rate, 95% Wilson intervals"
        return study_stats.plot(res, title), rates, pairs, raters, note

    def export(self, token, study_id):
        text = self.lab.export_csv(token, study_id or None)
        folder = Path(tempfile.mkdtemp(prefix="colorlab-export-"))
        path = folder / (f"colorlab-study-{int(study_id)}.csv" if study_id else "colorlab-studies.csv")
        path.write_text(text)
        return str(path)


PAGES = TuringPages(lab, __version__)


def rater() -> Rater:
    """The rater view (call inside the Blocks, above the tabs): what a ``?study=ID`` link shows."""
    return PAGES.rater()


def tab(demo: gr.Blocks, names: list[str]) -> None:
    """The Turing test tab (organisers) and the page-load event; ``rater()`` must come first."""
    with gr.Tab("Turing test", id="turing"):
        PAGES.organiser(names)
    PAGES.load(demo)


def _p(x):
    return None if x is None else float(f"{x:.3g}")


def _study_choices(lab: studies.Lab) -> list[tuple[str, str]]:
    """The studies as ``id · protocol · open/closed`` (no counts: the list is public)."""
    return [(f"{s['id']} · {s['protocol']} · {'closed' if s['closed_at'] else 'open'}", str(s["id"]))
            for s in lab.store.studies()]


def _studies_update(lab: studies.Lab, value=None):
    choices = _study_choices(lab)
    return gr.update(choices=choices, value=value if value is not None else (choices[0][1] if choices else None))


__all__ = ["CSS", "HEAD", "PAGES", "TuringPages", "lab", "rater", "routes", "storage", "tab"]
