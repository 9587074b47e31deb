"""Big photos on a shared CPU: bounded metric and display sizes, lossless fast PNGs, quick jobs
ahead of Compare's next model, and the server's memory for a 12-MP Compare."""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apphelp import ROOT
from bench import run as bench
from colorlab.serving import runs, uploads
from colorlab.serving.scheduling import CpuGate
from colorlab.tools import appserver


def colourful(w, h, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)


def test_metrics_are_computed_at_the_bounded_resolution(monkeypatch):
    seen = []
    import colorlab.metrics as metrics
    real = metrics.score
    monkeypatch.setattr(metrics, "score", lambda p, t: seen.append((p.shape, t.shape)) or real(p, t))
    upload = uploads.read_upload(colourful(2400, 1600))
    assert not seen   # the grey baseline is scored when first asked for, once
    assert upload.grey_scores is upload.grey_scores
    runs.score_result(np.asarray(colourful(2400, 1600, 1)), upload)
    assert len(seen) == 2   # the grey baseline, then the prediction
    for pred, truth in seen:
        assert pred == truth and pred[0] * pred[1] <= uploads.METRIC_PIXELS
        assert pred[1] / pred[0] == pytest.approx(1.5, abs=0.01)
    small = uploads.read_upload(colourful(120, 90))
    assert small.metric_reference.shape == (90, 120, 3)   # small photos are scored as they are


def test_display_size_and_the_reduced_upload():
    upload = uploads.read_upload(colourful(3000, 2000))
    assert upload.reduced and upload.size == (3000, 2000)
    shown = uploads.for_display(upload)
    assert shown.size == (uploads.DISPLAY_SIDE, round(2000 * uploads.DISPLAY_SIDE / 3000))
    assert shown.reference is not None and shown.grey.shape[:2] == shown.reference.shape[:2]
    assert max(uploads.display_image(upload.grey).size) == uploads.DISPLAY_SIDE
    small = uploads.read_upload(colourful(200, 100))
    assert uploads.for_display(small) is small and not small.reduced
    grey = uploads.read_upload(colourful(3000, 2000).convert("L"))
    assert uploads.for_display(grey).reference is None


def test_pngs_are_lossless(tmp_path):
    arr = np.random.default_rng(3).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    path = uploads.save_png(Image.fromarray(arr), tmp_path, "x.png")
    np.testing.assert_array_equal(np.asarray(Image.open(path)), arr)


def zlib_level_class(path) -> int:
    """The FLEVEL bits of the PNG's zlib stream header (RFC 1950): 0 for zlib levels 0-1, 1 for
    2-5, 2 for 6 (the default), 3 for 7-9."""
    data = Path(path).read_bytes()
    start = data.index(b"IDAT") + 4
    return data[start + 1] >> 6


def test_pngs_are_written_at_the_fastest_zlib_level_that_compresses(tmp_path):
    # docs/space.md: lossless, written at zlib level 1 (level 6 costs several times the time)
    y, x = np.mgrid[0:64, 0:80]
    smooth = np.stack([x * 3, y * 4, (x + y) * 2], -1).astype(np.uint8)
    for kw in ({}, {"grey_as_l": True}):
        path = uploads.save_png(smooth, tmp_path, "s.png", **kw)
        assert zlib_level_class(path) == 0, "not written at the fastest zlib level"
        assert path.stat().st_size < smooth.nbytes / 10, "not compressed at all (level 0)"


def test_grey_pngs_are_one_channel_only_when_asked_and_still_lossless(tmp_path):
    rng = np.random.default_rng(4)
    grey = np.repeat(rng.integers(0, 256, (40, 50, 1), dtype=np.uint8), 3, axis=2)
    colour = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    for arr, want in ((grey, "L"), (colour, "RGB")):
        img = Image.open(uploads.save_png(arr, tmp_path, "v.png", grey_as_l=True))
        assert img.mode == want
        np.testing.assert_array_equal(np.asarray(img.convert("RGB")), arr)
    assert Image.open(uploads.save_png(grey, tmp_path, "g.png")).mode == "RGB"   # by default as given


def test_the_uploads_grey_is_made_once_and_is_the_models_grey():
    from colorlab.colorspaces import rgb_to_grey
    from colorlab.imaging import array_to_tensor, tensor_to_array
    img = colourful(300, 200)
    upload = uploads.read_upload(img)
    assert upload.grey_tensor is upload.grey_tensor and upload.grey_channel is upload.grey_channel
    want = tensor_to_array(rgb_to_grey(array_to_tensor(np.asarray(img))).expand(-1, 3, -1, -1))
    np.testing.assert_array_equal(upload.grey, want)
    np.testing.assert_array_equal(uploads.grey_of(np.asarray(img)), want)
    from colorlab.metrics import score
    assert upload.grey_scores == score(uploads.metric_view(want), uploads.metric_view(np.asarray(img)))


