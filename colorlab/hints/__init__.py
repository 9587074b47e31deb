"""Colour hints: what the user knows and the grey photo cannot tell (spec, encoding, simulation).

``spec`` holds the ``Hints`` type and its validation, ``encoding`` the network's hint maps,
``simulate`` the hints made from the truth, ``baselines`` the naive colorizations from hints
alone. The public names are re-exported here: ``from colorlab.hints import make_hints``.
"""
from .encoding import (
    CROWD,
    GUIDE_SIGMA,
    HINT_CHANNELS,
    POINT_PATCH,
    SPREAD_SCALE,
    confidence,
    hint_maps,
    point_cells,
    point_lightness,
    prior,
    spread,
)
from .simulate import simulate, simulate_training
from .spec import (
    MAX_POINTS,
    MAX_REACH,
    MIN_REACH,
    NO_HINTS,
    POINT_REACH,
    Hints,
    ab_to_hex,
    blend_tint,
    chroma_of,
    clamp_chroma,
    colour_to_ab,
    from_json,
    make_hints,
    mean_ab,
    parse_colour,
    tint_of,
    to_hex,
)

__all__ = ["CROWD", "GUIDE_SIGMA", "HINT_CHANNELS", "MAX_POINTS", "MAX_REACH", "MIN_REACH", "NO_HINTS", "POINT_PATCH",
           "POINT_REACH", "SPREAD_SCALE", "Hints", "ab_to_hex", "blend_tint", "chroma_of", "clamp_chroma",
           "colour_to_ab", "confidence", "from_json", "hint_maps", "make_hints", "mean_ab", "parse_colour",
           "point_cells", "point_lightness", "prior", "simulate", "simulate_training", "spread", "tint_of",
           "to_hex"]
