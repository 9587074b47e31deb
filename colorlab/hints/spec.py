"""Colour hints as the user gives them: the ``Hints`` type, its parsing, validation and JSON.

A *point hint* is ``(x, y, colour)``: x and y are fractions of the image's width and
height in [0, 1], measured from the top-left corner, and ``colour`` an sRGB colour
(``"#rrggbb"`` or an (r, g, b) triple of ints in [0, 255]). The model takes only its
chroma, CIE (a, b); the luminance always comes from the photo.

A *tint* is one sRGB colour whose CIE (a, b) is the intended mean chroma (the overall
cast) of the output.

How the network sees hints is ``colorlab.hints.encoding``; how training and evaluation
make them from the truth is ``colorlab.hints.simulate``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from ..colorspaces import lab_to_rgb, rgb_to_lab
from ..serving.limits import MAX_HINTS_CHARS, MAX_POINTS

# How far (a fraction of the short side, in lightness-guided geodesic distance) a lone point's
# say reaches before the model's own colour takes over (``colorlab.hints.encoding.confidence``);
# the user may change it. Chosen with EDGE_COST and CROWD on 20 *train* photos per category
# (docs/hints.md, "Locality"); the hints curve measures it on val.
POINT_REACH = 0.4
MIN_REACH, MAX_REACH = 0.05, 4.0
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class Hints:
    """Validated hints. ``points``: ((x, y, (a, b)), ...) with x, y in [0, 1]; ``tint``:
    (a, b) or None. Chroma in CIE units. ``reach``: how far a lone point's say extends, as a
    fraction of the short side (``confidence``). Build one with ``make_hints``."""
    points: tuple = ()
    tint: tuple | None = None
    reach: float = POINT_REACH
    colours: dict = field(default_factory=dict, compare=False, hash=False)   # what the user typed, for display

    def __bool__(self) -> bool:
        return bool(self.points) or self.tint is not None

    def to_json(self) -> dict:
        """The CLI's hints format: ``{"points": [[x, y, "#rrggbb"], ...], "tint": "#rrggbb",
        "reach": r}`` (``reach`` only when it is not the default)."""
        out: dict = {}
        if self.points:
            out["points"] = [[x, y, self.colours.get(i) or ab_to_hex(ab)] for i, (x, y, ab) in enumerate(self.points)]
        if self.tint is not None:
            out["tint"] = self.colours.get("tint") or ab_to_hex(self.tint)
        if self.reach != POINT_REACH:
            out["reach"] = self.reach
        return out


NO_HINTS = Hints()


def parse_colour(colour) -> tuple[int, int, int]:
    """``"#rrggbb"`` (the # optional), ``"rgb(r, g, b)"`` / ``"rgba(...)"`` as Gradio's colour
    picker sends it, or an (r, g, b) sequence of ints in [0, 255] -> (r, g, b) ints."""
    if isinstance(colour, str):
        text = colour.strip()
        m = _HEX.match(text)
        if m:
            v = int(m.group(1), 16)
            return (v >> 16) & 255, (v >> 8) & 255, v & 255
        m = re.match(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)$", text)
        if m:
            vals = [float(g) for g in m.groups()]
            if all(0 <= v <= 255 for v in vals):
                return tuple(int(round(v)) for v in vals)
        raise ValueError(f"malformed colour {colour!r}: expected '#rrggbb'")
    try:
        vals = list(colour)
    except TypeError:
        raise ValueError(f"malformed colour {colour!r}: expected '#rrggbb' or (r, g, b)") from None
    if len(vals) != 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= 255
                                 for v in vals):
        raise ValueError(f"malformed colour {colour!r}: expected three ints in [0, 255]")
    return tuple(int(v) for v in vals)


def to_hex(colour) -> str:
    """``"#rrggbb"`` (lower case) of any colour ``parse_colour`` takes."""
    r, g, b = parse_colour(colour)
    return f"#{r:02x}{g:02x}{b:02x}"


def colour_to_ab(colour) -> tuple[float, float]:
    """CIE (a, b) of an sRGB colour (any form ``parse_colour`` takes)."""
    rgb = torch.tensor(parse_colour(colour), dtype=torch.float32).view(1, 3, 1, 1) / 255
    lab = rgb_to_lab(rgb).view(3)
    return float(lab[1]), float(lab[2])


def ab_to_hex(ab, lightness: float = 60.0) -> str:
    """An sRGB colour with chroma ``ab`` (as near as the gamut allows at ``lightness``)."""
    lab = torch.tensor([lightness, float(ab[0]), float(ab[1])]).view(1, 3, 1, 1)
    rgb = (lab_to_rgb(lab).view(3) * 255).round().int().tolist()
    return "#" + "".join(f"{v:02x}" for v in rgb)


def _coordinate(v, what: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"hint {what} must be a number in [0, 1], got {v!r}") from None
    if not (0.0 <= f <= 1.0):   # also rejects NaN
        raise ValueError(f"hint {what} must be in [0, 1] (a fraction of the image size), got {v!r}")
    return f


def _reach(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"hint reach must be a number, got {v!r}") from None
    if not (MIN_REACH <= f <= MAX_REACH):   # also rejects NaN
        raise ValueError(f"hint reach must be in [{MIN_REACH:g}, {MAX_REACH:g}] "
                         f"(a fraction of the short side), got {v!r}")
    return f


def make_hints(points=None, tint=None, reach=None) -> Hints:
    """Validate ``points`` (a sequence of (x, y, colour)), ``tint`` (a colour or None) and
    ``reach`` (None: ``POINT_REACH``).

    Raises ``ValueError`` with a clear message for coordinates outside [0, 1], a malformed
    colour, more than ``MAX_POINTS`` points or a reach outside [MIN_REACH, MAX_REACH]."""
    if isinstance(points, Hints):
        if tint is not None or reach is not None:
            raise ValueError("give the tint and reach inside the Hints object or separately, not both")
        return points
    points = list(points or [])
    if len(points) > MAX_POINTS:
        raise ValueError(f"at most {MAX_POINTS} point hints, got {len(points)}")
    out, colours = [], {}
    for i, p in enumerate(points):
        if isinstance(p, dict):
            p = (p.get("x"), p.get("y"), p.get("colour", p.get("color")))
        if isinstance(p, str) or len(p) != 3:
            raise ValueError(f"point hint {i} must be [x, y, '#rrggbb'], got {p!r}")
        x, y, colour = _coordinate(p[0], "x"), _coordinate(p[1], "y"), p[2]
        out.append((x, y, colour_to_ab(colour)))
        colours[i] = to_hex(colour)
    tint_ab = None
    if tint is not None and tint != "":
        tint_ab = colour_to_ab(tint)
        colours["tint"] = to_hex(tint)
    return Hints(tuple(out), tint_ab, POINT_REACH if reach is None else _reach(reach), colours)


def from_json(data) -> Hints:
    """Hints from the CLI/API format (a dict or its JSON text): ``{"points": [[x, y, "#rrggbb"], ...],
    "tint": "#rrggbb", "reach": r}``; all keys optional. Empty text means no hints; text longer
    than ``MAX_HINTS_CHARS`` is refused unread."""
    if data is None or (isinstance(data, str) and not data.strip()):
        return NO_HINTS
    if isinstance(data, str):
        if len(data) > MAX_HINTS_CHARS:
            raise ValueError(f"hints are {len(data)} characters long; at most {MAX_HINTS_CHARS} "
                             f"({MAX_POINTS} points take about 9,000)")
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValueError(f"hints are not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict):
        raise ValueError('hints must be a JSON object like {"points": [[x, y, "#rrggbb"]], "tint": "#rrggbb"}')
    unknown = set(data) - {"points", "tint", "reach"}
    if unknown:
        raise ValueError(f"unknown hint keys {sorted(unknown)}: only 'points', 'tint' and 'reach'")
    points = data.get("points") or []
    if not isinstance(points, list):
        raise ValueError("hints 'points' must be a list of [x, y, '#rrggbb']")
    return make_hints(points, data.get("tint"), data.get("reach"))


def mean_ab(reference: np.ndarray) -> tuple[float, float]:
    """The colour cast of a uint8 sRGB image (H, W, 3): its mean CIE (a, b)."""
    lab = rgb_to_lab(torch.from_numpy(np.array(reference, copy=True)).permute(2, 0, 1)[None].float() / 255)
    return float(lab[0, 1].mean()), float(lab[0, 2].mean())


# The most chroma a tint taken from a photo keeps: a tint is enforced as the output's exact mean
# a, b, and the mean cast of 180 train photos had a median chroma of 12-16 (faces, landscapes,
# general) but reached 50-60 for a few vivid ones, which painted a grey photo's sky neon.
MAX_TINT_CHROMA = 20.0


def tint_of(photo: np.ndarray, max_chroma: float | None = MAX_TINT_CHROMA) -> str:
    """A tint for a colour photo (H, W, 3) uint8: a colour with its mean CIE (a, b), its chroma
    cut to ``max_chroma`` (None: as it is), shown at the photo's mean lightness (clamped to
    [25, 85]) so that the colour picker looks like the scene. Also the cast of a colorization,
    where the app's tint starts."""
    lab = rgb_to_lab(torch.from_numpy(np.array(photo, copy=True)).permute(2, 0, 1)[None].float() / 255)
    ab = clamp_chroma((float(lab[0, 1].mean()), float(lab[0, 2].mean())), max_chroma)
    return ab_to_hex(ab, float(lab[0, 0].mean().clamp(25, 85)))


