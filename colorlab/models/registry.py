"""A timm-style model registry: ``create_model("name", out_channels=2, **widths)``.

Every architecture maps a grey input (N, 1, H, W) in [-1, 1] to ``out_channels``
chroma channels in [-1, 1] (tanh) at the same H x W. H and W must be multiples of
``model.size_multiple``; ``colorlab.pipeline`` resizes the input to such a size.
"""
from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
_DESIGNS: dict[str, str] = {}


def register(name: str, design: str):
    """Class decorator: make an architecture creatable by ``name``; ``design`` says what it reproduces."""
    def wrap(cls):
        _REGISTRY[name] = cls
        _DESIGNS[name] = design
        cls.arch_name = name
        return cls
    return wrap


def create_model(name: str, **kwargs) -> nn.Module:
    """Build architecture ``name`` with its keyword hyper-parameters (widths, depth, out_channels)."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; available: {list_models()}") from None
    model = cls(**kwargs)
    model.arch_kwargs = dict(kwargs)
    return model


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    """One line on the published design an architecture reproduces."""
    return _DESIGNS[name]
