"""The overall tint's controls in numbers: where it starts, its strength, one taken from a photo.

The app's tint starts at the current result's own cast (its mean CIE a, b), so that turning
it on changes nothing; the picker then chooses a target and the strength (0-1) how far the
applied tint goes from that cast towards it (``colorlab.hints.blend_tint``). A tint taken
from a colour photo is cut to a plausible chroma (``MAX_TINT_CHROMA``) and shown, on a small
copy of the result, before it is applied. The hints' JSON holds the applied tint only.
Nothing here knows about Gradio.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..colorspaces import lab_to_rgb_in_gamut, rgb_to_lab
from ..hints import blend_tint, chroma_of, colour_to_ab, tint_of, to_hex
from ..hints.spec import MAX_TINT_CHROMA
from ..imaging import array_to_tensor, load_reduced, tensor_to_array
from .limits import TINT_PIXELS

PREVIEW_SIDE = 256      # long side of the preview of a tint on the result
AGREE = 0.75            # CIE a, b units within which two tints count as the same (hex rounding is ~0.5)


def cast_of(image) -> str:
    """The cast of a result (PIL image or uint8 (H, W, 3) array): a colour with its mean CIE
    a, b, not cut (``tint_of(.., None)``); "#rrggbb"."""
    arr = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
    return tint_of(arr[..., :3], None)


def applied(cast: str | None, target: str, strength: float) -> str:
    """The tint the hints get: ``cast`` moved ``strength`` in [0, 1] of the way to ``target``
    in CIE a, b (no cast known: the target itself)."""
    return blend_tint(cast or target, target, float(strength))


def same_tint(a, b) -> bool:
    """Whether two colours are the same tint (CIE a, b within ``AGREE``)."""
    if a is None or b is None:
        return a is None and b is None
    return bool(np.hypot(*np.subtract(colour_to_ab(a), colour_to_ab(b))) <= AGREE)


def controls_for(tint, cast, target, strength) -> tuple[str, float] | None:
    """What the picker and the strength show for the hints' ``tint`` (from the JSON): None if
    they already make it (``applied(cast, target, strength)``); else the tint itself at
    strength 1 (e.g. one typed into the JSON, or from a suggested look)."""
    if tint is None:
        return None
    try:
        if target is not None and same_tint(applied(cast, target, strength), tint):
            return None
    except ValueError:
        pass
    return to_hex(tint), 1.0


@dataclass(frozen=True)
class PhotoTint:
    """A tint taken from a colour photo: ``colour`` (its mean a, b cut to ``MAX_TINT_CHROMA``),
    the photo's own ``chroma`` (uncut) and whether it was cut."""
    colour: str
    chroma: float
    cut: bool

    def note(self) -> str:
        text = f"The photo's cast: **{self.colour}**"
        if self.cut:
            text += f" (its chroma {self.chroma:.0f} cut to {MAX_TINT_CHROMA:.0f}, a plausible cast)"
        return text + "."


def photo_tint(src) -> PhotoTint:
    """The tint of a colour photo (path or file), measured at ``TINT_PIXELS`` at most; raises
    ``colorlab.imaging.ImageError`` for an unusable file."""
    arr = np.asarray(load_reduced(src, TINT_PIXELS))
    raw = chroma_of(tint_of(arr, None))
    return PhotoTint(tint_of(arr), raw, raw > MAX_TINT_CHROMA)


def preview(image, tint, side: int = PREVIEW_SIDE) -> np.ndarray:
    """A small copy of a result (PIL image or uint8 array) with its cast moved to ``tint``, as
    the pipeline applies a tint (a shift of every pixel's a, b, then back into gamut); uint8
    (h, w, 3) at most ``side`` px on the long side. An estimate: a run also lets the network
    use the tint."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image)[..., :3])
    img = img.convert("RGB")
    img.thumbnail((side, side), Image.Resampling.BOX)
    lab = rgb_to_lab(array_to_tensor(np.asarray(img)))
    shift = torch.tensor(colour_to_ab(tint), dtype=lab.dtype).view(1, 2, 1, 1) - lab[:, 1:].mean((2, 3), keepdim=True)
    lab[:, 1:] += shift
    return tensor_to_array(lab_to_rgb_in_gamut(lab).clamp(0, 1))


__all__ = ["AGREE", "PREVIEW_SIDE", "PhotoTint", "applied", "cast_of", "controls_for", "photo_tint", "preview",
           "same_tint"]
