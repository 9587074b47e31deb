"""Shared fixtures: small untrained checkpoints in a temporary weights directory,
so library and app tests do not depend on which shipped weights exist."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab import checkpoints
from colorlab.checkpoints import save_checkpoint
from colorlab.models import create_model

# One intra-op thread: the tests run small tensors, where torch's thread pool costs more than it
# gives, and on a loaded machine (CI neighbours, other jobs) two spinning threads made a tiny
# colorization 10-50x slower (0.1 s -> 2-11 s measured with a load of 40 on 2 cores).
torch.set_num_threads(1)

SMALL = {
    "lab": ("lab_resunet", {"widths": (4, 8, 8)}),
    "hsv": ("hsv_unet", {"base": 4}),
    "rgb": ("rgb_unet", {"widths": (4, 4, 8, 8, 8, 8)}),
}


def make_checkpoint(directory, name, space, category="general", render_size=64):
    arch, kw = SMALL[space]
    torch.manual_seed(0)
    net = create_model(arch, out_channels=3 if space == "rgb" else 2, **kw).eval()
    meta = {"name": name, "space": space, "category": category, "train_size": 64,
            "render_size": None if space == "rgb" else render_size, "epochs": 0,
            "command": "tests/conftest.py (untrained)", "val_metrics": {}, "grey_metrics": {},
            "data": {}, "licence": "test"}
    return save_checkpoint(net, directory / name, meta)


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory):
    """A weights/ with lab-general, hsv-general and rgb-general (tiny, untrained)."""
    d = tmp_path_factory.mktemp("weights")
    for space in ("lab", "hsv", "rgb"):
        make_checkpoint(d, f"{space}-general", space)
    return d


@pytest.fixture
def photo():
    """A 96x72 colourful RGB PIL image with structure (gradients and a disc)."""
    y, x = np.mgrid[0:72, 0:96]
    arr = np.stack([x / 95 * 255, y / 71 * 255, (1 - x / 95) * 200 + 30], -1)
    arr[(x - 48) ** 2 + (y - 36) ** 2 < 300] = (220, 40, 40)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def make_hint_checkpoint(directory, name, space, category="faces"):
    """A tiny hint-aware checkpoint like the shipped matrix ones (mobile_unet with the hint maps
    and an uncapped prior gate), untrained but with weights that make the gate pull to the points."""
    from colorlab.colorspaces import get_space
    from colorlab.hints import HINT_CHANNELS
    torch.manual_seed(0)
    net = create_model("mobile_unet", out_channels=get_space(space).chroma_channels, decoder=(16, 8, 8, 8, 8),
                       hint_channels=HINT_CHANNELS, prior_gate=True, gate_reach=0.0).eval()
    for p in net.parameters():
        p.data.normal_(0, 0.05)
    meta = {"name": name, "space": space, "category": category, "train_size": 64, "render_size": 64,
            "epochs": 0, "command": "tests/conftest.py (untrained, hint-aware)", "hints": True,
            "val_metrics": {}, "grey_metrics": {}, "data": {}, "licence": "test"}
    return save_checkpoint(net, directory / name, meta, half=False)


@pytest.fixture(scope="session")
def hint_weights_dir(tmp_path_factory):
    """A weights/ as the app sees the shipped one, in small: lab-faces and rgb-faces take hints
    (tiny, untrained, with a prior gate), lab-general-cunet is a seed design (automatic-only)."""
    d = tmp_path_factory.mktemp("hint-weights")
    make_hint_checkpoint(d, "lab-faces", "lab")
    make_hint_checkpoint(d, "rgb-faces", "rgb")
    make_checkpoint(d, "lab-general-cunet", "lab")
    return d


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module (apphelp.chromium: the shared flags); give each
    test its own page (``browser.new_page``) and close it."""
    from apphelp import chromium
    with chromium() as b:
        yield b


@pytest.fixture
def upload(photo, tmp_path):
    """The ``photo`` (colour, 96x72) as an uploaded file's path."""
    path = tmp_path / "upload.png"
    photo.save(path)
    return str(path)


@pytest.fixture
def ui_app(hint_weights_dir, tmp_path, monkeypatch):
    """The app's tab handlers on the tiny checkpoints of ``hint_weights_dir``, each response's
    files in a fresh folder under ``tmp_path`` (as the app's scratch gives every response its
    own). Returns ``tmp_path``."""
    from colorlab.ui import channels, colorize, compare, hints_panel, suggested, tint_panel
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", hint_weights_dir)
    for tab in (colorize, hints_panel, compare, channels, suggested, tint_panel):
        monkeypatch.setattr(tab, "scratch_dir", lambda: Path(tempfile.mkdtemp(dir=tmp_path)))
    return tmp_path
