"""Compatibility shim: the Turing-test code now lives in ``colorlab.studies``."""
from .studies import *  # noqa: F401,F403
from .studies import __all__  # noqa: F401

from pathlib import Path as _Path

from .studies.pool import ROOT as _ROOT, shipped_pool as _shipped_pool

EXAMPLES_DIR = _ROOT / "examples"


def example_pool(categories=CATEGORIES, root: _Path | str = EXAMPLES_DIR):  # noqa: F405
    """The app's example photos (``examples/<category>/*``), sorted; not the study pool."""
    return _shipped_pool(categories, root)
