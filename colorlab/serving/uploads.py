"""Images in and out of the app: an upload read once (grey, reference, sizes) and PNGs written fast.

Sizes, so that a 12-megapixel phone photo stays quick and small on a shared CPU:

* metrics are computed at ``METRIC_PIXELS`` (512 x 512 = 0.26 MP) at most: a larger
  prediction, its reference and the grey baseline are all area-averaged (box filter) to the
  same size first, so every score on one photo is on the same footing;
* what is shown (sliders, galleries) is at most ``DISPLAY_SIDE`` px on the long side;
  Compare and Channels run the models on the photo reduced to that size (``for_display``),
  and a full-resolution PNG is only made when asked for;
* PNGs are written with zlib level 1: lossless, 5x faster to encode than the default for
  about 20% more bytes.

Nothing here knows about Gradio.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..checkpoints import CATEGORIES
from ..imaging import load_image, tensor_to_array
from ..pipeline import grey_tensor
from ..recent import Recent
from ..studies.pool import ROOT, shipped_pool
from .scheduling import pause_point

METRIC_PIXELS = 512 * 512   # metrics at most this many pixels (area-averaged down)
DISPLAY_SIDE = 1280         # long side of what galleries and sliders show
PNG_LEVEL = 1               # zlib level: lossless either way, level 1 is the fastest
COLOUR_THRESHOLD = 3.0   # Hasler-Suesstrunk colourfulness above which an upload counts as a colour photo
EXAMPLES_DIR = ROOT / "examples"


@dataclass
class Upload:
    """An image as the models see it: its grey version, and the colour original if it had colour.

    The grey and the grey baseline's scores are made when first asked for, once: Compare,
    Channels and the hint preview never need the full-size grey, and a Colorize needs it once
    for the model, the slider and the baseline alike."""
    image: Image.Image                 # 8-bit RGB, upright (any input mode converted)
    reference: np.ndarray | None       # uint8 (H, W, 3) colour ground truth, or None for a grey upload
    metric_reference: np.ndarray | None = field(default=None, repr=False)   # reference at metric size
    _made: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.reference is not None and self.metric_reference is None:
            self.metric_reference = metric_view(self.reference)

    def _once(self, key: str, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    @property
    def grey_tensor(self):
        """float32 torch tensor (1, 1, H, W) in [0, 1]: exactly the grey the model is given."""
        return self._once("tensor", lambda: grey_tensor(np.asarray(self.image)))   # (upright already)

    @property
    def grey_channel(self) -> np.ndarray:
        """uint8 (H, W): the grey, rounded; one channel, so resizing and PNGs of it cost a third."""
        return self._once("channel", lambda: tensor_to_array(self.grey_tensor)[..., 0])

    @property
    def grey(self) -> np.ndarray:
        """uint8 (H, W, 3): the grey as RGB (a read-only view of ``grey_channel``)."""
        g = self.grey_channel
        return np.broadcast_to(g[..., None], (*g.shape, 3))

    @property
    def grey_scores(self) -> dict | None:
        """The grey baseline scored against the reference at metric size; None without one."""
        if self.reference is None:
            return None
        from ..metrics import score  # scikit-image: imported when first scored, not at app start
        return self._once("scores", lambda: score(_rgb(metric_view(self.grey_channel)), self.metric_reference))

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def reduced(self) -> bool:
        """Whether this upload is larger than what is displayed."""
        return max(self.size) > DISPLAY_SIDE


def metric_size(size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) scaled down, aspect kept, to at most ``METRIC_PIXELS`` pixels (unchanged if smaller)."""
    w, h = size
    if w * h <= METRIC_PIXELS:
        return w, h
    f = (METRIC_PIXELS / (w * h)) ** 0.5
    return max(1, int(w * f)), max(1, int(h * f))


def metric_view(arr: np.ndarray) -> np.ndarray:
    """``arr`` (uint8 (H, W, 3) or (H, W)) at metric size: area-averaged, or itself if small enough."""
    size = metric_size((arr.shape[1], arr.shape[0]))
    if size == (arr.shape[1], arr.shape[0]):
        return arr
    pause_point()   # a big job in the app lets waiting small ones go first (colorlab.serving.scheduling)
    return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BOX))