def clamp_chroma(ab, max_chroma: float | None) -> tuple[float, float]:
    """CIE (a, b) with its chroma sqrt(a^2 + b^2) cut to ``max_chroma`` (None: unchanged), hue kept."""
    a, b = float(ab[0]), float(ab[1])
    chroma = float(np.hypot(a, b))
    if max_chroma is None or chroma <= max_chroma:
        return a, b
    return a * max_chroma / chroma, b * max_chroma / chroma


def chroma_of(colour) -> float:
    """The CIE chroma sqrt(a^2 + b^2) of a colour (any form ``parse_colour`` takes)."""
    return float(np.hypot(*colour_to_ab(colour)))


def blend_tint(cast, tint, strength: float) -> str:
    """The tint that moves an output's ``cast`` (a colour: its current mean chroma) a fraction
    ``strength`` in [0, 1] of the way to ``tint`` in CIE a, b (0: the cast, 1: the tint),
    shown at the tint's own lightness; ``"#rrggbb"``."""
    if not (0.0 <= float(strength) <= 1.0):
        raise ValueError(f"tint strength must be in [0, 1], got {strength}")
    ca, ta = colour_to_ab(cast), colour_to_ab(tint)
    ab = (ca[0] + strength * (ta[0] - ca[0]), ca[1] + strength * (ta[1] - ca[1]))
    rgb = torch.tensor(parse_colour(tint), dtype=torch.float32).view(1, 3, 1, 1) / 255
    return ab_to_hex(ab, float(rgb_to_lab(rgb)[0, 0]))
