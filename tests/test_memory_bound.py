"""Memory bounded by design (issue 20, docs/space.md): each check runs in a child process whose
address space is capped (RLIMIT_AS), so a regression fails with an allocation error instead
of taking the machine's memory, and reports the child's peak resident memory."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 ** 2


def run_capped(code: str, headroom_mb: int, timeout: float = 600) -> dict:
    """Run ``code`` (it defines ``work()``, returning a JSON-able dict) in a child; the child's
    address space may grow by ``headroom_mb`` beyond what it had before ``work()``. Returns
    the result with ``grew_mb``: the growth of the peak resident memory during ``work()``."""
    script = textwrap.dedent("""
        import json, resource, sys
        {code}
        def vm_kb():
            for line in open("/proc/self/status"):
                if line.startswith("VmSize:"):
                    return int(line.split()[1])
        prepare() if "prepare" in globals() else None
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cap = (vm_kb() + {headroom} * 1024) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        try:
            out = work()
        except (MemoryError, RuntimeError) as exc:
            print(json.dumps({{"error": str(exc)[:200]}})); sys.exit(0)
        out["grew_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps(out))
    """).format(code=textwrap.dedent(code), headroom=headroom_mb)
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                         env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_256_points_hint_maps_stay_within_their_band_budget():
    """256 guided points at 512 x 512 (the network's largest area at 256 points): the maps and
    the confidence take a few MB of temporaries, not 256 x 512 x 512 floats per step (about 1.5 GB)."""
    out = run_capped("""
        import numpy as np, torch
        from colorlab.hints import confidence, hint_maps, make_hints
        def prepare():
            global hints, light
            rng = np.random.default_rng(0)
            hints = make_hints([(float(x), float(y), "#c08040") for x, y in rng.random((256, 2))])
            light = torch.rand(1, 1, 512, 512) * 100
        def work():
            maps = hint_maps(hints, (512, 512), 1, light)
            conf = confidence(hints, light)
            return {"shape": list(maps.shape), "finite": bool(maps.isfinite().all() and conf.isfinite().all())}
    """, headroom_mb=600)
    assert "error" not in out, out
    assert out["shape"] == [1, 9, 512, 512] and out["finite"]
    assert out["grew_mb"] < 150, out     # maps 9 MB + confidence 1 MB + band temporaries (8 MiB each)


def test_tint_of_a_40_megapixel_photo_is_taken_at_a_reduced_size(tmp_path):
    """The tint reference is decoded and measured at TINT_PIXELS: +2.4 GB at full size before
    (four at once peaked at 6.8 GB and 3 of 4 failed)."""
    h, w = 5470, 7300
    y, x = np.mgrid[0:h:16, 0:w:16]
    small = np.stack([x * 255 // w, y * 255 // h, 128 + 0 * x], -1).astype(np.uint8)
    path = tmp_path / "big.jpg"
    Image.fromarray(small.repeat(16, 0).repeat(16, 1)[:h, :w]).save(path, quality=80)
    out = run_capped(f"""
        import numpy as np
        from colorlab.hints import tint_of
        from colorlab.imaging import load_reduced
        from colorlab.serving.limits import TINT_PIXELS
        def work():
            img = load_reduced({str(path)!r}, TINT_PIXELS)
            return {{"tint": tint_of(np.asarray(img)), "pixels": img.size[0] * img.size[1]}}
    """, headroom_mb=800)
    assert "error" not in out, out
    assert out["pixels"] <= 1_000_000 and out["tint"].startswith("#")
    assert out["grew_mb"] < 150, out     # the photo at full size is 120 MB as uint8 alone
    # four at once (the app runs them one by one in the CPU gate; the library alone must cope too)
    four = run_capped(f"""
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        from colorlab.hints import tint_of
        from colorlab.imaging import load_reduced
        from colorlab.serving.limits import TINT_PIXELS
        def one(_):
            return tint_of(np.asarray(load_reduced({str(path)!r}, TINT_PIXELS)))
        def work():
            with ThreadPoolExecutor(4) as pool:
                return {{"tints": list(pool.map(one, range(4)))}}
    """, headroom_mb=1500)
    assert "error" not in four, four
    assert four["tints"] == [out["tint"]] * 4 and four["grew_mb"] < 4 * 150, four


@pytest.mark.slow
def test_256_points_at_the_largest_render_size_on_a_12_megapixel_photo():
    """The whole pipeline, 256 points at render size 1024 on 4000 x 3000: an image comes back and
    the peak stays under the documented per-request bound (docs/space.md: 1 GB)."""
    out = run_capped("""
        import numpy as np
        from colorlab.checkpoints import get_model
        from colorlab.pipeline import colorize
        def prepare():
            global img, model, pts
            rng = np.random.default_rng(0)
            img = (rng.random((375, 500, 3)) * 255).astype(np.uint8).repeat(8, 0).repeat(8, 1)
            model = get_model("lab-general")
            pts = [(float(x), float(y), "#%02x%02x%02x" % tuple(rng.integers(0, 255, 3)))
                   for x, y in rng.random((256, 2))]
        def work():
            out = colorize(img, model, 1024, hints=pts)
            return {"size": list(out.size)}
    """, headroom_mb=3000, timeout=1200)
    assert "error" not in out, out
    assert out["size"] == [4000, 3000]
    assert out["grew_mb"] < 1024, out
