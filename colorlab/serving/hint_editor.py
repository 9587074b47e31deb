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
    """``text`` without point ``index`` (0-based); ValueError if there is no such point."""
    data = _load(text)
    points = data.get("points") or []
    if not 0 <= index < len(points):
        raise ValueError(f"there is no hint #{index + 1}: the hints are numbered 1 to {len(points)}"
                         if points else "there are no point hints to remove")
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
    r = marker_radius(out.size)
    for i, (x, y, colour) in enumerate(points):
        cx, cy = x * (out.width - 1), y * (out.height - 1)
        draw.ellipse((cx - r - 2, cy - r - 2, cx + r + 2, cy + r + 2), fill="black")
        draw.ellipse((cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1), fill="white")
        draw.ellipse((cx - r + 1, cy - r + 1, cx + r - 1, cy + r - 1), fill=colour)
        draw.text((cx + r + 3, cy - r - 3), str(i + 1), fill="white", stroke_width=2, stroke_fill="black")
    return out


def point_colour(text, index: int) -> str | None:
    """The ``"#rrggbb"`` colour of point ``index`` (0-based), None if there is no such point."""
    points = _load(text).get("points") or []
    return points[index][2] if 0 <= index < len(points) else None


def nearest_point(text, x: float, y: float, size: tuple[int, int], radius_px: float) -> int | None:
    """The index of the point whose marker (on a picture of ``size`` = (width, height)) is
    nearest to the fractions (x, y) and within ``radius_px`` pixels of them; None if none is."""
    w, h = size
    best, best_d = None, float(radius_px)
    for i, (px, py, _) in enumerate(_load(text).get("points") or []):
        d = ((px - x) * w) ** 2 + ((py - y) * h) ** 2
        if d ** 0.5 <= best_d:
            best, best_d = i, d ** 0.5
    return best


def marker_radius(size: tuple[int, int]) -> int:
    """The radius in pixels of the markers ``draw_markers`` draws on a picture of ``size``."""
    return max(4, round(min(size) / 60))


def move_point(text, index: int, x: float, y: float) -> str:
    """Point ``index`` (0-based) moved to the fractions (x, y), clamped to [0, 1]; its colour kept."""
    data = _load(text)
    points = data.get("points") or []
    if not 0 <= index < len(points):
        raise ValueError(f"there is no hint #{index + 1} to move")
    points[index][:2] = [round(min(max(float(x), 0.0), 1.0), 4), round(min(max(float(y), 0.0), 1.0), 4)]
    return _dump(data)


HISTORY_DEPTH = 50   # edits kept for undo


def history_push(history: dict | None, text) -> dict:
    """The undo history ``{"states": [json, ...], "at": i}`` with ``text`` as the new current
    state (the redo branch dropped; at most HISTORY_DEPTH states). None: a new history."""
    text = text or ""
    states, at = (list(history["states"]), int(history["at"])) if history else ([""], 0)
    if states[at] == text:
        return {"states": states, "at": at}
    states = states[:at + 1] + [text]
    states = states[-HISTORY_DEPTH:]
    return {"states": states, "at": len(states) - 1}


def history_step(history: dict | None, step: int) -> tuple[dict, str]:
    """(history, the hints' JSON) after ``step`` = -1 (undo) or +1 (redo); at either end, unchanged."""
    if not history:
        return history_push(None, ""), ""
    at = min(max(int(history["at"]) + step, 0), len(history["states"]) - 1)
    return {"states": list(history["states"]), "at": at}, history["states"][at]
