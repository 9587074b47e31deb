"""Compatibility shim: ratings are now answers in ``colorlab.studies.store``."""
from .studies.stats import wilson as wilson_interval  # noqa: F401
from .studies.store import DB_NAME, Answer, StudyStore, data_dir  # noqa: F401

__all__ = ["Answer", "DB_NAME", "StudyStore", "data_dir", "wilson_interval"]
