"""colorlab.serving.memory: the allocator settings the app applies fit the pipeline's buffer sizes."""
import subprocess
import sys

import pytest

from colorlab.pipeline import BAND_PIXELS
from colorlab.serving import memory


def test_band_temporaries_come_from_the_heap_and_image_buffers_are_mmapped():
    band = 3 * BAND_PIXELS * 4                      # a 3-channel float32 band, the largest per-band temporary
    one_mp_channel = 1155 * 866 * 4                 # a 1-MP float32 channel
    assert band < memory.MMAP_THRESHOLD < one_mp_channel
    assert memory.TRIM_THRESHOLD >= 8 * band        # freeing one band's temporaries does not trim the heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")
def test_tune_malloc_applies_every_setting():
    # A fresh process (the settings are process-wide), loading the module alone: importing the
    # colorlab package would start torch (30 s on the loaded 2 cores, for a ctypes call)
    code = ("import importlib.util as u, sys; s = u.spec_from_file_location('memory', sys.argv[1]); "
            "m = u.module_from_spec(s); s.loader.exec_module(m); print(m.tune_malloc())")
    out = subprocess.run([sys.executable, "-c", code, memory.__file__], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "True"
