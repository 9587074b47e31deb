"""Colour hints: what the user knows and the grey photo cannot tell.

A *point hint* is ``(x, y, colour)``: x and y are fractions of the image's width and
height in [0, 1], measured from the top-left corner, and ``colour`` an sRGB colour
(``"#rrggbb"`` or an (r, g, b) triple of ints in [0, 255]). The model takes only its
chroma, CIE (a, b); the luminance always comes from the photo.

A *tint* is one sRGB colour whose CIE (a, b) is the intended mean chroma (the overall
cast) of the output.

Every space's network sees hints the same way, as ``HINT_CHANNELS`` maps at its input
resolution, in network units (a / AB_SCALE, b / AB_SCALE):

    0, 1  point hints' a, b (0 where there is none)     2  point mask (1 at a hint)
    3, 4  tint a, b (constant over the image)           5  tint flag (1 if a tint is given)
    6, 7  the points' a, b spread over the image by inverse-distance weighting
          (for a *guided* model, also weighted by how close each pixel's L* is to the
          point's: see ``spread``)
    8     closeness to the nearest point, exp(-d / SPREAD_SCALE) with d in network pixels

so the three spaces are compared on equal terms: only what they predict differs. The
spread channels hand the network the naive propagation (``colorlab.baselines``) as a
starting point: on a 2-core CPU budget a network does not learn to carry a sparse hint
far by itself (tried: with channels 0-5 alone, 10 hints moved val PSNR by 0.05 dB), so it
learns instead where the photo says the spread colour stops.

Hints are simulated from the truth in two ways. ``simulate_training`` follows Zhang et
al. 2017 ("Real-Time User-Guided Image Colorization with Learned Deep Priors"): a
geometric number of small patches with the truth's mean chroma, many samples with no
points at all, and the global hint (here the tint) dropped at random. ``simulate``
makes the hints ``python -m colorlab evaluate --points K`` scores with: K random pixels,
each with the reference's own colour there, and the tint as the reference's mean a, b;
it is a pure function of (image, K, seed).
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch

from .colorspaces import AB_SCALE, grey_to_L, lab_to_rgb, rgb_to_lab

MAX_POINTS = 256
HINT_CHANNELS = 9
POINT_PATCH = 3          # side, in network pixels, of the patch a point hint covers
SPREAD_SCALE = 8.0       # network pixels over which a point's closeness falls by 1/e
# L* difference at which a guided spread's weight falls by e^-1/2. Chosen on val photos
# (60 per category, 10 simulated points, the spread alone as the colorization): 12 beat
# 6 and 9 on faces and general, and was within 0.1 dB of the best on landscapes; against
# plain inverse-distance weighting it gained +0.6 / +1.3 / +0.5 dB (faces / landscapes / general).
GUIDE_SIGMA = 12.0
# How far (a fraction of the short side) a lone point's say reaches before the model's own
# colour takes over (``confidence``); the user may change it. Chosen on val photos (24-70 per
# model, the shipped models, against no blend): at 1.0 one foreign point recolours about
# 0.35-0.6 of the pixels instead of 0.77-0.98, 10 true points lose at most 0.15 dB and one true
# point gains up to 0.7 dB; 0.5 and 0.75 were more local but cost 10 points 0.2-0.6 and
# 0.05-0.3 dB, too much for general photos' bar (colorlab's README, hints).
POINT_REACH = 1.0
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
        vals = [v for v in colour]
    except TypeError:
        raise ValueError(f"malformed colour {colour!r}: expected '#rrggbb' or (r, g, b)") from None
    if len(vals) != 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= 255
                                 for v in vals):
        raise ValueError(f"malformed colour {colour!r}: expected three ints in [0, 255]")
    return tuple(int(v) for v in vals)


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
        raise ValueError(f"hint reach must be in [{MIN_REACH:g}, {MAX_REACH:g}] (a fraction of the short side), got {v!r}")
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
        colours[i] = "#%02x%02x%02x" % parse_colour(colour)
    tint_ab = None
    if tint is not None and tint != "":
        tint_ab = colour_to_ab(tint)
        colours["tint"] = "#%02x%02x%02x" % parse_colour(tint)
    return Hints(tuple(out), tint_ab, POINT_REACH if reach is None else _reach(reach), colours)


def from_json(data) -> Hints:
    """Hints from the CLI/API format (a dict or its JSON text): ``{"points": [[x, y, "#rrggbb"], ...],
    "tint": "#rrggbb", "reach": r}``; all keys optional. Empty text means no hints."""
    if data is None or (isinstance(data, str) and not data.strip()):
        return NO_HINTS
    if isinstance(data, str):
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


def point_cells(points, size: tuple[int, int]) -> list[tuple[int, int]]:
    """The (row, col) cell of an h x w grid that each point ((x, y, ...), ...) falls in."""
    h, w = size
    return [(min(int(p[1] * h), h - 1), min(int(p[0] * w), w - 1)) for p in points]


def point_lightness(lightness: torch.Tensor, cells) -> torch.Tensor:
    """The L* (K,) of an (h, w) L* map at each (row, col) of ``cells``: the points' own lightness."""
    return torch.stack([lightness[r, c] for r, c in cells]).float()


