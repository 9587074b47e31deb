"""The Channels tab's hue-artefact map as a picture with its colour bar (matplotlib, no display).

The map's values come from ``colorlab.diagnostics.hue_artifact_map``; this only draws them,
with the same colour map and fixed scale as ``diagnostics.artifact_heatmap``, so maps of
different photos stay comparable and the bar says what a colour means.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..diagnostics import HUE_ERROR_MAX  # noqa: E402

TURNS = "turns: one full turn of the hue circle = 1, so 0.5 is the opposite hue"
SIDE = 800   # px of the map's long side in the picture (the tab shows it smaller anyway)


def hue_map_png(amap: np.ndarray, path: Path, with_reference: bool, vmax: float = HUE_ERROR_MAX,
                cmap: str = "inferno") -> Path:
    """Write ``amap`` (float (H, W), hue values in turns, 0 = no error) to ``path`` as a PNG:
    the map at the photo's aspect ratio (long side ``SIDE`` px, nearest pixels)
    with a horizontal colour bar from 0 to ``vmax`` turns under it, labelled with what the
    values are (``with_reference``: the error against the true hue; else the hue's change
    between neighbouring pixels). Values above ``vmax`` show in the top colour."""
    h, w = amap.shape
    scale = SIDE / max(h, w)
    dpi = 100
    width = max(w * scale, 420) / dpi          # room for the bar's labels on a narrow photo
    font = width * dpi / 55                    # readable when the picture is shown phone-wide
    map_in, bar_in = h * scale / dpi, font * 6.5 / 72   # the bar's strip: bar, ticks and label
    fig = plt.figure(figsize=(width, map_in + bar_in), dpi=dpi)
    total = map_in + bar_in
    ax = fig.add_axes((0.0, bar_in / total, 1.0, map_in / total))
    shown = ax.imshow(np.nan_to_num(amap), cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
    ax.set_axis_off()
    bar_ax = fig.add_axes((0.06, bar_in * 0.55 / total, 0.88, bar_in * 0.22 / total))
    bar = fig.colorbar(shown, cax=bar_ax, orientation="horizontal", extend="neither" if with_reference else "max")
    what = "hue error against the reference" if with_reference else "hue change between neighbours"
    bar.set_label(f"{what} (turns)", fontsize=font)
    bar.ax.tick_params(labelsize=font * 0.9)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)
