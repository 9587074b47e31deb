"""Loading images safely and moving them between PIL, numpy and torch.

``load_image`` accepts any PIL mode (L, LA, RGB, RGBA, P, I;16, I, F, CMYK, ...),
applies the EXIF orientation, and refuses corrupt, truncated or oversized files with
an ``ImageError`` that says what is wrong.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from .serving.limits import MAX_PIXELS  # 40 megapixels (docs/space.md)

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


class ImageError(ValueError):
    """An input image that cannot be used; the message is meant for the user."""


def _open(src) -> Image.Image:
    if isinstance(src, Image.Image):
        return src
    if isinstance(src, (bytes, bytearray)):
        src = io.BytesIO(src)
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.is_file():
            raise ImageError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(src)
            img.size  # noqa: B018  (header parsed)
            return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image is larger than the {MAX_PIXELS // 1_000_000} megapixel limit") from None
    except Image.UnidentifiedImageError:
        # PIL's own message embeds a file object's repr; say what the user needs to know.
        raise ImageError("not a readable image (unknown format or corrupt header)") from None
    except Exception as exc:  # noqa: BLE001 - any failure to parse is the file's fault
        raise ImageError(f"not a readable image ({exc})") from None


def find_images(root) -> list[Path]:
    """Image files (by extension, ``IMAGE_EXTS``) anywhere under folder ``root``, sorted.
    Raises ``FileNotFoundError`` if ``root`` is not a folder."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit RGB. 16-bit and float greys are rescaled, alpha is composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.array(img, dtype=np.float32)   # float32: exact for 16-bit, half the memory of float64
        arr[np.isnan(arr)] = 0
        peak = float(arr[np.isfinite(arr)].max(initial=0.0))
        top = 65535.0 if img.mode.startswith("I;16") or peak > 255 else 255.0
        if img.mode == "F" and peak <= 1.0:
            top = 1.0
        arr *= np.float32(255.0 / top)
        arr += np.float32(0.5)
        arr = np.clip(arr, 0, 255, out=arr).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if img.mode == "La":   # premultiplied alpha: PIL converts it only to LA
        img = img.convert("LA")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("RGB")
    return img.convert("RGB")


def load_image(src, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Path, bytes, file object or PIL image -> upright 8-bit RGB PIL image.

    Raises ``ImageError`` for missing, empty, corrupt, truncated or unsupported
    files and for images above ``max_pixels``.
    """
    img = _open(src)
    w, h = img.size
    if w < 1 or h < 1:
        raise ImageError("image has no pixels")
    if w * h > max_pixels:
        raise ImageError(f"image is {w}x{h} = {w * h / 1e6:.1f} megapixels; the limit is {max_pixels / 1e6:.0f}")
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
        return to_rgb(img)
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's fault
        raise ImageError(f"could not decode image ({exc})") from None


def image_pixels(src) -> int:
    """A file's pixel count from its header alone (0 if it is not a readable image)."""
    try:
        img = _open(src)
    except (ImageError, OSError):
        return 0
    try:
        return img.size[0] * img.size[1]
    finally:
        if img is not src:
            img.close()


def load_reduced(src, max_pixels: int, limit: int = MAX_PIXELS) -> Image.Image:
    """Like ``load_image``, but the image comes back at most ``max_pixels`` (area-averaged,
    aspect kept): for statistics that do not need every pixel. A JPEG is decoded at a reduced
    scale directly (PIL's ``draft``), so a 40-MP photo never exists at full size in memory;
    other formats are decoded, then reduced. ``limit`` bounds the file's own pixel count."""
    img = _open(src)
    w, h = img.size
    if w < 1 or h < 1:
        raise ImageError("image has no pixels")
    if w * h > limit:
        raise ImageError(f"image is {w}x{h} = {w * h / 1e6:.1f} megapixels; the limit is {limit / 1e6:.0f}")
    f = min(1.0, (max_pixels / (w * h)) ** 0.5)
    try:
        if img.format == "JPEG" and f < 1:
            img.draft("RGB", (max(1, int(w * f)), max(1, int(h * f))))   # scale >= the size asked
        img.load()
        factor = int(img.size[0] / max(1.0, f * w))   # what the draft did not reduce yet
        if factor > 1 and img.mode in ("L", "RGB", "RGBA", "LA", "I", "F", "CMYK"):
            img = img.reduce(factor)    # box-averaged before any conversion: no full-size copy
        img = to_rgb(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's fault
        raise ImageError(f"could not decode image ({exc})") from None
    w, h = img.size
    if w * h > max_pixels:
        f = (max_pixels / (w * h)) ** 0.5
        img = img.resize((max(1, int(w * f)), max(1, int(h * f))), Image.Resampling.BOX)
    return img


def array_to_tensor(arr: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, C) -> float32 (1, C, H, W) in [0, 1]."""
    return torch.from_numpy(np.require(arr, requirements=("C", "W"))).permute(2, 0, 1).unsqueeze(0).float().div_(255)


def tensor_to_array(t: torch.Tensor) -> np.ndarray:
    """float (1, C, H, W) in [0, 1] -> uint8 (H, W, C), rounded."""
    return t[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    return array_to_tensor(np.asarray(img.convert("RGB")))


def tensor_to_pil(t: torch.Tensor) -> Image.Image:
    arr = tensor_to_array(t)
    return Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
