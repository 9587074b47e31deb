"""Every limit the server enforces, in one place (documented together in docs/space.md).

A public Space is open to anyone, so each request's memory, time and disk must be bounded
whatever the client sends. The library (``colorlab.imaging``, ``colorlab.pipeline``,
``colorlab.hints``) takes its caps from here too, so the CLI and the app agree. This module
is a leaf: it imports nothing from colorlab (anything may import it without a cycle).

Environment overrides are read once, at import, for the deployment knobs only (queue size,
concurrency, scratch budget); the caps that bound a request's memory are constants.
"""
from __future__ import annotations

import os


def _env_int(name: str, default: int, low: int = 1) -> int:
    try:
        return max(low, int(os.environ.get(name, default)))
    except ValueError:
        return default


MB = 1024 ** 2

# ---------------------------------------------------------------- one request's work (memory)
MAX_PIXELS = 40_000_000        # a photo's pixels (decoded); larger files are refused from the header
MAX_POINTS = 256               # point hints in one request
MAX_HINTS_CHARS = 64 * 1024    # the hints JSON text (256 points take about 9 KB)
MAX_RENDER = 1024              # the short side the network may be asked to run at
MAX_NET_PIXELS = MAX_RENDER ** 2   # ...and at most this many network pixels, whatever the aspect ratio
# Point hints cost points x network pixels (each point is weighed at every pixel): above this
# product the network's area is reduced to MAX_HINT_WORK / points (64 points: 1 MP still;
# 256 points: 0.26 MP, 512 x 512), so a request's time stays bounded too.
MAX_HINT_WORK = 1 << 26
TINT_PIXELS = 1_000_000        # a tint reference photo's colour statistics are taken at this size
# Suggested looks in the app (colorlab.ui.suggested): made from the display-size photo (at
# most uploads.DISPLAY_SIDE px on its long side), whatever was uploaded; the network runs at
# its render size (MAX_RENDER at most) for all the looks in one batch.
SUGGEST_LOOKS = 4              # looks per photo (the library allows up to colorlab.suggestions.MAX_K)
SUGGEST_THUMB = 320            # px: a look's thumbnail, long side
SUGGEST_COLOURS = 6            # colours offered at a hint's point (the model's own first)

# ---------------------------------------------------------------- HTTP
MAX_UPLOAD_BYTES = 50 * MB     # one uploaded file (Gradio's max_file_size; said in the upload boxes)
MAX_UPLOAD_TEXT = "50 MB"
MAX_BODY_BYTES = 1 * MB        # any other request body (JSON API calls)
UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 1 * MB   # an upload request: the file plus its multipart framing

# ---------------------------------------------------------------- queue and fair share
CONCURRENCY = _env_int("COLORLAB_CONCURRENCY", 1)       # inference jobs at once (the CPU gate's slots)
QUEUE_SIZE = _env_int("COLORLAB_QUEUE_SIZE", 64)        # events waiting, all clients together
# Jobs (events that wait for the CPU gate: a colorization, the looks, a click's colours, a
# Compare) waiting or running at once. One upload, a category change and a click on the photo
# hold four of them in one tab while the gate is busy (measured, docs/space.md), so a tab may
# hold five; quick UI updates (the hint table, the controls: milliseconds, no gate) are counted
# apart, so that an honest page's burst of them never takes a job's place.
PER_SESSION_EVENTS = 5         # one browser tab (Gradio session)
PER_CLIENT_EVENTS = 6          # one client address (all its tabs and sessions)
PER_SESSION_QUICK = 6          # quick UI updates of one tab (one hints edit fires three at once)
PER_CLIENT_QUICK = 8           # quick UI updates of one address
# Quick jobs Gradio lets into their handlers at once, where they wait for the CPU gate (holding
# no photo: it is decoded inside the gate). More than one client's share, so that a flooding
# client cannot hold them all and a newcomer reaches the gate, where small jobs go first.
INFERENCE_WORKERS = 3 * PER_CLIENT_EVENTS
PER_CLIENT_COMPARES = 1        # one client address: Compare jobs waiting or running
COMPARE_SLOTS = 1              # Compares running at once (each takes the CPU model by model)
# A quick job is *big* (it gives way to small ones at each band: colorlab.serving.scheduling)
# when its photo, its points or its render size pass one of these.
BIG_PIXELS = 2_000_000
BIG_POINTS = 16
BIG_RENDER = 512
RETRY_AFTER = 10               # seconds a refused client is told to wait before trying again

# ---------------------------------------------------------------- disk (per instance)
SCRATCH_TTL = 3600             # seconds a response's files (downloads, plots) are kept
SCRATCH_MAX_BYTES = _env_int("COLORLAB_SCRATCH_MB", 1024) * MB   # scratch + Gradio cache, together
PRUNE_EVERY = 30               # seconds between looks for expired or excess files
GRADIO_CACHE_TTL = 3600        # Gradio's own cache (uploads and returned files): same age limit

__all__ = [name for name in dir() if name.isupper()]
