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