def display_image(image) -> Image.Image:
    """A PIL image or uint8 array at most ``DISPLAY_SIDE`` px on its long side (Lanczos)."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    w, h = img.size
    if max(w, h) <= DISPLAY_SIDE:
        return img
    pause_point()
    f = DISPLAY_SIDE / max(w, h)
    return img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.LANCZOS)


def _rgb(grey: np.ndarray) -> np.ndarray:
    """uint8 (H, W) -> (H, W, 3), the grey in every channel (what the metrics compare)."""
    return np.repeat(grey[..., None], 3, axis=2)


def grey_of(arr: np.ndarray) -> np.ndarray:
    """The grey the model is given for uint8 RGB ``arr`` (H, W, 3), as uint8 RGB (H, W, 3)."""
    return _rgb(tensor_to_array(grey_tensor(arr))[..., 0])


def _upload(img: Image.Image, force_grey: bool = False) -> Upload:
    """``img`` as an Upload; a colour photo (colourfulness above ``COLOUR_THRESHOLD``) keeps
    itself as the reference, unless ``force_grey``."""
    from ..metrics import colorfulness
    arr = np.asarray(img)
    ref_small = metric_view(arr)
    if not force_grey and colorfulness(ref_small) > COLOUR_THRESHOLD:
        return Upload(img, arr, ref_small)
    return Upload(img, None)


# The last few uploads read from a file, by (real path, size, modification time): in the
# app one photo is read again for its preview, each hint placed and each Colorize, and a
# reused Upload also keeps its grey and its grey baseline's scores. A changed file is read
# again; photos over RECENT_UPLOAD_PIXELS are not kept (memory).
_RECENT_UPLOADS = Recent(4)
RECENT_UPLOAD_PIXELS = 4_000_000


def _file_key(src):
    if not isinstance(src, (str, Path)):
        return None
    try:
        st = os.stat(src)
    except OSError:
        return None     # load_image says what is wrong with it
    return os.path.realpath(src), st.st_size, st.st_mtime_ns


def read_upload(src) -> Upload:
    """Load any supported image (raises ``ImageError`` with a user-facing message); a file
    read recently is not read again (``_RECENT_UPLOADS``)."""
    key = _file_key(src)
    upload = None if key is None else _RECENT_UPLOADS.get(key)
    if upload is None:
        upload = _upload(load_image(src))
        if key is not None and upload.size[0] * upload.size[1] <= RECENT_UPLOAD_PIXELS:
            _RECENT_UPLOADS.put(key, upload)
    return upload


def for_display(upload: Upload) -> Upload:
    """``upload`` reduced to display size (itself if it is no larger): what Compare and
    Channels run the models on. Its grey baseline is re-scored on the reduced photo."""
    if not upload.reduced:
        return upload
    return _upload(display_image(upload.image), force_grey=upload.reference is None)   # grey stays grey


def save_png(image: Image.Image, directory: Path, name: str, grey_as_l: bool = False) -> Path:
    """Write ``image`` (PIL or uint8 array) as a PNG without metadata to ``directory/name`` (made
    if needed), lossless at the fastest zlib level (``PNG_LEVEL``). ``grey_as_l``: an RGB image
    whose three channels are equal is stored as one grey channel, the same pixels in a third of
    the bytes and encoding time (for views such as L or S that are grey by construction)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    arr = np.asarray(image)
    if grey_as_l and arr.ndim == 3 and arr.shape[2] == 3 and _channels_equal(arr):
        arr = arr[..., 0]
    pause_point()
    Image.fromarray(np.ascontiguousarray(arr)).save(path, format="PNG", optimize=False, compress_level=PNG_LEVEL)
    return path


def _channels_equal(arr: np.ndarray) -> bool:
    return np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2])


def example_pool(categories=CATEGORIES, root: Path | str = EXAMPLES_DIR):
    """The app's example photos (``examples/<category>/*``), sorted; not the study pool."""
    return shipped_pool(categories, root)


def example_captions(root: Path | str = EXAMPLES_DIR) -> dict[str, str]:
    """What each example photo shows, by photo id (``examples/captions.json``); {} without the file."""
    import json
    try:
        return json.loads((Path(root) / "captions.json").read_text())
    except (OSError, ValueError):
        return {}
