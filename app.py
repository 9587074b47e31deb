"""colorlab demo: colorize greyscale photos with U-Net models in LAB, HSV and RGB.

``python app.py`` serves ``demo`` (also the Hugging Face Spaces entry point). This
file only wires widgets to the library: the colour work is in ``colorlab`` (pipeline,
metrics, diagnostics), the Turing test in ``colorlab.turing`` and ``colorlab.ratings``,
the model descriptions in ``colorlab.showcase``.

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
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np
import torch

import colorlab
from colorlab import showcase, turing
from colorlab.checkpoints import list_checkpoints
from colorlab.diagnostics import artifact_heatmap, channel_views, hue_artifact_map
from colorlab.imaging import MAX_PIXELS, ImageError
from colorlab.ratings import COLORIZED, REAL, RatingStore, plot_rates
from colorlab.plots import plot_curves

APP_VERSION = colorlab.__version__
INFERENCE_LIMIT = int(os.environ.get("COLORLAB_CONCURRENCY", "1"))
QUEUE_SIZE = int(os.environ.get("COLORLAB_QUEUE_SIZE", "64"))
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
torch.set_num_threads(max(1, CORES // max(1, INFERENCE_LIMIT)))   # concurrent jobs share the cores
MAX_UPLOAD = "50mb"
SCRATCH = Path(tempfile.gettempdir()) / "colorlab-app"
SCRATCH_TTL = 3600          # downloads and plots older than this are removed
SCRATCH_PRUNE_EVERY = 60    # seconds between looks for expired scratch folders
_last_prune = 0.0
SPACE_CHOICES = [("LAB", "lab"), ("HSV", "hsv"), ("RGB", "rgb")]
log = logging.getLogger("colorlab.app")
store = RatingStore()


# ---------------------------------------------------------------- plumbing

def user_errors(fn):
    """Every failure reaches the user as a gr.Error with a readable message, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, LookupError, OSError) as exc:   # ImageError, CheckpointError are ValueErrors
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:   # noqa: BLE001 - logged here, reported briefly
            log.exception("unexpected failure in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(exc).__name__}); please try another image.") from None
    return wrapper


def scratch_dir() -> Path:
    """A fresh folder for one response's files; folders past their TTL are pruned (at most
    once a minute, so a busy server does not scan thousands of folders per request)."""
    global _last_prune
    SCRATCH.mkdir(parents=True, exist_ok=True)
    now = time.time()
    if now - _last_prune > SCRATCH_PRUNE_EVERY:
        _last_prune = now
        for old in SCRATCH.iterdir():
            try:
                if now - old.stat().st_mtime > SCRATCH_TTL:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
    return Path(tempfile.mkdtemp(dir=SCRATCH))


def png(image, directory: Path, name: str) -> str:
    """``image`` (PIL or uint8 array) as a lossless PNG file in this request's ``directory``;
    its path is what the event returns (see the module docstring for why not the image)."""
    return str(showcase.save_png(image, directory, name))


def read(image) -> showcase.Upload:
    if not image:
        raise gr.Error("Upload a photo or pick an example first.", print_exception=False)
    try:
        return showcase.read_upload(image)
    except ImageError as exc:   # name the file as the user knows it, not by its server path
        raise gr.Error(str(exc).replace(str(image), Path(str(image)).name), print_exception=False) from None


def model_for(space: str, category: str) -> str:
    meta, note = showcase.choose_checkpoint(space, category)
    if note:
        gr.Info(note)
    return meta["name"]


def model_names() -> list[str]:
    return [m["name"] for m in list_checkpoints()]


# ---------------------------------------------------------------- colorize, compare, channels

@user_errors
def preview(image):
    if not image:
        return None
    return png(read(image).image, scratch_dir(), f"{Path(str(image)).stem or 'photo'}.png")


@user_errors
def colorize(image, space="lab", category="general", render_size=0, saturation=1.0):
    upload = read(image)
    name = model_for(space, category)
    res = showcase.run_model(upload, name, int(render_size) or None, float(saturation))
    stem, out = Path(str(image)).stem or "photo", scratch_dir()
    path = png(res.image, out, f"{stem}-{name}.png")        # the slider's "after" and the download
    grey = png(upload.grey, out, f"{stem}-grey.png")
    w, h = upload.size
    status = f"**{name}** · {w}x{h} · {res.seconds:.2f} s"
    status += (" · colour upload: turned grey for the model and kept as the reference"
               if upload.reference is not None else " · grey upload: no reference, so no metrics")
    return (grey, path), path, showcase.metric_rows(res, upload), status


