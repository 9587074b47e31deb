"""colorlab: compare U-Net colorization of greyscale photos across LAB, HSV and RGB."""
from .checkpoints import Colorizer, get_model, list_checkpoints, load_checkpoint, save_checkpoint
from .imaging import ImageError, load_image
from .models import create_model, list_models
from .pipeline import colorize, colorize_batch
from .suggestions import suggest, suggest_colours

__version__ = "0.1.0"
__all__ = ["Colorizer", "ImageError", "colorize", "colorize_batch", "create_model", "get_model",
           "list_checkpoints", "list_models", "load_checkpoint", "load_image", "save_checkpoint", "suggest",
           "suggest_colours"]
