"""Full-resolution inference: image -> grey -> network at render size -> chroma ->
up-sampled and recombined with the full-resolution grey -> image of the same size.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .checkpoints import Colorizer
from .colorspaces import grey_to_L, lab_to_rgb_in_gamut, rgb_to_grey, rgb_to_lab
from .hints import NO_HINTS, Hints, confidence, hint_maps, make_hints, prior
from .imaging import MAX_PIXELS, array_to_tensor, load_image, tensor_to_array, tensor_to_pil
from .recent import Recent
from .serving.limits import MAX_HINT_WORK, MAX_NET_PIXELS, MAX_RENDER
from .serving.scheduling import pause_point

BAND_PIXELS = 1 << 17   # pixels per band of the full-resolution colour conversion


def net_shape(h: int, w: int, render_size: int | None, multiple: int, points: int = 0) -> tuple[int, int]:
    """Size the network runs at: short side ``render_size`` (None: native), aspect kept,
    each side rounded to a multiple of ``multiple`` and at least one multiple. Whatever is
    asked, the short side is at most ``MAX_RENDER`` and the area at most ``MAX_NET_PIXELS``
    (the network's memory grows with its area: about 0.5 GB per megapixel) and, with
    ``points`` point hints, at most ``MAX_HINT_WORK / points`` (their cost is points x area)."""
    cap = min(MAX_NET_PIXELS, MAX_HINT_WORK // max(1, points))
    short = min(h, w) if render_size is None else int(render_size)
    short = max(multiple, min(short, MAX_RENDER))
    scale = short / min(h, w)
    long_cap = 4 * short            # very thin images: keep the work bounded
    hh, ww = min(h * scale, long_cap), min(w * scale, long_cap)
    if hh * ww > cap:               # a wide photo, a large render size or many points: shrink, aspect kept
        f = (cap / (hh * ww)) ** 0.5
        hh, ww = hh * f, ww * f
        return (max(multiple, int(hh / multiple) * multiple), max(multiple, int(ww / multiple) * multiple))
    return (max(multiple, int(round(hh / multiple)) * multiple),
            max(multiple, int(round(ww / multiple)) * multiple))


def _bands(h: int, w: int) -> list[slice]:
    """Row ranges of about BAND_PIXELS pixels: the full-resolution colour work runs band by
    band, so its float temporaries stay small (cache-sized) instead of image-sized."""
    step = max(1, BAND_PIXELS // max(1, w))
    return [slice(r, min(r + step, h)) for r in range(0, h, step)]


def _check_saturation(saturation: float) -> None:
    if not (0.0 <= saturation <= 4.0):
        raise ValueError(f"saturation must be in [0, 4], got {saturation}")


def grey_tensor(image) -> torch.Tensor:
    """The grey every model is given for ``image`` (path, bytes, file or PIL image in any mode,
    or a uint8 RGB array (H, W, 3) taken as it is, already upright): float32 (1, 1, H, W) in
    [0, 1], the luminance-matched grey (``rgb_to_grey``). ``colorize`` and ``colour_at`` take
    it in place of the image, so a caller that also shows or scores the grey
    (``colorlab.serving.uploads.Upload``) computes it once. A tensor is checked and returned."""
    if isinstance(image, torch.Tensor):
        if image.dim() != 4 or tuple(image.shape[:2]) != (1, 1) or not image.is_floating_point():
            raise ValueError(f"a grey image tensor must be float (1, 1, H, W), got {image.dtype} {tuple(image.shape)}")
        return image
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"an image array must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
        arr = image
    else:
        arr = np.asarray(load_image(image, MAX_PIXELS))
    h, w = arr.shape[:2]
    grey = torch.empty(1, 1, h, w)
    for rows in _bands(h, w):
        pause_point()   # a big job in the app lets waiting small ones go first (colorlab.serving.scheduling)
        grey[:, :, rows] = rgb_to_grey(array_to_tensor(arr[rows]))
    return grey


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    # Explicit NHWC strides: a one-channel tensor is otherwise taken as NCHW, and mixing
    # the two formats (e.g. concatenating the input as a skip) is several times slower.
    return torch.empty_like(x, memory_format=torch.channels_last).copy_(x)


def accepts_hints(model: Colorizer) -> bool:
    """Whether the checkpoint was trained to take colour hints (``colorlab.hints``)."""
    return bool(getattr(model.net, "hint_channels", 0))


def guided(net) -> bool:
    """Whether ``net`` reads lightness-guided hint maps (``colorlab.hints.spread``)."""
    return bool(getattr(getattr(net, "module", net), "guided", False))   # (a DDP wrapper holds it in .module)


def resolve_hints(model: Colorizer, hints=None, tint=None) -> Hints:
    """Validated hints for ``model``; ValueError if it takes none and some were given."""
    h = make_hints(hints, tint)
    if h and not accepts_hints(model):
        raise ValueError(f"{model.name} is an automatic-only model: it takes no colour hints")
    return h


def _net_input(model: Colorizer, grey: torch.Tensor, render_size, hints: Hints = NO_HINTS):
    """(network input, hint maps or None, the grey in [0, 1]) at the network's size."""
    size = net_shape(*grey.shape[-2:], render_size if render_size else model.render_size,
                     getattr(model.net, "size_multiple", 32), len(hints.points) if accepts_hints(model) else 0)
    small = _small_grey(grey, size)
    x = model.space.net_input(small)
    return (_nhwc(x) if _channels_last(model.net) else x), _hint_input(model, hints, small), small


def _hint_input(model: Colorizer, hints: Hints, small: torch.Tensor) -> torch.Tensor | None:
    """The hint maps for the grey ``small`` at the network's size (None: an automatic-only model)."""
    if not accepts_hints(model):
        return None
    maps = hint_maps(hints, small.shape[-2:], small.shape[0], grey_to_L(small) if guided(model.net) else None)
    return _nhwc(maps) if _channels_last(model.net) else maps


def _channels_last(net) -> bool:
    """Whether the network's convolution weights are stored NHWC (as ``load_checkpoint`` does)."""
    for p in net.parameters():
        nchw, nhwc = p.is_contiguous(), p.is_contiguous(memory_format=torch.channels_last)
        if p.dim() == 4 and nchw != nhwc:   # the first weight whose layout is not ambiguous
            return nhwc
    return False


def network_output(net, space, x: torch.Tensor, maps: torch.Tensor | None, grey: torch.Tensor) -> torch.Tensor:
    """The network's prediction for input ``x`` (the space's ``net_input`` of ``grey``, both at
    the network's size) and hint maps (None: an automatic-only network). A network with a
    prior gate also gets the naive propagation of the points in its own units, to blend
    with; training goes through here too."""
    if maps is None:
        return net(x)
    if not getattr(getattr(net, "module", net), "prior_gate", False):   # (a DDP wrapper holds it in .module)
        return net(x, maps)
    return net(x, maps, prior(space, grey, maps), space.blend)


def _render(model: Colorizer, grey: torch.Tensor, render_size, saturation: float, write,
            hints: Hints = NO_HINTS) -> None:
    """Run the network at render size, then decode at full resolution band by band:
    ``write(rows, rgb)`` receives each band as sRGB (N,3,rows,W) in [0,1]."""
    pred, _ = _prediction(model, grey, render_size, hints)
    # The calibrated gain corrects the muted colours of automatic colorization; with hints
    # the colours are the user's, so they are not scaled.
    gain = saturation * (1.0 if hints else model.chroma_gain)
    shift = None if hints.tint is None else _tint_shift(model, grey, pred, gain, hints.tint)
    _assemble(model, grey, pred, gain, shift, write)


def _assemble(model: Colorizer, grey: torch.Tensor, pred: torch.Tensor, gain: float, shift, write) -> None:
    """The network's output ``pred`` (at its own size) -> full resolution, band by band:
    up-sampled against the full-resolution ``grey``, decoded with chroma ``gain``, its CIE a, b
    moved by ``shift`` ((N, 2, 1, 1) or None: see ``_tint_shift``); ``write(rows, rgb)``
    receives each band as sRGB (N, 3, rows, W) in [0, 1]."""
    full = model.space.upsample(pred, grey.shape[-2:], grey)
    for rows in _bands(*grey.shape[-2:]):
        pause_point()
        rgb = model.space.decode(grey[:, :, rows], full[:, :, rows], gain).clamp_(0, 1)
        if shift is not None:
            lab = rgb_to_lab(rgb)
            lab[:, 1:] += shift
            rgb = lab_to_rgb_in_gamut(lab).clamp_(0, 1)
        write(rows, rgb)


def _prediction(model: Colorizer, grey: torch.Tensor, render_size, hints: Hints) -> tuple[torch.Tensor, torch.Tensor]:
    """(The network's output at its own size, in its space's units; the grey at that size,
    in [0, 1]). With point hints the output is blended, by the points' ``confidence``, with
    the output for the same photo without them: the networks learnt from true colours that one
    point tells the whole photo's cast, but a person placing one point means that place (the
    tint is for the cast)."""
    x, maps, small = _net_input(model, grey, render_size, hints)
    pause_point()
    pred = network_output(model.net, model.space, x, maps, small)
    if hints.points:
        pause_point()
        free = _point_free(model, hints, x, small)
        pause_point()
        pred = model.space.blend(free, pred, confidence(hints, grey_to_L(small)).to(pred))
    elif maps is not None:      # a hint-aware model without points: the point-free output itself
        _RECENT.put(_free_key(model, x, hints), (model.net, pred))
    return pred, small


# The last few point-free predictions, for ``_prediction``: in the app a photo is colorized
# again each time a point is added or moved, so the same point-free pass would otherwise run
# every time. Keyed by the network and a digest of its input (and the tint); the value
# keeps the network, since an id can be reused by a new one.
_RECENT = Recent(8)


def _free_key(model: Colorizer, x: torch.Tensor, hints: Hints) -> tuple:
    digest = hashlib.blake2b(x.contiguous().numpy().tobytes(), digest_size=16).digest()
    return id(model.net), tuple(x.shape), hints.tint, digest


def _point_free(model: Colorizer, hints: Hints, x: torch.Tensor, small: torch.Tensor):
    """The network's output for the same input with the points left out (the tint kept)."""
    key = _free_key(model, x, hints)
    net, pred = _RECENT.get(key, (None, None))
    if net is not model.net:
        free = _hint_input(model, Hints((), hints.tint, hints.reach), small)
        pred = network_output(model.net, model.space, x, free, small)
        _RECENT.put(key, (model.net, pred))
    return pred


def _small_grey(grey: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(grey, size=size, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def _tint_shift(model: Colorizer, grey: torch.Tensor, pred: torch.Tensor, gain: float, tint) -> torch.Tensor:
    """(N, 2, 1, 1): what to add to the output's CIE a, b so that its mean is the tint. The
    tint *is* the intended mean chroma; the network's own use of it is only approximate.
    Measured on the output decoded at the network's size (a cheap, close estimate)."""
    small = _small_grey(grey, pred.shape[-2:])
    rgb = model.space.decode(small, model.space.upsample(pred, small.shape[-2:], small), gain).clamp(0, 1)
    mean = rgb_to_lab(rgb)[:, 1:].mean((2, 3), keepdim=True)
    return torch.tensor([float(tint[0]), float(tint[1])]).view(1, 2, 1, 1) - mean


@torch.inference_mode()
def predict(model: Colorizer, grey: torch.Tensor, render_size=None, saturation: float = 1.0,
            hints=None, tint=None) -> torch.Tensor:
    """Grey (N,1,H,W) in [0,1] -> sRGB (N,3,H,W) in [0,1] at the same H x W; the same
    ``hints`` (see ``colorize``) apply to every image of the batch."""
    hints = resolve_hints(model, hints, tint)
    out = grey.new_empty(grey.shape[0], 3, *grey.shape[-2:])

    def write(rows, rgb):
        out[:, :, rows] = rgb
    _render(model, grey, render_size, saturation, write, hints)
    return out


def colorize(image, model: Colorizer, render_size: int | None = None, saturation: float = 1.0,
             hints=None, tint=None) -> Image.Image:
    """Colorize one image (path, bytes, file or PIL image in any mode, or its ``grey_tensor``)
    -> RGB PIL image of the same size.

    A colour input is turned grey first. ``render_size`` is the short side the
    network runs at (default: the checkpoint's, i.e. its training size for LAB/HSV,
    native for RGB). ``saturation`` scales the chroma relative to the checkpoint's calibrated
    default (1.0 = as shipped; the network's raw output is ``1 / model.chroma_gain``);
    with hints the calibrated gain is not applied (saturation scales the raw output).
    ``hints``: point hints, a sequence of (x, y, colour) with x, y fractions of the width
    and height in [0, 1] from the top-left and colour ``"#rrggbb"`` or (r, g, b), or a
    ``colorlab.hints.Hints``; ``tint``: a colour whose CIE (a, b) is the intended mean
    chroma of the output. Raises ``colorlab.imaging.ImageError`` for unusable images and
    ``ValueError`` for bad hints or hints given to an automatic-only model.
    """
    _check_saturation(saturation)
    hints = resolve_hints(model, hints, tint)
    grey = grey_tensor(image)
    arr = np.empty((*grey.shape[-2:], 3), np.uint8)   # written band by band: no full-size float RGB

    def write(rows, rgb):
        arr[rows] = tensor_to_array(rgb)
    with torch.inference_mode():
        _render(model, grey, render_size, saturation, write, hints)
    return Image.fromarray(arr, "RGB")


@torch.inference_mode()
def colour_at(image, model: Colorizer, x: float, y: float, render_size=None, saturation: float = 1.0,
              hints=None) -> str:
    """The colour (``"#rrggbb"``) ``model`` gives the point at fractions (x, y) of the width and
    height, read at the network's resolution (cheap: no full-size decode). The app starts its
    hint colour picker there, so the user nudges the model's colour rather than guessing."""
    hints = resolve_hints(model, hints)
    grey = grey_tensor(image)
    pred, small = _prediction(model, grey, render_size, hints)
    gain = saturation * (1.0 if hints else model.chroma_gain)
    rgb = model.space.decode(small, model.space.upsample(pred, small.shape[-2:], small), gain)
    if hints.tint is not None:
        lab = rgb_to_lab(rgb.clamp(0, 1))
        lab[:, 1:] += _tint_shift(model, grey, pred, gain, hints.tint)
        rgb = lab_to_rgb_in_gamut(lab)
    h, w = rgb.shape[-2:]
    r, c = min(int(y * h), h - 1), min(int(x * w), w - 1)
    return "#" + "".join(f"{int(round(float(v) * 255)):02x}" for v in rgb[0, :, r, c].clamp(0, 1))


def colorize_batch(images, model: Colorizer, render_size=None, saturation: float = 1.0, batch_size: int = 8,
                   hints=None):
    """Colorize many images; those of equal size share a forward pass. Returns PIL images
    in input order, or the ``ImageError`` for an input that could not be read.

    ``hints``: None, one ``Hints`` for every image, or a list with one per image (each a
    ``Hints``, a dict in the CLI's JSON format, or None)."""
    _check_saturation(saturation)
    per_image = _per_image_hints(model, hints, len(images))
    results: list = [None] * len(images)
    groups = defaultdict(list)
    for i, src in enumerate(images):
        try:
            grey = grey_tensor(src)
            groups[(tuple(grey.shape[-2:]), per_image[i])].append((i, grey))
        except ValueError as exc:
            results[i] = exc
    for (_, h), items in groups.items():
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            out = predict(model, torch.cat([g for _, g in chunk]), render_size, saturation, hints=h)
            for (i, _), rgb in zip(chunk, out):
                results[i] = tensor_to_pil(rgb.unsqueeze(0))
    return results


def _per_image_hints(model: Colorizer, hints, n: int) -> list[Hints]:
    from .hints import from_json
    if hints is None or isinstance(hints, Hints):
        return [resolve_hints(model, hints)] * n
    hints = list(hints)
    if len(hints) != n:
        raise ValueError(f"{len(hints)} hint sets for {n} images")
    return [resolve_hints(model, from_json(h) if isinstance(h, (dict, str)) or h is None else h) for h in hints]


__all__ = ["accepts_hints", "colorize", "colour_at", "colorize_batch", "grey_tensor", "predict", "net_shape"]