@user_errors
def compare(image, render_size=0, saturation=1.0):
    upload = read(image)
    if not list_checkpoints():
        raise gr.Error("No checkpoints are installed.")
    results, best = showcase.compare_all(upload, int(render_size) or None, float(saturation))
    stem, out = Path(str(image)).stem or "photo", scratch_dir()
    grid = [(png(r.image, out, f"{stem}-{r.model}.png"), showcase.caption(r, best)) for r in results]
    note = ("★ marks the best per metric: PSNR and SSIM highest, CIEDE2000 lowest, colourfulness "
            "closest to the reference's, time fastest." if upload.reference is not None else
            "Grey upload: no reference, so only times are compared (★ fastest).")
    return grid, showcase.compare_rows(results, best), note


@user_errors
def channels(image, space="lab", category="general", render_size=0, saturation=1.0):
    upload = read(image)
    name = model_for(space, category)
    res = showcase.run_model(upload, name, int(render_size) or None, float(saturation))
    pred = np.asarray(res.image)
    model_space = res.space
    out = scratch_dir()
    pred_views = [(png(v, out, f"{name}-{label.split()[0]}.png"), f"{name}: {label}")
                  for label, v in channel_views(pred, model_space)]
    ref_views = ([] if upload.reference is None else
                 [(png(v, out, f"reference-{label.split()[0]}.png"), f"reference: {label}")
                  for label, v in channel_views(upload.reference, model_space)])
    amap, score = hue_artifact_map(pred, upload.reference)
    what = ("mean saturation-weighted hue error against the reference, in turns (0 = perfect, 0.5 = opposite)"
            if upload.reference is not None else
            "grey upload: mean saturation-weighted hue gradient (speckle and red wrap-around seams), in turns")
    heat = png(artifact_heatmap(amap), out, "hue-artefacts.png")
    return pred_views, ref_views, heat, f"**Hue-artefact score {score:.4f}** · {what}"


# ---------------------------------------------------------------- Turing test

def current_study() -> tuple[str, turing.Study]:
    names = model_names()
    latest = store.latest_study()
    if latest is None:
        return "", turing.Study(models=names)
    study_id, cfg = latest
    cfg["models"] = [m for m in cfg.get("models", []) if m in names]
    return str(study_id), turing.Study(**cfg)


@user_errors
def publish_study(models, categories, n_images):
    if not models:
        raise gr.Error("Choose at least one model.")
    if not categories:
        raise gr.Error("Choose at least one category.")
    n = int(n_images or 0)
    if n < 1:
        raise gr.Error("The number of images must be at least 1.")
    study = turing.Study(models=list(models), categories=list(categories), n_images=n)
    pool = turing.example_pool(study.categories)
    study_id = store.publish_study(study.as_dict())
    cap = turing.max_images(len(pool), len(study.models))
    capped = f" (capped at {cap}: each photo once per condition)" if n > cap else ""
    return f"Study {study_id} published: {len(study.models)} models, {', '.join(study.categories)}, {n} images{capped}."


def _show(session: turing.Session, last_stored: bool | None = None):
    """Outputs after any Turing step: state, image, progress, and whether the answer buttons show."""
    if session.done:
        s = session.summary()
        text = (f"### Finished: {s['correct']} of {s['answered']} correct\n"
                f"Colorized images you took for real: {s['fooled']} of {s['colorized_shown']}. "
                f"Thank you! Press *Start a session* to rate again.")
        return session, None, text, gr.update(visible=False), None
    # the same name for every picture: nothing the rater gets before answering tells the truth
    img = png(session.serve(), scratch_dir(), "image.png")
    text = f"Image **{session.position + 1} of {len(session.items)}**: is this a real colour photo, or colorized?"
    if last_stored is False:
        text += " (your previous answer had already been recorded)"
    return session, img, text, gr.update(visible=True), None


@user_errors
def start_session():
    study_id, study = current_study()
    if not study.models:
        raise gr.Error("No models are available for the Turing test.")
    return _show(turing.Session.start(study, list_checkpoints(), study_id))


