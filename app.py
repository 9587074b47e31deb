"""colorlab demo: colorize greyscale photos with U-Net models in LAB, HSV and RGB.

``python app.py`` serves ``demo`` (also the Hugging Face Spaces entry point). This
file only wires widgets to the library: the colour work is in ``colorlab`` (pipeline,
metrics, diagnostics), the Turing studies in ``colorlab.studies``,
the model descriptions in ``colorlab.serving``.

Environment: ``COLORLAB_WEIGHTS`` (checkpoint folder, default ./weights),
``COLORLAB_DATA`` (ratings database, default ./data), ``COLORLAB_CONCURRENCY``
(inference jobs at once, default 1; torch gets the CPU cores divided among them),
``COLORLAB_QUEUE_SIZE`` (waiting jobs, default 64) and Gradio's own ``GRADIO_SERVER_NAME`` /
``GRADIO_SERVER_PORT``.

Every image an event returns is written by the app as a lossless PNG into that request's
own scratch folder and returned as a file path. Gradio copies a returned file into its
cache once, under a temporary name renamed into place, and never rewrites an existing
copy; arrays and PIL images returned directly would instead be re-encoded and rewritten
in place (``<content hash>/image.png``) for every identical result, which cuts short the
download of another user who got the same picture a moment earlier.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
from pathlib import Path

import gradio as gr
import numpy as np
import torch

import colorlab
from colorlab import studies
from colorlab.checkpoints import CATEGORIES, get_model, list_checkpoints
from colorlab.hints import MIN_REACH, POINT_REACH, from_json, tint_of
from colorlab.pipeline import accepts_hints, colour_at
from colorlab.diagnostics import artifact_heatmap, channel_views, hue_artifact_map
from colorlab.imaging import MAX_PIXELS, image_pixels, load_reduced
from colorlab.serving.admission import COMPARE_ID, FairShare, launch_options
from colorlab.serving.errors import public_message
from colorlab.serving import limits
from colorlab.serving.limits import TINT_PIXELS
from colorlab.serving.scratch import Scratch, instance_root, private_dir
from colorlab.studies import stats as study_stats
from colorlab.serving import hint_editor, hosting, runs, tables, uploads
from colorlab.serving.curves import plot_curves
from colorlab.serving.memory import start_trimmer, tune_malloc
from colorlab.serving.scheduling import CpuGate

APP_VERSION = colorlab.__version__
INSTANCE = instance_root()   # this instance's private folder; GRADIO_TEMP_DIR (Gradio's cache) points into it
MALLOC_TUNED = tune_malloc()   # flat resident memory over many image requests (colorlab/serving/memory.py)
start_trimmer()
INFERENCE_LIMIT = limits.CONCURRENCY
QUEUE_SIZE = limits.QUEUE_SIZE
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
torch.set_num_threads(max(1, CORES // max(1, INFERENCE_LIMIT)))   # concurrent jobs share the cores
# Each response's files and Gradio's cache, in this instance's folder, pruned by age and total size
SCRATCH = Scratch(INSTANCE, others=(Path(os.environ["GRADIO_TEMP_DIR"]),))
GATE = CpuGate(INFERENCE_LIMIT)   # quick jobs go ahead of Compare's next model (colorlab.serving.scheduling)
SPACE_CHOICES = [("LAB", "lab"), ("HSV", "hsv"), ("RGB", "rgb")]
log = logging.getLogger("colorlab.app")
STORAGE = hosting.choose_storage()   # $COLORLAB_DATA, else a Space's /data if writable, else ./data
store = studies.StudyStore(private_dir(STORAGE.directory))   # studies, sessions and answers (SQLite, WAL)
private_dir(STORAGE.directory)   # the database files just made: 0600 in a 0700 folder
lab = studies.Lab(store, warm_on_publish=True)   # a new study's pictures are prepared in the background


# ---------------------------------------------------------------- plumbing

def user_errors(fn):
    """Every failure reaches the user as a short gr.Error: a user's mistake with its message,
    anything else as an error id logged in full; never a server path or an exception class
    (``colorlab.serving.errors``). Every handler is wrapped in it."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:   # noqa: BLE001 - the message is chosen (and logged) by public_message
            raise gr.Error(public_message(exc, fn.__name__), print_exception=False) from None
    return wrapper