def test_a_quick_job_waits_for_one_step_of_a_long_one_not_all_of_it():
    gate, events, step = CpuGate(1), [], 0.15

    def long_job():
        for i in range(6):
            with gate.step():
                events.append(("long", i))
                time.sleep(step)

    t = threading.Thread(target=long_job)
    t.start()
    time.sleep(step * 1.5)                 # the long job is in its second step
    t0 = time.perf_counter()
    with gate.quick():
        waited = time.perf_counter() - t0
        events.append(("quick", None))
    t.join()
    assert waited < 2 * step, waited
    assert events.index(("quick", None)) <= 3, events   # between steps, not after all six
    with pytest.raises(ValueError):
        CpuGate(0)


def test_a_waiting_quick_job_goes_before_the_next_step_of_a_long_one():
    """Without timing: a long job ends a step and at once asks for its next one while a quick job
    waits; the quick job goes first. A 10 s switch interval keeps this thread on the CPU from the
    end of one step to the next, so a gate that let the long job go on would do it every time."""
    gate, order = CpuGate(1), []

    def quick():
        with gate.quick():
            order.append("quick")

    waiter = threading.Thread(target=quick)
    interval = sys.getswitchinterval()
    try:
        with gate.step():
            order.append("step 1")
            waiter.start()
            deadline = time.monotonic() + 10
            while not gate._small_waiting and time.monotonic() < deadline:
                time.sleep(0.005)
            assert gate._small_waiting == 1
            sys.setswitchinterval(10)
        with gate.step():
            order.append("step 2")
    finally:
        sys.setswitchinterval(interval)
    waiter.join(10)
    assert order == ["step 1", "quick", "step 2"], order


@pytest.mark.slow
def test_a_12_megapixel_compare_stays_under_the_memory_target(tmp_path):
    """Compare on a 12-MP colour photo through the app with every shipped model: the server's
    peak resident memory (VmHWM, the whole process) stays under 1.5 GB."""
    pytest.importorskip("gradio_client")
    from gradio_client import Client, handle_file
    photo = tmp_path / "big.jpg"
    bench.colour_photo(4000, 3000).save(photo, quality=92)
    with appserver.running(log_path=tmp_path / "app.log", weights=ROOT / "weights",
                           data_dir=tmp_path / "data") as server:
        client = Client(server.url, verbose=False, download_files=str(tmp_path / "downloads"))
        grid, table, note = client.predict(handle_file(str(photo)), 0, 1.0, api_name="/compare")
        assert len(grid) == len(list((ROOT / "weights").glob("*.safetensors")))
        for cell in grid[:2]:
            assert max(Image.open(cell["image"]).size) == uploads.DISPLAY_SIDE
        assert "PSNR" in grid[0]["caption"] and "MP" in note
        peak = bench.proc_status_mb(server.proc.pid, "VmHWM")
        assert peak is not None and peak <= bench.BIG_PEAK_TARGET_MB, f"server peak {peak:.0f} MB"


def test_a_file_read_again_is_the_same_upload_until_it_changes(tmp_path):
    path = tmp_path / "photo.png"
    colourful(200, 100).save(path)
    first = uploads.read_upload(str(path))
    first.grey_scores                                    # worked out once ...
    again = uploads.read_upload(path)
    assert again is first and "scores" in again._made    # ... and kept with the upload
    colourful(120, 90).save(path)                        # the file changed: read afresh
    os.utime(path, ns=(1, 1))
    assert uploads.read_upload(str(path)).size == (120, 90)
    big = tmp_path / "big.png"
    colourful(2600, 2000).save(big, compress_level=1)    # over 4 MP: not kept (memory); level 1: 1 s, not 3
    assert uploads.read_upload(str(big)) is not uploads.read_upload(str(big))


def test_the_documented_sizes_shown_and_scored():
    # docs/space.md: what is shown is at most 1280 px on the long side, metrics at most 0.26 MP
    assert uploads.display_image(Image.new("RGB", (2560, 1000))).size == (1280, 500)
    assert uploads.display_image(Image.new("RGB", (1000, 1280))).size == (1000, 1280)
    w, h = uploads.metric_size((2048, 2048))
    assert (w, h) == (512, 512) and uploads.metric_size((400, 300)) == (400, 300)