def _answer(guess, session, score=None):
    if session is None:
        raise gr.Error("Press *Start a session* first.")
    if session.done:
        return _show(session)
    stored = session.answer(guess, store, APP_VERSION, int(score) if score else None)
    return _show(session, stored)


@user_errors
def answer_real(session, score=None):
    return _answer(REAL, session, score)


@user_errors
def answer_colorized(session, score=None):
    return _answer(COLORIZED, session, score)


RESULT_HEADERS = ["model", "category", "truth", "n", "judged real", "rate", "95% low", "95% high",
                  "mean score", "mean response ms"]


@user_errors
def results():
    rows = store.fooling_rates()
    table = [[r["model"], r["category"], r["truth"], r["n"], r["judged_real"], round(r["rate"], 3),
              round(r["ci_low"], 3), round(r["ci_high"], 3),
              None if r["mean_score"] is None else round(r["mean_score"], 2), round(r["mean_response_ms"])]
             for r in rows]
    return plot_rates(rows), table, f"{store.count()} ratings in `{store.path}`."


@user_errors
def export_csv():
    path = scratch_dir() / "colorlab-ratings.csv"
    store.export_csv(path)
    return str(path)


# ---------------------------------------------------------------- models

@user_errors
def models_table():
    return showcase.model_rows(list_checkpoints())


@user_errors
def model_details(name):
    meta = next((m for m in list_checkpoints() if m["name"] == name), None)
    if meta is None:
        raise gr.Error(f"No checkpoint named {name!r}.")
    history = (meta.get("training") or {}).get("history") or []
    if not history:
        return None, showcase.model_card(meta) + "  \n*No training history recorded.*"
    path = scratch_dir() / "curves.png"
    plot_curves(history, meta.get("grey_metrics") or {}, path)
    return str(path), showcase.model_card(meta)


# ---------------------------------------------------------------- layout

def examples_list():
    pool = turing.example_pool()
    return [[str(p.path), p.category] for p in pool], [p.photo_id for p in pool]


