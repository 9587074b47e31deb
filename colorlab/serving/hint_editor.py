"""Editing hints in the app: pure functions from the hints' JSON text (the CLI's format,
``colorlab.hints.from_json``) to new JSON text, a table of the hints, and markers drawn
on the photo. Each edit validates the result, so the JSON the endpoints get is usable."""
from __future__ import annotations

import json

from PIL import Image, ImageDraw

from ..hints import POINT_REACH, from_json, make_hints, to_hex

TABLE_HEADERS = ["#", "x", "y", "colour"]


def _load(text) -> dict:
    return from_json(text).to_json()


def _dump(data: dict) -> str:
    make_hints(data.get("points"), data.get("tint"), data.get("reach"))   # raises ValueError if it would be unusable
    return json.dumps(data) if data else ""


def add_point(text, x: float, y: float, colour: str) -> str:
    """``text`` with a point hint at (x, y) (fractions of the width and height) of ``colour``."""
    data = _load(text)
    data.setdefault("points", []).append([round(float(x), 4), round(float(y), 4), to_hex(colour)])
    return _dump(data)


def recolour(text, index: int, colour: str) -> str:
    """The colour of point ``index`` (0-based; -1 the last) changed to ``colour``."""
    data = _load(text)
    points = data.get("points") or []
    if not points:
        return _dump(data)
    points[index][2] = to_hex(colour)
    return _dump(data)


def remove_point(text, index: int) -> str:
    data = _load(text)
    points = data.get("points") or []
    if 0 <= index < len(points):
        del points[index]
    if not points:
        data.pop("points", None)
    return _dump(data)


def clear_points(text) -> str:
    data = _load(text)
    data.pop("points", None)
    return _dump(data)


def set_tint(text, colour: str | None) -> str:
    """The tint set to ``colour``, or removed with None."""
    data = _load(text)
    if colour:
        data["tint"] = to_hex(colour)
    else:
        data.pop("tint", None)
    return _dump(data)


def set_reach(text, reach: float) -> str:
    """How far a lone point's colour reaches (a fraction of the short side) set to ``reach``."""
    data = _load(text)
    data["reach"] = round(float(reach), 3)
    if data["reach"] == POINT_REACH:
        data.pop("reach")
    return _dump(data)


def rows(text) -> list[list]:
    """[#, x, y, colour] per point hint (1-based numbers, as the user sees them)."""
    return [[i + 1, x, y, c] for i, (x, y, c) in enumerate(_load(text).get("points", []))]


def draw_markers(image: Image.Image, text) -> Image.Image:
    """A copy of ``image`` with each point hint drawn as a numbered disc of its colour."""
    points = _load(text).get("points", [])
    out = image.convert("RGB").copy()
    if not points:
        return out
    draw = ImageDraw.Draw(out)
    r = max(4, round(min(out.size) / 60))
    for i, (x, y, colour) in enumerate(points):
        cx, cy = x * (out.width - 1), y * (out.height - 1)
        draw.ellipse((cx - r - 2, cy - r - 2, cx + r + 2, cy + r + 2), fill="black")
        draw.ellipse((cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1), fill="white")
        draw.ellipse((cx - r + 1, cy - r + 1, cx + r - 1, cy + r - 1), fill=colour)
        draw.text((cx + r + 3, cy - r - 3), str(i + 1), fill="white", stroke_width=2, stroke_fill="black")
    return out
