"""The Models tab: the installed checkpoints' metrics, one model's card and training curves, the claims."""
from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from ..checkpoints import list_checkpoints
from ..serving import tables
from ..serving.curves import plot_curves
from .common import scratch_dir, user_errors

CLAIMS_FILE = Path(__file__).resolve().parents[2] / "docs" / "claims.md"

# On a phone the table's 15 columns (1900 px) scrolled sideways inside a 324-px box: there it
# shows the model and the three fidelity metrics across the width instead, in a smaller font (the
# card below has the rest: space, category, architecture, the grey input's scores, the training).
PHONE_COLUMNS = ("model", "PSNR ↑", "SSIM ↑", "CIEDE2000 ↓")


def phone_css(headers: list[str] = tables.MODEL_HEADERS, keep: tuple[str, ...] = PHONE_COLUMNS) -> str:
    """The table's CSS under 640 px: only the ``keep`` columns (found in ``headers`` by name, so
    that the CSS follows the table), fitted to the width. Gradio's table draws the header row as
    ``th[data-heading=i]``, the body cells as ``.body-cell[data-col=i]`` and a hidden sizing row."""
    cols = [headers.index(h) for h in keep]
    t = "#cl-models-table"
    th = "".join(f':not([data-heading="{i}"])' for i in cols)
    cell = "".join(f':not([data-col="{i}"])' for i in cols)
    sizing = "".join(f":not(:nth-child({i + 1}))" for i in cols)
    return f"""
#cl-models-narrow {{ display: none; }}
@media (max-width: 640px) {{
  #cl-models-narrow {{ display: block; }}
  {t} th{th}, {t} .body-cell{cell}, {t} .sizing-body td{sizing} {{ display: none !important; }}
  /* Gradio sets every column's width in pixels: the kept ones share the box instead */
  {t} .header-table, {t} .virtual-body {{ width: 100% !important; table-layout: fixed; }}
  {t} th, {t} .body-cell, {t} .sizing-body td {{ width: auto !important; min-width: 0 !important;
                                                max-width: none !important; flex: 1 1 0 !important; }}
  {t} th.first-column, {t} .body-cell.first-column, {t} .sizing-body td:first-child {{
    width: 33% !important; flex: 0 0 33% !important; }}
  {t} .body-cell.first-column span {{ white-space: normal !important; overflow-wrap: anywhere; }}   /* a long name */
  {t} .body-cell, {t} .body-cell *, {t} th, {t} th * {{ font-size: 11.5px !important;
                                                       font-family: var(--font) !important; }}
  {t} .body-cell, {t} th {{ padding: 2px !important; }}
  {t} .body-cell .cell-wrap {{ padding: 0 !important; }}
  {t} th {{ position: relative; }}
  {t} th span {{ white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
                word-break: normal !important; overflow-wrap: normal !important; }}   /* "CIEDE2000 ↓": two lines */
  {t} th .cell-wrap, {t} th .header-content {{ padding: 0 !important; gap: 0 !important; min-width: 0 !important; }}
  {t} th .cell-menu-button {{ position: absolute; top: 0; right: 0; }}   /* the sort menu: over the corner */
}}
"""


CSS = phone_css()


@user_errors
def models_table():
    return tables.model_rows(list_checkpoints())


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
        raise gr.Error(f"No checkpoint named {html.escape(repr(name))}.", print_exception=False)
    history = meta.training.get("history") or []
    if not history:
        return None, tables.model_card(meta) + "  \n*No training history recorded.*"
    path = scratch_dir() / "curves.png"
    plot_curves(history, meta.grey_metrics, path)
    return str(path), tables.model_card(meta)


def tab(demo: gr.Blocks, names: list[str]) -> None:
    """The tab's components and events (inside ``demo``); ``names``: the installed models."""
    with gr.Tab("Models", id="models"):
        table = gr.Dataframe(tables.model_rows(list_checkpoints()), headers=tables.MODEL_HEADERS,
                             label="Validation metrics (from the checkpoints' sidecars), grey input alongside",
                             elem_id="cl-models-table", pinned_columns=1, interactive=False)
        gr.Markdown("On a narrow screen the table shows " + ", ".join(PHONE_COLUMNS[1:]) + " only: a model's "
                    "card below has the rest, a wider screen (or the phone turned sideways) the whole table.",
                    elem_id="cl-models-narrow")
        gr.Markdown(tables.metric_legend(tables.METRICS) + "  \nEpochs and minutes count every training stage "
                    "(each stage fine-tunes the one before; the card below lists them).", elem_id="cl-models-legend")
        refresh = gr.Button("Refresh")
        pick = gr.Dropdown(names, value=names[0] if names else None, label="Model")
        with gr.Row():   # side by side on a wide screen, stacked on a phone
            curves = gr.Image(label="Training curves (the checkpoint's own, last stage)", format="png",
                              interactive=False, min_width=320)
            card = gr.Markdown(elem_id="cl-model-card", min_width=320)
        with gr.Accordion("The papers' claims, tested (docs/claims.md)", open=False):
            gr.Markdown("What the verdicts mean:  \n" + tables.verdict_legend(), elem_id="cl-verdicts")
            gr.Markdown(claims_text(), elem_id="claims")
    refresh.click(models_table, None, table, api_name="models_table")
    pick.change(model_details, pick, [curves, card], api_name="model_details")
    if names:
        demo.load(model_details, pick, [curves, card], api_name="model_details_initial")