def build() -> gr.Blocks:
    names = model_names()
    inference = {"concurrency_id": "inference", "concurrency_limit": INFERENCE_LIMIT}
    with gr.Blocks(title="colorlab: greyscale photo colorization", delete_cache=(600, SCRATCH_TTL)) as demo:
        gr.Markdown("# colorlab\nColorize greyscale photos with U-Net models trained in LAB, HSV or RGB on "
                    "faces, landscapes or general photos. A colour photo is turned grey first and kept as "
                    "the reference the result is scored against.")
        with gr.Tab("Colorize", id="colorize"):
            with gr.Row():
                with gr.Column():
                    image = gr.File(label=f"Photo (any image file up to {MAX_PIXELS // 1_000_000} MP)",
                                    file_types=["image"], type="filepath", elem_id="upload")
                    shown = gr.Image(label="Your photo", format="png", interactive=False, height=220, elem_id="preview")
                    space = gr.Radio(SPACE_CHOICES, value="lab", label="Colour space")
                    category = gr.Radio(list(showcase.CATEGORIES), value="general", label="Checkpoint category")
                    render_size = gr.Slider(0, 1024, value=0, step=32,
                                            label="Render size: short side the network runs at (0 = the model's own)")
                    saturation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Saturation", info="1.0 = the model's calibrated colour strength")
                    run = gr.Button("Colorize", variant="primary", elem_id="colorize-btn")
                with gr.Column():
                    slider = gr.ImageSlider(label="Before / after", format="png", type="numpy", elem_id="slider")
                    status = gr.Markdown(elem_id="colorize-status")
                    download = gr.DownloadButton("Download full-resolution PNG", elem_id="download")
                    metrics = gr.Dataframe(headers=["metric", "model", "grey input", "better"],
                                           label="Metrics against the reference (colour uploads)")
            ex, labels = examples_list()
            if ex:
                gr.Examples(ex, inputs=[image, category], example_labels=labels, label="Examples (held-out photos)",
                            examples_per_page=12, api_name="load_example")
        with gr.Tab("Compare", id="compare"):
            gr.Markdown("Every installed model on the photo from the *Colorize* tab, with its time and, for a "
                        "colour photo, its metrics.")
            compare_btn = gr.Button("Compare all models", variant="primary")
            grid = gr.Gallery(label="All models", format="png", columns=4, height="auto")
            compare_note = gr.Markdown()
            compare_table = gr.Dataframe(headers=showcase.COMPARE_HEADERS, label="Metrics")
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
            with gr.Accordion("Organiser: study settings", open=False):
                _, study = current_study()
                t_models = gr.CheckboxGroup(names, value=[m for m in study.models if m in names], label="Models")
                t_cats = gr.CheckboxGroup(list(turing.CATEGORIES), value=list(study.categories), label="Categories")
                t_n = gr.Number(value=study.n_images, precision=0, minimum=1, label="Images per session")
                publish = gr.Button("Publish study")
                publish_note = gr.Markdown()
            gr.Markdown("Each image is either a real colour photo or a model's colorization of one. "
                        "Answer *Real* or *Colorized*; the 1-5 realism score is optional.")
            start = gr.Button("Start a session", variant="primary", elem_id="turing-start")
            t_image = gr.Image(label="Real or colorized?", format="png", interactive=False, height=300,
                               elem_id="turing-image", buttons=[])
            t_text = gr.Markdown(elem_id="turing-text")
            with gr.Column(visible=False) as answer_box:
                t_score = gr.Radio(["1", "2", "3", "4", "5"], value=None, label="Realism (optional, 5 = real)",
                                   elem_id="turing-score")
                with gr.Row():
                    real_btn = gr.Button("Real", elem_id="turing-real")
                    fake_btn = gr.Button("Colorized", elem_id="turing-colorized")
            with gr.Accordion("Results", open=False):
                results_btn = gr.Button("Show results", elem_id="turing-results")
                plot = gr.Plot(label="Fooling rate per model and category", elem_id="turing-plot")
                results_table = gr.Dataframe(headers=RESULT_HEADERS, label="Per model and category")
                results_note = gr.Markdown(elem_id="turing-results-note")
                export_btn = gr.Button("Export CSV")
                csv_file = gr.File(label="Ratings (CSV)")
        with gr.Tab("Models", id="models"):
            table = gr.Dataframe(showcase.model_rows(list_checkpoints()), headers=showcase.MODEL_HEADERS,
                                 label="Validation metrics (from the checkpoints' sidecars), grey input alongside")
            refresh = gr.Button("Refresh")
            pick = gr.Dropdown(names, value=names[0] if names else None, label="Model")
            with gr.Row():
                curves = gr.Image(label="Training curves", format="png", interactive=False)
                card = gr.Markdown()

        # events: every one named; inference shares one concurrency slot pool
        image.change(preview, image, shown, api_name="preview")
        run.click(colorize, [image, space, category, render_size, saturation],
                  [slider, download, metrics, status], api_name="colorize", **inference)
        compare_btn.click(compare, [image, render_size, saturation], [grid, compare_table, compare_note],
                          api_name="compare", **inference)
        channels_btn.click(channels, [image, space, category, render_size, saturation],
                           [pred_views, ref_views, heat, heat_score], api_name="channels", **inference)
        turing_out = [session, t_image, t_text, answer_box, t_score]
        turing_run = {"concurrency_id": "turing", "concurrency_limit": 2}
        publish.click(publish_study, [t_models, t_cats, t_n], publish_note, api_name="turing_publish")
        start.click(start_session, None, turing_out, api_name="turing_start", **turing_run)
        real_btn.click(answer_real, [session, t_score], turing_out, api_name="turing_answer_real", **turing_run)
        fake_btn.click(answer_colorized, [session, t_score], turing_out, api_name="turing_answer_colorized",
                       **turing_run)
        results_btn.click(results, None, [plot, results_table, results_note], api_name="turing_results")
        export_btn.click(export_csv, None, csv_file, api_name="turing_export")
        refresh.click(models_table, None, table, api_name="models_table")
        pick.change(model_details, pick, [curves, card], api_name="model_details")
        if names:
            demo.load(model_details, pick, [curves, card], api_name="model_details_initial")
    demo.queue(default_concurrency_limit=4, max_size=QUEUE_SIZE)
    return demo


demo = build()

if __name__ == "__main__":
    demo.launch(max_file_size=MAX_UPLOAD, show_error=True)
