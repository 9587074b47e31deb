"""Robustness: hostile or unusual inputs are either colorized correctly or refused
with a clear error, never a crash, a hang or a silently wrong result.

* Image loading, fuzzed with hypothesis: corrupted and truncated encodings, random
  bytes (bare and behind real format signatures), empty files, decompression bombs,
  extreme shapes, flat images and every PIL mode.
* Checkpoints: tampered weights, a wrong sha256, and a pickle disguised as a
  safetensors file are refused with ``CheckpointError`` and never executed.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import signal
import struct
import zlib
from datetime import timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from colorlab.checkpoints import CheckpointError, get_model, load_checkpoint, sha256_file
from colorlab.imaging import MAX_PIXELS, ImageError, load_image
from colorlab.pipeline import colorize, colorize_batch

FUZZ = settings(max_examples=60, deadline=timedelta(seconds=10), derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HANG_SECONDS = 30   # far above the slowest honest case; a guard against decoder loops
# Pillow warns about the damage it skips over in fuzzed files; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data", "ignore:Truncated File Read",
                                        "ignore:Possibly corrupt EXIF")


@contextlib.contextmanager
def no_hang(seconds: float = HANG_SECONDS):
    """Fail (rather than wait forever) if the body runs longer than ``seconds``."""
    def alarm(signum, frame):
        raise TimeoutError(f"hung for more than {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def models(weights_dir):
    return {space: load_checkpoint(weights_dir / f"{space}-general.safetensors") for space in ("lab", "hsv", "rgb")}


def assert_clear(exc: ImageError) -> None:
    msg = str(exc)
    assert len(msg) >= 10 and " " in msg and "Traceback" not in msg, f"unclear ImageError message: {msg!r}"


def tensor_u8(rgb: torch.Tensor) -> np.ndarray:
    return (rgb[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def colorize_or_refuse(src, model, expected_size=None):
    """Colorize ``src``; it must come back RGB at the input's size, or be refused with
    a clear ``ImageError``. Any other exception propagates and fails the test.
    Returns the output image, or None if refused."""
    with no_hang():
        try:
            size = load_image(src).size if expected_size is None else expected_size
            out = colorize(src, model)
        except ImageError as exc:
            assert_clear(exc)
            return None
    assert out.mode == "RGB"
    assert out.size == size, f"output {out.size} != input {size}"
    return out


# ---------------------------------------------------------------- sample encodings

def _sample(w=24, h=18) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 7 % 256], -1)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@cache
def encodings() -> dict[str, bytes]:
    img = _sample()
    exif = Image.Exif()
    exif[0x0112] = 6   # orientation: rotate 90 degrees
    return {
        "png": encode(img, "PNG"),
        "png-grey16": encode(Image.fromarray((np.arange(18 * 24).reshape(18, 24) * 150).astype(np.uint16)), "PNG"),
        "png-palette": encode(img.quantize(16), "PNG"),
        "png-rgba": encode(img.convert("RGBA"), "PNG"),
        "jpeg": encode(img, "JPEG", quality=90),
        "jpeg-progressive-exif": encode(img, "JPEG", progressive=True, exif=exif.tobytes()),
        "jpeg-cmyk": encode(img.convert("CMYK"), "JPEG"),
        "gif": encode(img.quantize(32), "GIF"),
        "bmp": encode(img, "BMP"),
        "tiff": encode(img, "TIFF", compression="tiff_deflate"),
        "webp": encode(img, "WEBP", quality=80),
    }


SIGNATURES = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb", b"GIF89a", b"GIF87a", b"BM",
              b"II*\x00", b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"\x00\x00\x01\x00", b"P6\n", b"P5\n",
              b"icns", b"8BPS", b"\x00\x00\x00\x0cjP  \r\n\x87\n"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(w: int, h: int, raw: bytes = b"", depth: int = 8, colour_type: int = 0, extra: bytes = b"") -> bytes:
    """A PNG with any header we like (sizes need not match the data)."""
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


# ---------------------------------------------------------------- fuzzing

@FUZZ
@given(kind=st.sampled_from(sorted(encodings())), data=st.data(), space=st.sampled_from(["lab", "hsv", "rgb"]))
def test_corrupted_encodings_are_colorized_or_refused(models, kind, data, space):
    raw = bytearray(encodings()[kind])
    how = data.draw(st.sampled_from(["truncate", "flip", "overwrite", "splice"]), label="how")
    if how == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1), label="cut")]
    elif how == "flip":
        for pos in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=8), label="positions"):
            raw[pos] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    elif how == "overwrite":
        pos = data.draw(st.integers(0, len(raw) - 1), label="pos")
        chunk = data.draw(st.binary(min_size=1, max_size=16), label="bytes")
        raw[pos:pos + len(chunk)] = chunk
    else:
        pos = data.draw(st.integers(0, len(raw)), label="pos")
        raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=64), label="inserted")
    colorize_or_refuse(bytes(raw), models[space])


@FUZZ
@given(blob=st.binary(max_size=4096))
def test_random_bytes_are_refused(models, blob):
    colorize_or_refuse(blob, models["lab"])


@FUZZ
@given(magic=st.sampled_from(SIGNATURES), blob=st.binary(max_size=2048))
def test_random_bytes_behind_a_real_signature(models, magic, blob):
    """Random data after a format's magic number reaches deep into that format's parser."""
    colorize_or_refuse(magic + blob, models["hsv"])


@pytest.mark.parametrize("kind", sorted(encodings()))
def test_clean_encodings_keep_their_size(models, kind):
    expected = (18, 24) if kind == "jpeg-progressive-exif" else (24, 18)   # EXIF 6: shown upright
    for model in models.values():
        assert colorize_or_refuse(encodings()[kind], model, expected) is not None


# ---------------------------------------------------------------- empty and missing

def test_empty_inputs_are_refused(models, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for src in (b"", empty, io.BytesIO(b""), tmp_path / "missing.jpg", tmp_path):
        with pytest.raises(ImageError) as info:
            colorize(src, models["lab"])
        assert_clear(info.value)


# ---------------------------------------------------------------- decompression bombs

@pytest.mark.parametrize("w,h", [(100_000, 100_000), (10_000, 10_000), (8_000, 5_200), (65_535, 1_000)])
def test_png_bombs_are_refused_before_decoding(models, w, h):
    """A tiny file whose header claims more than MAX_PIXELS: refused from the header alone."""
    assert w * h > MAX_PIXELS
    with no_hang(10):
        with pytest.raises(ImageError, match="megapixel"):
            colorize(png_bytes(w, h), models["lab"])


def test_jpeg_and_gif_bombs_are_refused(models):
    jpeg = bytearray(encodings()["jpeg"])
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 65_000, 65_000)   # height, width
    gif = bytearray(encodings()["gif"])
    gif[6:10] = struct.pack("<HH", 65_535, 65_535)               # logical screen
    idx = gif.index(b"\x2c")                                     # first image descriptor
    gif[idx + 5:idx + 9] = struct.pack("<HH", 65_535, 65_535)
    for blob in (bytes(jpeg), bytes(gif)):
        with no_hang(10), pytest.raises(ImageError) as info:
            colorize(blob, models["lab"])
        assert_clear(info.value)


def test_compressed_metadata_bombs_are_refused_or_ignored(models):
    """zTXt / iCCP chunks that inflate to 50 MB: either skipped or refused, never inflated."""
    for kind, prefix in ((b"zTXt", b"comment\0\0"), (b"iCCP", b"icc\0\0")):
        bomb = _chunk(kind, prefix + zlib.compress(b"\0" * 50_000_000, 9))
        colorize_or_refuse(png_bytes(4, 3, b"\0" * 5 * 3, extra=bomb), models["lab"])


def test_pixel_limit_is_enforced_for_pil_images_too(models):
    img = Image.new("L", (1, 1))
    img._size = (MAX_PIXELS + 1, 1)   # a PIL image that claims to be too big; never decoded
    with pytest.raises(ImageError, match="megapixel"):
        colorize(img, models["lab"])


# ---------------------------------------------------------------- shapes, tones, modes

@pytest.mark.parametrize("size", [(1, 1), (1, 4000), (4000, 1), (2, 3), (33, 1), (1, 65)])
@pytest.mark.parametrize("space", ["lab", "hsv", "rgb"])
def test_extreme_shapes(models, size, space):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, size[::-1], dtype=np.uint8), "L")
    colorize_or_refuse(img, models[space], size)
    colorize_or_refuse(encode(img, "PNG"), models[space], size)


@pytest.mark.parametrize("value", [0, 255])
@pytest.mark.parametrize("space", ["lab", "hsv", "rgb"])
def test_flat_black_and_white(models, value, space):
    img = Image.new("L", (40, 30), value)
    out = np.asarray(colorize_or_refuse(img, models[space], (40, 30)), dtype=int)
    from colorlab.pipeline import predict
    raw = predict(models[space], torch.full((1, 1, 30, 40), value / 255))   # float, before 8-bit rounding
    assert torch.isfinite(raw).all() and raw.min() >= 0 and raw.max() <= 1
    assert np.abs(out - np.asarray(Image.fromarray(tensor_u8(raw)))).max() <= 1
    if space in ("lab", "hsv"):
        # L* 0 or 100 has no chroma inside sRGB: gamut mapping leaves exactly black or white
        assert np.abs(out - value).max() <= 1, f"{space}: flat {value} came back {out.min()}..{out.max()}"


def _mode_image(mode: str) -> Image.Image:
    grey = np.asarray(_sample().convert("L"))
    if mode == "I;16":
        return Image.fromarray(grey.astype(np.uint16) * 257)
    if mode == "I":
        return Image.fromarray(grey.astype(np.int32) * 1000 - 5000)   # negative values too
    if mode == "F":
        arr = grey.astype(np.float32) / 255
        arr[0, :3] = (np.nan, np.inf, -np.inf)
        return Image.fromarray(arr)
    return _sample().convert(mode)


MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV",
         "I", "I;16", "F"]


@pytest.mark.parametrize("mode", MODES)
def test_every_pil_mode(models, mode):
    img = _mode_image(mode)
    assert img.mode == mode
    colorize_or_refuse(img, models["lab"], (24, 18))


@pytest.mark.parametrize("mode,fmt", [("I;16", "PNG"), ("I;16", "TIFF"), ("F", "TIFF"), ("I", "TIFF"),
                                      ("CMYK", "TIFF"), ("CMYK", "JPEG"), ("LA", "PNG"),
                                      ("1", "PNG"), ("P", "GIF"), ("RGBA", "WEBP")])
def test_modes_through_files(models, mode, fmt):
    colorize_or_refuse(encode(_mode_image(mode), fmt), models["hsv"], (24, 18))


def test_palette_with_transparency(models):
    img = _sample().quantize(16)
    img.info["transparency"] = 3
    blob = encode(img, "PNG", transparency=3)
    assert Image.open(io.BytesIO(blob)).info.get("transparency") == 3
    colorize_or_refuse(blob, models["lab"], (24, 18))


def test_sixteen_bit_colour_png(models):
    """A 48-bit RGB PNG (Pillow reads it as 8-bit RGB) keeps its size and its high bytes."""
    w, h = 5, 3
    raw = b"".join(b"\0" + b"\x80\x01\x20\x02\xf0\x03" * w for _ in range(h))
    blob = png_bytes(w, h, raw, depth=16, colour_type=2)
    assert load_image(blob).getpixel((0, 0)) == (0x80, 0x20, 0xF0)
    colorize_or_refuse(blob, models["rgb"], (w, h))


def test_batch_reports_bad_inputs_in_place(models):
    good = encodings()["png"]
    out = colorize_batch([good, b"", b"\x89PNG\r\n\x1a\nxx", good[:40], good], models["lab"])
    assert [type(o).__name__ for o in out] == ["Image", "ImageError", "ImageError", "ImageError", "Image"]
    assert all(o.size == (24, 18) for o in (out[0], out[4]))


# ---------------------------------------------------------------- checkpoints

def _copy_checkpoint(weights_dir: Path, dst: Path, name: str = "lab-general") -> Path:
    for ext in (".safetensors", ".json"):
        shutil.copy(weights_dir / f"{name}{ext}", dst / f"{name}{ext}")
    return dst / f"{name}.safetensors"


def _set_sidecar(path: Path, **changes) -> None:
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta.update(changes)
    side.write_text(json.dumps(meta))


def test_tampered_weights_are_refused(weights_dir, tmp_path):
    path = _copy_checkpoint(weights_dir, tmp_path)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF   # inside the last tensor: still a valid safetensors file
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="sha256"):
        get_model(str(path))


def test_wrong_sha256_in_sidecar_is_refused(weights_dir, tmp_path):
    path = _copy_checkpoint(weights_dir, tmp_path)
    _set_sidecar(path, sha256="0" * 64)
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)
    _set_sidecar(path, sha256=None)
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)


class _Payload:
    """Unpickling this creates ``marker``: proof that a loader executed pickled code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_pickle_disguised_as_checkpoint_is_never_executed(weights_dir, tmp_path, writer):
    marker = tmp_path / "pwned"
    path = _copy_checkpoint(weights_dir, tmp_path)
    payload = {"encoder.0.0.weight": _Payload(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    _set_sidecar(path, sha256=sha256_file(path), size_bytes=path.stat().st_size)   # the hash check passes
    for load in (load_checkpoint, lambda p: get_model(str(p))):
        with pytest.raises(CheckpointError, match="safetensors"):
            load(path)
    assert not marker.exists(), "the pickle payload was executed"
    # The payload is live: unpickling it (what torch.load(weights_only=False) would do) fires it.
    pickle.loads(pickle.dumps(_Payload(marker))).close()
    assert marker.exists()


def test_truncated_and_oversized_headers_are_refused(weights_dir, tmp_path):
    path = _copy_checkpoint(weights_dir, tmp_path)
    for blob in (path.read_bytes()[:100], struct.pack("<Q", 1 << 62) + b"{}", b""):
        path.write_bytes(blob)
        _set_sidecar(path, sha256=sha256_file(path))
        with pytest.raises(CheckpointError):
            load_checkpoint(path)


def test_sidecar_naming_an_unknown_architecture_is_refused(weights_dir, tmp_path):
    path = _copy_checkpoint(weights_dir, tmp_path)
    for bad in ({"architecture": "os.system"}, {"space": "xyz"}, {"arch_kwargs": {"no_such": 1}}):
        _copy_checkpoint(weights_dir, tmp_path)
        _set_sidecar(path, **bad)
        with pytest.raises(CheckpointError, match="sidecar"):
            load_checkpoint(path)
    os.remove(path.with_suffix(".json"))
    with pytest.raises(CheckpointError, match="sidecar"):
        load_checkpoint(path)
