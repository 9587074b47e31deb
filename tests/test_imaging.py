"""colorlab.imaging: every PIL mode to 8-bit RGB, EXIF orientation, and refusing bad files."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.imaging import (
    ImageError,
    array_to_tensor,
    find_images,
    load_image,
    pil_to_tensor,
    tensor_to_array,
    tensor_to_pil,
)


def tiff_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "TIFF")   # TIFF stores every mode below as it is
    return buf.getvalue()


def palette_image():
    img = Image.new("P", (4, 3), 1)
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    return img


# (image, the RGB every pixel must load as)
MODES = {
    "1": (Image.new("1", (4, 3), 1), (255, 255, 255)),
    "L": (Image.new("L", (4, 3), 100), (100, 100, 100)),
    "LA opaque": (Image.new("LA", (4, 3), (100, 255)), (100, 100, 100)),
    "LA clear": (Image.new("LA", (4, 3), (100, 0)), (255, 255, 255)),     # alpha composited on white
    "RGB": (Image.new("RGB", (4, 3), (10, 20, 30)), (10, 20, 30)),
    "RGBA half": (Image.new("RGBA", (4, 3), (255, 0, 0, 128)), (255, 127, 127)),
    "P": (palette_image(), (10, 200, 30)),
    "I;16": (Image.new("I;16", (4, 3), 32768), (128, 128, 128)),         # 16-bit: 65535 is white
    "I 8-bit range": (Image.new("I", (4, 3), 200), (200, 200, 200)),
    "I 16-bit range": (Image.new("I", (4, 3), 65535), (255, 255, 255)),
    "F unit": (Image.new("F", (4, 3), 0.5), (128, 128, 128)),             # floats in [0, 1]
    "F 8-bit range": (Image.new("F", (4, 3), 200.0), (200, 200, 200)),
    "CMYK": (Image.new("CMYK", (4, 3), (0, 0, 0, 0)), (255, 255, 255)),
}


@pytest.mark.parametrize("case", sorted(MODES))
def test_every_mode_loads_as_rgb(case):
    img, expected = MODES[case]
    for src in (img, tiff_bytes(img)):
        out = load_image(src)
        assert out.mode == "RGB" and out.size == (4, 3)
        arr = np.asarray(out).astype(int)
        assert np.abs(arr - expected).max() <= 1, (case, arr[0, 0])


def test_load_from_path_and_file_object(tmp_path, photo):
    path = tmp_path / "p.png"
    photo.save(path)
    for src in (path, str(path), open(path, "rb"), path.read_bytes()):
        np.testing.assert_array_equal(np.asarray(load_image(src)), np.asarray(photo))


def test_exif_orientation_is_applied():
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:10, :10] = (255, 0, 0)             # red marker at the top left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6                        # orientation 6: display rotated 90 degrees clockwise
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", exif=exif, quality=95)
    out = load_image(buf.getvalue())
    assert out.size == (20, 40)             # width and height swapped
    top_right = np.asarray(out)[2, -3]
    assert top_right[0] > 200 and top_right[1] < 60   # the marker turned with the picture


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        load_image(empty)


def test_corrupt_and_unsupported_files(tmp_path, photo):
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(text)
    with pytest.raises(ImageError, match="not a readable image") as info:
        load_image(text.read_bytes())
    assert "0x" not in str(info.value)      # no Python object reprs in a user-facing message
    buf = io.BytesIO()
    photo.save(buf, "PNG")
    with pytest.raises(ImageError):         # truncated: the header parses, the pixels do not
        load_image(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError):
        load_image(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)


def test_pixel_limit(photo):
    assert load_image(photo, max_pixels=96 * 72).size == (96, 72)
    with pytest.raises(ImageError, match="megapixels; the limit"):
        load_image(photo, max_pixels=96 * 72 - 1)


def test_array_tensor_round_trip(photo):
    arr = np.asarray(photo)
    t = array_to_tensor(arr)
    assert t.shape == (1, 3, 72, 96) and t.dtype == torch.float32 and 0 <= t.min() and t.max() <= 1
    np.testing.assert_array_equal(tensor_to_array(t), arr)
    np.testing.assert_array_equal(np.asarray(tensor_to_pil(pil_to_tensor(photo))), arr)
    assert tensor_to_pil(torch.full((1, 1, 2, 3), 0.5)).mode == "L"
    np.testing.assert_array_equal(tensor_to_array(torch.tensor([-1.0, 2.0]).view(1, 1, 1, 2)), [[[0], [255]]])


def test_find_images(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("z.PNG", "a/x.jpg", "a/b/y.webp", "a/notes.txt", "a/b/c.tif"):
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path)]
    assert found == ["a/b/c.tif", "a/b/y.webp", "a/x.jpg", "z.PNG"]
    with pytest.raises(FileNotFoundError):
        find_images(tmp_path / "nope")