def is_big(image, render_size=0, hints_json="") -> bool:
    """Whether a job counts as big for the CPU gate (it then gives way to small jobs as it goes):
    a photo over BIG_PIXELS (read from the header only), over BIG_POINTS points or a render
    size over BIG_RENDER. Anything unreadable is small: it fails fast."""
    try:
        if int(render_size or 0) > limits.BIG_RENDER or len(from_json(hints_json).points) > limits.BIG_POINTS:
            return True
    except (TypeError, ValueError):
        return False
    return image_pixels(image) > limits.BIG_PIXELS


def gated(fn):
    """Run the whole handler inside the CPU gate: decoding the upload, the model and the PNGs, so
    that a job waiting for the CPU holds no decoded photo and the server holds at most one big
    and one small job (``colorlab.serving.scheduling``, docs/space.md)."""
    params = list(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        given = dict(zip(params, args), **kwargs)
        big = is_big(given.get("image") or given.get("photo"), given.get("render_size", 0),
                     given.get("hints_json", ""))
        with GATE.quick(big=big):
            return fn(*args, **kwargs)
    return wrapper


def scratch_dir() -> Path:
    """A fresh private folder for one response's files (``colorlab.serving.scratch``)."""
    return SCRATCH.new_dir()


def png(image, directory: Path, name: str, grey_as_l: bool = False) -> str:
    """``image`` (PIL or uint8 array) as a lossless PNG file in this request's ``directory``;
    its path is what the event returns (see the module docstring for why not the image).
    ``grey_as_l``: a grey view is stored as one channel (``uploads.save_png``)."""
    return str(uploads.save_png(image, directory, name, grey_as_l))


def read(image) -> uploads.Upload:
    """The upload (an ImageError names the file by its name only: ``user_errors``). Called
    inside the CPU gate, so that jobs waiting for the CPU hold no decoded photo."""
    if not image:
        raise gr.Error("Upload a photo or pick an example first.", print_exception=False)
    return uploads.read_upload(image)


def model_for(space: str, category: str) -> str:
    meta, note = runs.choose_checkpoint(space, category)
    if note:
        gr.Info(note)
    return meta.name


def model_names() -> list[str]:
    return [m.name for m in list_checkpoints()]


# ---------------------------------------------------------------- colorize, compare, channels

@user_errors
@gated
def preview(image, hints_json=""):
    """The photo as shown for clicking on, with the point hints drawn on it."""
    if not image:
        return None
    shown = hint_editor.draw_markers(uploads.display_image(read(image).image), hints_json)
    return png(shown, scratch_dir(), f"{Path(str(image)).stem or 'photo'}.png")


def parse_hints(hints_json):
    return from_json(hints_json)          # ValueError -> a readable gr.Error (user_errors)


def _hint_note(hints) -> str:
    if not hints:
        return ""
    parts = [f"{len(hints.points)} point hint{'s' * (len(hints.points) != 1)}"] * bool(hints.points)
    return " · " + " and ".join(parts + ["a tint"] * (hints.tint is not None))


@user_errors
@gated
def add_hint(image, evt: gr.SelectData, space="lab", category="general", render_size=0, saturation=1.0,
             hints_json=""):
    """A click on the photo: a point hint there, coloured as the model now colours that point."""
    upload = read(image)
    x_px, y_px = evt.index[:2]
    w, h = uploads.display_image(upload.image).size     # the clicked picture is the display-size photo
    x, y = min(max(x_px / max(1, w - 1), 0.0), 1.0), min(max(y_px / max(1, h - 1), 0.0), 1.0)
    model = get_model(model_for(space, category))
    hints = parse_hints(hints_json)
    if hints and not accepts_hints(model):
        hints = None
    colour = colour_at(upload.image, model, x, y, int(render_size) or None, float(saturation), hints)
    new = hint_editor.add_point(hints_json, x, y, colour)
    return new, colour, len(hint_editor.rows(new))


@user_errors
def recolour_hint(colour, index, hints_json=""):
    n = len(hint_editor.rows(hints_json))
    if not n:
        return hints_json
    i = int(index or n) - 1
    return hint_editor.recolour(hints_json, i if 0 <= i < n else -1, colour)


@user_errors
def remove_hint(index, hints_json=""):
    return hint_editor.remove_point(hints_json, int(index or 0) - 1)


@user_errors
def clear_hints(hints_json=""):
    return hint_editor.clear_points(hints_json)


@user_errors
def set_reach(reach, hints_json=""):
    return hint_editor.set_reach(hints_json, reach)


@user_errors
def toggle_tint(on, colour, hints_json=""):
    return (hint_editor.set_tint(hints_json, colour if on else None), gr.update(visible=bool(on)),
            gr.update(visible=bool(on)))


@user_errors
@gated
def tint_from_photo(photo, on, hints_json=""):
    """The tint taken from a colour reference photo (its mean a, b, measured at TINT_PIXELS)."""
    if photo is None:
        return gr.update(), hints_json
    colour = tint_of(np.asarray(load_reduced(photo, TINT_PIXELS)))
    return colour, hint_editor.set_tint(hints_json, colour) if on else hints_json


def hints_view(image, hints_json=""):
    """Markers on the photo and the table of hints, after any change to the hints."""
    try:
        return preview(image, hints_json) if image else None, hint_editor.rows(hints_json)
    except gr.Error:
        return gr.update(), []


@user_errors
@gated
def colorize(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json=""):
    upload = read(image)
    hints = parse_hints(hints_json)
    name = model_for(space, category)
    res = runs.run_model(upload, name, int(render_size) or None, float(saturation), hints)
    stem, out = Path(str(image)).stem or "photo", scratch_dir()
    # the slider shows display size; up to that size its "after" is also the download
    path = png(uploads.display_image(res.image), out, f"{stem}-{name}.png")
    grey = png(uploads.display_image(upload.grey_channel), out, f"{stem}-grey.png")   # one channel: 1/3 the work
    w, h = upload.size
    status = f"**{name}** · {w}x{h} · {res.seconds:.2f} s"
    status += _hint_note(hints) if res.hints_used else (
        " · automatic-only model: hints not used" if hints else "")
    status += (" · colour upload: turned grey for the model and kept as the reference"
               if upload.reference is not None else " · grey upload: no reference, so no metrics")
    if upload.reduced:
        status += f" · shown at {uploads.DISPLAY_SIDE} px; *Make full-resolution PNG* for the {w}x{h} file"
    download = None if upload.reduced else path   # a large photo's full-resolution PNG: on request (full_png)
    return (grey, path), download, tables.metric_rows(res, upload), status


@user_errors
@gated
def full_png(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json=""):
    """The full-resolution PNG of a colorization, made when asked for (large photos)."""
    upload = read(image)
    hints = parse_hints(hints_json)
    name = model_for(space, category)
    res = runs.run_model(upload, name, int(render_size) or None, float(saturation), hints)
    return png(res.image, scratch_dir(), f"{Path(str(image)).stem or 'photo'}-{name}.png")


@user_errors
def compare(image, render_size=0, saturation=1.0, hints_json="", progress=gr.Progress()):
    hints = parse_hints(hints_json)
    if not list_checkpoints():
        raise gr.Error("No checkpoints are installed.")
    with GATE.step():   # decoded and reduced as one step of the comparison
        upload = uploads.for_display(read(image))   # every model on the display-size photo
    results, best = runs.compare_all(upload, int(render_size) or None, float(saturation),
                                         progress=lambda i, n, name: progress((i, n), desc=name, unit="models"),
                                         gate=GATE, hints=hints)
    stem, out = Path(str(image)).stem or "photo", scratch_dir()
    grid = [(png(r.image, out, f"{stem}-{r.model}.png"), tables.caption(r, best)) for r in results]
    note = ("★ marks the best per metric: PSNR and SSIM highest, CIEDE2000 lowest, colourfulness "
            "closest to the reference's, time fastest." if upload.reference is not None else
            "Grey upload: no reference, so only times are compared (★ fastest).")
    w, h = upload.size
    note += (f" Every model ran on the photo at {w}x{h} (at most {uploads.DISPLAY_SIDE} px long side); metrics "
             f"at most {uploads.METRIC_PIXELS / 1e6:.2f} MP, area-averaged.")
    if hints:
        skipped = [r.model for r in results if not r.hints_used]
        note += f" Hints{_hint_note(hints).removeprefix(' ·')} given to every model that takes them" + (
            f"; automatic-only (no hints): {', '.join(skipped)}." if skipped else ".")
    return grid, tables.compare_rows(results, best), note


@user_errors
@gated
def channels(image, space="lab", category="general", render_size=0, saturation=1.0, hints_json=""):
    upload = uploads.for_display(read(image))   # the views are for the eye: display size
    hints = parse_hints(hints_json)
    name = model_for(space, category)
    res = runs.run_model(upload, name, int(render_size) or None, float(saturation), hints, scored=False)
    pred = np.asarray(res.image)
    model_space = res.space
    out = scratch_dir()
    pred_views = [(png(v, out, f"{name}-{label.split()[0]}.png", grey_as_l=True), f"{name}: {label}")
                  for label, v in channel_views(pred, model_space)]
    ref_views = ([] if upload.reference is None else
                 [(png(v, out, f"reference-{label.split()[0]}.png", grey_as_l=True), f"reference: {label}")
                  for label, v in channel_views(upload.reference, model_space)])
    amap, score = hue_artifact_map(pred, upload.reference)
    what = ("mean saturation-weighted hue error against the reference, in turns (0 = perfect, 0.5 = opposite)"
            if upload.reference is not None else
            "grey upload: mean saturation-weighted hue gradient (speckle and red wrap-around seams), in turns")
    heat = png(artifact_heatmap(amap), out, "hue-artefacts.png")
    return pred_views, ref_views, heat, f"**Hue-artefact score {score:.4f}** · {what}"


# ---------------------------------------------------------------- Turing studies (colorlab.studies)

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


def study_choices() -> list[tuple[str, str]]:
    return [(f"{s['id']} · {s['protocol']} · {'closed' if s['closed_at'] else 'open'} · {s['answers']} answers",
             str(s["id"])) for s in store.studies()]


def _studies_update(value=None):
    choices = study_choices()
    return gr.update(choices=choices, value=value if value is not None else (choices[0][1] if choices else None))


@user_errors
def publish_study(token, protocol, models, categories, trials, catch_pct, exposure_ms, realism_score, own_photos):
    studies.check_token(token)   # before anything is read, copied or stored
    pool = "shipped"
    if own_photos:
        folder, _ = lab.import_photos(token, [getattr(f, "name", f) for f in own_photos])
        pool = str(folder)
    settings = studies.Settings(protocol, tuple(models or ()), tuple(categories or ()), int(trials or 0),
                                float(catch_pct or 0) / 100, exposure_ms=int(exposure_ms or 0),
                                realism_score=bool(realism_score), pool=pool)
    study, note = lab.publish(token, settings)
    return note, _studies_update(str(study.study_id))


@user_errors
def close_study(token, study_id):
    if not study_id:
        raise gr.Error("Choose the study to close.")
    study = lab.close(token, study_id)
    return f"Study {study.study_id} is closed: it takes no new sessions or answers.", _studies_update(str(study_id))


def open_page(request: gr.Request):
    """On page load: the ``?study=ID`` of the page's address (empty: the latest open study)
    for the rater, and the current list of studies for the results view."""
    params = getattr(request, "query_params", None) or {}
    linked = str(params.get("study", "") or "").strip()
    return linked, _studies_update(linked if store.study(linked) else None)


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
    files = [str(p) for p in session.serve(lab.preparer(session.study.settings.size), scratch_dir())]
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
    return (session, single, left, right, text, gr.update(visible=not trial.right), gr.update(visible=bool(trial.right)),
            score, session.study.settings.exposure_ms)


@user_errors
def start_session(study_id=""):
    return _show(lab.start(study_id))


def _answer(choice, session, score=None):
    if session is None:
        raise gr.Error("Press *Start a session* first.")
    if session.done:
        return _show(session)
    stored = session.answer(choice, store, APP_VERSION, int(score) if score else None)
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
    study, res = lab.results(study_id, bool(include_failed))
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
    path.write_text(lab.export_csv(study_id or None))
    return str(path)


# ---------------------------------------------------------------- models

@user_errors
def models_table():
    return tables.model_rows(list_checkpoints())


CLAIMS_FILE = Path(__file__).resolve().parent / "docs" / "claims.md"


def claims_text(path: Path = CLAIMS_FILE) -> str:
    """docs/claims.md (``python -m train.claims``) for the Models tab."""
    try:
        return path.read_text()
    except OSError:
        return "No claims table yet: `python -m train.claims --out docs/claims.md` writes it."


@user_errors
def model_details(name):
    meta = next((m for m in list_checkpoints() if m.name == name), None)
    if meta is None:
        raise gr.Error(f"No checkpoint named {name!r}.")
    history = meta.training.get("history") or []
    if not history:
        return None, tables.model_card(meta) + "  \n*No training history recorded.*"
    path = scratch_dir() / "curves.png"
    plot_curves(history, meta.grey_metrics, path)
    return str(path), tables.model_card(meta)


# ---------------------------------------------------------------- layout

def pick_example(evt: gr.SelectData):
    """A click on an example thumbnail loads that photo and its category."""
    ex, _ = examples_list()
    path, category = ex[evt.index]
    return path, category


def examples_list():
    pool = uploads.example_pool()
    return [[str(p.path), p.category] for p in pool], [p.photo_id for p in pool]


def build() -> gr.Blocks:
    names = model_names()
    # quick jobs wait for the CPU at the gate (small ones first), not in Gradio's queue
    inference = {"concurrency_id": "inference", "concurrency_limit": limits.INFERENCE_WORKERS}
    with gr.Blocks(title="colorlab: greyscale photo colorization", delete_cache=(600, limits.GRADIO_CACHE_TTL)) as demo:
        gr.Markdown("# colorlab\nColorize greyscale photos with U-Net models trained in LAB, HSV or RGB on "
                    "faces, landscapes or general photos. A colour photo is turned grey first and kept as "
                    "the reference the result is scored against.")
        with gr.Tab("Colorize", id="colorize"):
            with gr.Row():
                with gr.Column():
                    image = gr.File(label=f"Photo (any image file up to {MAX_PIXELS // 1_000_000} MP "
                                          f"and {limits.MAX_UPLOAD_TEXT})",
                                    file_types=["image"], type="filepath", elem_id="upload")
                    shown = gr.Image(label="Your photo (click to place a colour hint)", format="png",
                                     interactive=False, height=260, elem_id="preview")
                    with gr.Accordion("Colour hints (optional)", open=True, elem_id="hints-box"):
                        gr.Markdown("Click on the photo where you know a colour: a point hint appears there with the "
                                    "model's current colour, and the picker changes it. Only the hint's chroma is "
                                    "used; the lightness always comes from the photo. Hints stay when you switch "
                                    "model, space or category, and Compare and Channels use them too. The seed "
                                    "designs are automatic-only and ignore them.")
                        with gr.Row():
                            hint_colour = gr.ColorPicker(value="#808080", label="Colour of hint #", elem_id="hint-colour")
                            hint_index = gr.Number(value=0, precision=0, minimum=0, label="Hint #", elem_id="hint-index")
                        hint_table = gr.Dataframe(headers=hint_editor.TABLE_HEADERS, label="Point hints",
                                                  interactive=False, elem_id="hint-table")
                        with gr.Row():
                            remove_btn = gr.Button("Remove hint #", size="sm", elem_id="hint-remove")
                            clear_btn = gr.Button("Clear point hints", size="sm", elem_id="hint-clear")
                        hint_reach = gr.Slider(MIN_REACH, 2.0, value=POINT_REACH, step=0.05, elem_id="hint-reach",
                                               label="How far one point's colour reaches",
                                               info="a fraction of the photo's short side; beyond it, and on surfaces "
                                                    "much lighter or darker than the point, the model's own colour "
                                                    "stays. Points close together reach further.")
                        tint_on = gr.Checkbox(False, label="Overall tint (the intended mean colour cast)", elem_id="tint-on")
                        with gr.Row():
                            tint_colour = gr.ColorPicker(value="#a08060", label="Tint", visible=False, elem_id="tint-colour")
                            tint_photo = gr.File(label="…or take the tint from a colour photo of a similar scene "
                                                       f"(up to {limits.MAX_UPLOAD_TEXT})",
                                                 file_types=["image"], type="filepath", visible=False, elem_id="tint-photo")
                        hints_json = gr.Textbox("", label="Hints as JSON (the CLI's format; editable)", lines=1,
                                                elem_id="hints-json")
                    space = gr.Radio(SPACE_CHOICES, value="lab", label="Colour space")
                    category = gr.Radio(list(CATEGORIES), value="general", label="Checkpoint category")
                    render_size = gr.Slider(0, 1024, value=0, step=32,
                                            label="Render size: short side the network runs at (0 = the model's own)")
                    saturation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Saturation", info="1.0 = the model's calibrated colour strength")
                    run = gr.Button("Colorize", variant="primary", elem_id="colorize-btn")
                with gr.Column():
                    slider = gr.ImageSlider(label="Before / after", format="png", type="numpy", elem_id="slider")
                    status = gr.Markdown(elem_id="colorize-status")
                    download = gr.DownloadButton("Download full-resolution PNG", elem_id="download")
                    make_full = gr.Button("Make full-resolution PNG", visible=False, elem_id="make-full")
                    metrics = gr.Dataframe(headers=["metric", "model", "grey input", "better"],
                                           label="Metrics against the reference (colour uploads)")
            ex, labels = examples_list()
            if ex:
                thumbs = gr.Gallery([(p, f"{label} ({c})") for (p, c), label in zip(ex, labels)],
                                    label="Examples (held-out photos): click one to load it", columns=8,
                                    height=180, allow_preview=False, elem_id="examples")
                thumbs.select(pick_example, None, [image, category], api_name=False)
        with gr.Tab("Compare", id="compare"):
            gr.Markdown("Every installed model on the photo from the *Colorize* tab, with its time and, for a "
                        "colour photo, its metrics.")
            compare_btn = gr.Button("Compare all models", variant="primary")
            grid = gr.Gallery(label="All models", format="png", columns=4, height="auto")
            compare_note = gr.Markdown()
            compare_table = gr.Dataframe(headers=tables.COMPARE_HEADERS, label="Metrics")
        with gr.Tab("Channels & artefacts", id="channels"):
            gr.Markdown("The channels of the chosen model's colour space (from the *Colorize* tab), for its "
                        "output and for the reference, and where the hue goes wrong.")
            channels_btn = gr.Button("Show channels", variant="primary")
            with gr.Row():
                pred_views = gr.Gallery(label="Colorized: channels", format="png", columns=3)
                ref_views = gr.Gallery(label="Reference: channels", format="png", columns=3)
            with gr.Row():
                heat = gr.Image(label="Hue-artefact map", format="png", interactive=False)
                heat_score = gr.Markdown()
        with gr.Tab("Turing test", id="turing"):
            session = gr.State(None)
            if STORAGE.notice():
                gr.Markdown(STORAGE.notice())
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
        with gr.Tab("Models", id="models"):
            table = gr.Dataframe(tables.model_rows(list_checkpoints()), headers=tables.MODEL_HEADERS,
                                 label="Validation metrics (from the checkpoints' sidecars), grey input alongside")
            refresh = gr.Button("Refresh")
            pick = gr.Dropdown(names, value=names[0] if names else None, label="Model")
            with gr.Row():
                curves = gr.Image(label="Training curves", format="png", interactive=False)
                card = gr.Markdown()
            with gr.Accordion("The papers' claims, tested (docs/claims.md)", open=False):
                gr.Markdown(claims_text(), elem_id="claims")

        # events: every one named. Compare has its own queue (one at a time) so it never holds the
        # slot of a quick job; the CPU itself is shared through GATE, model by model.
        image.change(preview, [image, hints_json], shown, api_name="preview")
        settings = [space, category, render_size, saturation]
        shown.select(add_hint, [image] + settings + [hints_json], [hints_json, hint_colour, hint_index],
                     api_name=False, **inference)
        hint_colour.change(recolour_hint, [hint_colour, hint_index, hints_json], hints_json, api_name=False)
        remove_btn.click(remove_hint, [hint_index, hints_json], hints_json, api_name=False)
        clear_btn.click(clear_hints, hints_json, hints_json, api_name=False)
        hint_reach.change(set_reach, [hint_reach, hints_json], hints_json, api_name=False)
        tint_on.change(toggle_tint, [tint_on, tint_colour, hints_json], [hints_json, tint_colour, tint_photo],
                       api_name=False)
        tint_colour.change(lambda c, on, h: hint_editor.set_tint(h, c) if on else h, [tint_colour, tint_on, hints_json],
                          hints_json, api_name=False)
        tint_photo.upload(tint_from_photo, [tint_photo, tint_on, hints_json], [tint_colour, hints_json], api_name=False)
        hints_json.change(hints_view, [image, hints_json], [shown, hint_table], api_name=False)
        run.click(colorize, [image, space, category, render_size, saturation, hints_json],
                  [slider, download, metrics, status], api_name="colorize", **inference).then(
            lambda d: gr.update(visible=not d), download, make_full, api_name=False)   # large photo: on request
        make_full.click(full_png, [image, space, category, render_size, saturation, hints_json], download,
                        api_name="full_png", **inference)
        compare_btn.click(compare, [image, render_size, saturation, hints_json], [grid, compare_table, compare_note],
                          api_name="compare", concurrency_id=COMPARE_ID, concurrency_limit=limits.COMPARE_SLOTS)
        channels_btn.click(channels, [image, space, category, render_size, saturation, hints_json],
                           [pred_views, ref_views, heat, heat_score], api_name="channels", **inference)
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
        refresh.click(models_table, None, table, api_name="models_table")
        pick.change(model_details, pick, [curves, card], api_name="model_details")
        if names:
            demo.load(model_details, pick, [curves, card], api_name="model_details_initial")
    demo.queue(default_concurrency_limit=4, max_size=QUEUE_SIZE)
    FairShare().install(demo)   # per-client caps and round-robin order (colorlab.serving.admission)
    return demo


demo = build()

if __name__ == "__main__":
    demo.launch(**launch_options())   # body and upload limits, no monitoring (colorlab.serving.admission)
