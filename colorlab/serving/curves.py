"""Training curves as PNG (matplotlib, no display needed): the trainer writes them, the Models tab redraws them."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(history: list[dict], grey: dict, path: Path) -> None:
    """Loss and each val metric per epoch, the grey baseline as a dashed line."""
    keys = ["loss"] + [k for k in ("val_psnr", "val_ciede2000", "val_ssim", "val_colorfulness") if k in history[0]]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8), squeeze=False)
    epochs = [r["epoch"] for r in history]
    for ax, key in zip(axes[0], keys):
        ax.plot(epochs, [r[key] for r in history], marker="o", label="model")
        base = grey.get(key.removeprefix("val_"))
        if base is not None:
            ax.axhline(base, ls="--", color="grey", label="grey input")
        if key == "val_colorfulness" and "truth_colorfulness" in grey:
            ax.axhline(grey["truth_colorfulness"], ls=":", color="green", label="truth")
        ax.set_title(key)
        ax.set_xlabel("epoch")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