def _log_weights(centres: torch.Tensor, size: tuple[int, int], guide=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(log weight of each point at each pixel (K, h, w), squared distances (K, h, w)): see ``spread``."""
    h, w = size
    gy = torch.arange(h, dtype=torch.float32) + 0.5
    gx = torch.arange(w, dtype=torch.float32) + 0.5
    d2 = (gx.view(1, 1, w) - centres[:, 0].view(-1, 1, 1)) ** 2 + (gy.view(1, h, 1) - centres[:, 1].view(-1, 1, 1)) ** 2
    logw = -torch.log(d2 + 0.25)       # +0.25: a pixel's own hint counts as half a pixel away
    if guide is not None:
        lightness, point_l = guide
        logw = logw - (lightness.view(1, h, w) - point_l.view(-1, 1, 1)) ** 2 / (2 * GUIDE_SIGMA ** 2)
    return logw, d2


def spread(centres: torch.Tensor, ab: torch.Tensor, size: tuple[int, int],
           guide: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse-distance-weighted (1 / d^2) chroma of K points over an h x w grid of pixel
    centres, and the closeness exp(-d_min / SPREAD_SCALE) to the nearest one.

    ``centres`` (K, 2) as (x, y) in pixels, ``ab`` (K, 2) -> ((2, h, w), (1, h, w)). Also
    the naive-propagation baseline's weighting (``colorlab.baselines``). With ``guide`` =
    (the photo's L* (h, w), each point's L* (K,)), point k's weight at a pixel is also
    multiplied by exp(-(L - L_k)^2 / (2 GUIDE_SIGMA^2)): a colour spreads over what looks
    like the surface it was given on (a cross-bilateral filter of the points)."""
    logw, d2 = _log_weights(centres, size, guide)
    close = torch.exp(-d2.min(0, keepdim=True).values.sqrt() / SPREAD_SCALE)
    # Normalised in log space, so that a pixel unlike every point still gets a finite mix.
    return torch.einsum("khw,kc->chw", torch.softmax(logw, 0), ab.float()), close


def confidence(hints: Hints, lightness: torch.Tensor) -> torch.Tensor:
    """How much the point hints speak for each pixel: (N, 1, h, w) in [0, 1], 0 with no points.

    The spread's weights are normalised over the points, so a single point alone speaks
    for every pixel however far and unlike it, and the networks, trained on true colours
    where one point does tell the cast, then recolour the whole photo with it. Here a
    "no point here" alternative competes: the confidence is S / (S + r^-2), S the sum of
    the points' lightness-guided weights (``spread``) at the pixel and r = ``hints.reach``
    times the short side. A point of equal L* at distance d gets r^2 / (r^2 + d^2) (a pixel
    2 GUIDE_SIGMA lighter or darker weighs it e^-2 as much); many points nearby, close to 1.
    ``lightness`` (N, 1, h, w): the photos' L*."""
    n, _, h, w = lightness.shape
    if not hints.points:
        return lightness.new_zeros(n, 1, h, w)
    cells = point_cells(hints.points, (h, w))
    centres = torch.tensor([(c + 0.5, r + 0.5) for r, c in cells])
    log_r2 = 2 * float(np.log(hints.reach * min(h, w)))
    out = []
    for light in lightness[:, 0].float():
        logw, _ = _log_weights(centres, (h, w), (light, point_lightness(light, cells)))
        out.append(torch.sigmoid(torch.logsumexp(logw, 0, keepdim=True) + log_r2))
    return torch.stack(out)


def hint_maps(hints: Hints, size: tuple[int, int], batch: int = 1,
              lightness: torch.Tensor | None = None) -> torch.Tensor:
    """Hints -> the network's hint input (batch, HINT_CHANNELS, *size) at network resolution.
    ``lightness`` (batch, 1, *size), the photos' L* at that size, guides the spread (``spread``)
    for a guided model; None: plain inverse-distance weighting."""
    h, w = size
    maps = torch.zeros(batch, HINT_CHANNELS, h, w)
    centres, abs_ = [], []
    half = POINT_PATCH // 2
    cells = point_cells(hints.points, size)
    for (cy, cx), (_, _, (a, b)) in zip(cells, hints.points):
        rows, cols = slice(max(0, cy - half), cy + half + 1), slice(max(0, cx - half), cx + half + 1)
        maps[:, 0, rows, cols] = a / AB_SCALE
        maps[:, 1, rows, cols] = b / AB_SCALE
        maps[:, 2, rows, cols] = 1.0
        centres.append((cx + 0.5, cy + 0.5))
        abs_.append((a / AB_SCALE, b / AB_SCALE))
    if centres:
        centres, abs_ = torch.tensor(centres), torch.tensor(abs_)
        if lightness is None:
            maps[:, 6:8], maps[:, 8:9] = spread(centres, abs_, size)
        else:                          # each photo's own lightness guides its spread
            for i in range(batch):
                light = lightness[i, 0].float()
                maps[i, 6:8], maps[i, 8:9] = spread(centres, abs_, size, (light, point_lightness(light, cells)))
    if hints.tint is not None:
        maps[:, 3] = hints.tint[0] / AB_SCALE
        maps[:, 4] = hints.tint[1] / AB_SCALE
        maps[:, 5] = 1.0
    return maps


def simulate_training(ab: torch.Tensor, gen: torch.Generator, p_no_points: float = 0.3, p_geom: float = 0.125,
                      max_points: int = 64, max_patch: int = 5, p_tint: float = 0.5,
                      lightness: torch.Tensor | None = None) -> torch.Tensor:
    """Training hints drawn from the truth's chroma ``ab`` (N, 2, H, W) in network units.

    Per sample: no points with probability ``p_no_points``, else a Geometric(``p_geom``)
    number of points (capped at ``max_points``), each a square patch of side 1..``max_patch``
    at a uniform place carrying the truth's mean (a, b) over it; the tint (the truth's
    mean a, b) is given with probability ``p_tint``. ``lightness`` (N, 1, H, W), the truth's
    L*, guides the spread as ``hint_maps`` does (each point's L* the patch's mean). Returns
    (N, HINT_CHANNELS, H, W)."""
    n, _, h, w = ab.shape
    maps = ab.new_zeros(n, HINT_CHANNELS, h, w)
    u = torch.rand(n, 2, generator=gen).tolist()
    for i in range(n):
        if u[i][0] >= p_no_points:
            k = min(max_points, int(np.floor(np.log1p(-torch.rand(1, generator=gen).item()) / np.log1p(-p_geom))) + 1)
            sides = torch.randint(1, max_patch + 1, (k,), generator=gen).tolist()
            centres, means, point_l = [], [], []
            for s in sides:
                y = int(torch.randint(0, h - s + 1, (1,), generator=gen))
                x = int(torch.randint(0, w - s + 1, (1,), generator=gen))
                mean = ab[i, :, y:y + s, x:x + s].mean((1, 2))
                maps[i, :2, y:y + s, x:x + s] = mean.view(2, 1, 1)
                maps[i, 2, y:y + s, x:x + s] = 1.0
                centres.append((x + s / 2, y + s / 2))
                means.append(mean)
                if lightness is not None:
                    point_l.append(lightness[i, 0, y:y + s, x:x + s].mean())
            guide = None if lightness is None else (lightness[i, 0], torch.stack(point_l))
            maps[i, 6:8], maps[i, 8:9] = spread(torch.tensor(centres), torch.stack(means), (h, w), guide)
        if u[i][1] < p_tint:
            maps[i, 3:5] = ab[i].mean((1, 2), keepdim=True)
            maps[i, 5] = 1.0
    return maps


def _image_seed(arr: np.ndarray, seed: int) -> np.random.Generator:
    digest = zlib.crc32(np.ascontiguousarray(arr).tobytes())
    return np.random.default_rng([int(seed), digest, arr.shape[0], arr.shape[1]])


def simulate(reference: np.ndarray, points: int = 0, tint: bool = False, seed: int = 0) -> Hints:
    """The hints ``evaluate --points`` uses for a colour ``reference`` (H, W, 3) uint8: ``points``
    random pixels (uniform over the image, deterministic in (image, points, seed)), each with
    the reference's own colour there; with ``tint``, the reference's mean CIE a, b."""
    h, w = reference.shape[:2]
    rng = _image_seed(reference, seed)
    xy = rng.random((points, 2))
    pts = []
    for fx, fy in xy:
        r, c = min(int(fy * h), h - 1), min(int(fx * w), w - 1)
        pts.append((float(fx), float(fy), tuple(int(v) for v in reference[r, c])))
    hints = make_hints(pts)
    if tint:
        hints = Hints(hints.points, mean_ab(reference), hints.reach, hints.colours)
    return hints


def mean_ab(reference: np.ndarray) -> tuple[float, float]:
    """The colour cast of a uint8 sRGB image (H, W, 3): its mean CIE (a, b)."""
    lab = rgb_to_lab(torch.from_numpy(np.array(reference, copy=True)).permute(2, 0, 1)[None].float() / 255)
    return float(lab[0, 1].mean()), float(lab[0, 2].mean())


def tint_of(photo: np.ndarray) -> str:
    """A tint for a colour reference photo (H, W, 3) uint8: a colour with its mean CIE (a, b)
    (shown at the photo's mean lightness, so the colour picker looks like the scene)."""
    lab = rgb_to_lab(torch.from_numpy(np.array(photo, copy=True)).permute(2, 0, 1)[None].float() / 255)
    return ab_to_hex((float(lab[0, 1].mean()), float(lab[0, 2].mean())), float(lab[0, 0].mean().clamp(25, 85)))


def prior(space, grey: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """The naive propagation as ``space``'s network target: the grey's L* with the spread
    chroma (hint channels 6, 7) -> (N, C, h, w) in network units, at the maps' size. A
    hint-aware network with a prior gate blends its output towards it near the points."""
    lab = torch.cat([grey_to_L(grey.clamp(0, 1)), maps[:, 6:8] * AB_SCALE], 1)
    return space.target(lab_to_rgb(lab).clamp(0, 1))

