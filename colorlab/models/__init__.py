"""Colorization architectures behind one interface; see ``registry``."""
from . import cunet, hsv_unet, lab_resunet, mobile_unet, pyramid, rgb_unet  # noqa: F401  (registers them)
from .registry import create_model, describe, list_models

__all__ = ["create_model", "describe", "list_models"]
