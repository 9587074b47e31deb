"""Command line: ``python -m colorlab {colorize,models,evaluate} ...``.

Exit codes: 0 success; 1 some input file could not be used (each one reported on
stderr as ``error: <file>: <reason>``, the others still processed); 2 bad usage or
an unusable checkpoint.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors import safe_open
from tqdm import tqdm

from . import checkpoints
from .checkpoints import CheckpointError, CheckpointMeta, get_model, list_checkpoints
from .hints import NO_HINTS, POINT_REACH, from_json, make_hints, simulate
from .imaging import find_images, load_image
from .pipeline import accepts_hints, colorize

PROGRESS_FROM = 4   # show a progress bar from this many files (and only on a terminal)
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class _Failures:
    """Collects per-file errors, printing each as one line on stderr as it happens."""

    def __init__(self):
        self.items: list[dict] = []

    def add(self, path, exc: Exception) -> None:
        # ImageError messages may already start with the path; do not say it twice.
        reason = str(exc).removeprefix(f"{path}: ") or type(exc).__name__
        self.items.append({"file": str(path), "reason": reason})
        tqdm.write(f"error: {path}: {reason}", file=sys.stderr)


def _progress(items, desc: str):
    return tqdm(items, desc=desc, unit="img", file=sys.stderr,
                disable=None if len(items) >= PROGRESS_FROM else True)


def _die(what, reason) -> None:
    print(f"error: {what}: {reason}", file=sys.stderr)
    raise SystemExit(2)


def _load_model(args):
    try:
        return get_model(args.model, args.weights_dir)
    except (CheckpointError, OSError) as exc:
        _die(args.model, exc)


def _hints_by_file(args) -> dict:
    """File name -> Hints from --hints FILE, or for a single input from --point/--tint/--reach."""
    single = args.point or args.tint or args.reach is not None
    if args.hints and single:
        _die("--hints", "give hints either as a file (--hints) or as --point/--tint/--reach, not both")
    if single:
        if len(args.files) != 1:
            _die("--point/--tint/--reach",
                 f"are for a single input ({len(args.files)} given); use --hints FILE for several")
        try:
            return {Path(args.files[0]).name: make_hints(args.point, args.tint, args.reach)}
        except ValueError as exc:
            _die("--point/--tint/--reach", exc)
    if not args.hints:
        return {}
    try:
        data = json.loads(Path(args.hints).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        _die(args.hints, f"cannot read the hints file ({exc})")
    if not isinstance(data, dict):
        _die(args.hints, 'must map file names to {"points": [[x, y, "#rrggbb"], ...], "tint": "#rrggbb"}')
    out = {}
    for name, spec in data.items():
        try:
            out[name] = from_json(spec)
        except ValueError as exc:
            _die(args.hints, f"{name}: {exc}")
    return out


def _point(text: str):
    """X,Y,#RRGGBB -> (x, y, colour); the range and colour are checked by make_hints."""
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected X,Y,#RRGGBB, got {text!r}")
    try:
        return float(parts[0]), float(parts[1]), parts[2].strip()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers for X and Y, got {text!r}") from None


SUGGEST_PNG_LEVEL = 1


def _suggest_files(args, model, out_dir: Path) -> int:
    """``colorize --suggest K``: OUT/<stem>.s1.png .. .sK.png (best ranked first) and
    OUT/<stem>.suggestions.json for each input; per-file errors as for ``colorize``."""
    from .suggestions import suggest, suggestions_json
    failures, written = _Failures(), {}
    for src in _progress(args.files, "suggest"):
        stem = Path(src).stem
        try:
            if stem in written:   # a.jpg and a.png would silently overwrite each other
                raise ValueError(f"outputs {out_dir / stem}.s*.png were already written for {written[stem]}")
            looks = suggest(src, model, args.suggest, args.render_size)
            for s in looks:   # zlib level 1: lossless too, and at 1 MP ~4x faster than the default 6
                s.image.save(out_dir / f"{stem}.s{s.rank}.png", optimize=False, compress_level=SUGGEST_PNG_LEVEL)
            (out_dir / f"{stem}.suggestions.json").write_text(
                json.dumps(dict(suggestions_json(looks, model), file=str(src)), indent=2) + "\n")
            written[stem] = src
        except CheckpointError as exc:   # the index: no use going on with the other files
            _die(args.model, exc)
        except (ValueError, OSError) as exc:   # ImageError is a ValueError
            failures.add(src, exc)
    return 1 if failures.items else 0


def _check_suggest(args, model) -> None:
    from .suggestions import MAX_K
    if not 1 <= args.suggest <= MAX_K:
        _die("--suggest", f"must be from 1 to {MAX_K}, got {args.suggest}")
    if args.hints or args.point or args.tint or args.reach is not None:
        _die("--suggest", "suggestions are tints chosen for you; give no --hints/--point/--tint/--reach with it")
    if args.saturation != 1.0:
        _die("--suggest", "each suggestion's saturation is its tint's; drop --saturation")
    if not accepts_hints(model):
        _die(args.model, "takes no colour hints, so it has no suggested looks "
                         "(use a hint-aware model, e.g. lab-general)")


def cmd_colorize(args) -> int:
    model = _load_model(args)
    if args.suggest is not None:
        _check_suggest(args, model)
    hints = _hints_by_file(args)
    if any(hints.values()) and not accepts_hints(model):
        _die(args.model, "is an automatic-only model: it takes no colour hints")
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _die(out_dir, f"cannot create the output folder ({exc.strerror or exc})")
    if args.suggest is not None:
        return _suggest_files(args, model, out_dir)
    failures, written = _Failures(), {}
    for src in _progress(args.files, "colorize"):
        dest = out_dir / f"{Path(src).stem}.png"
        try:
            if dest in written:   # a.jpg and a.png would silently overwrite each other
                raise ValueError(f"output {dest} was already written for {written[dest]}")
            given = hints.get(Path(src).name, NO_HINTS)
            colorize(src, model, args.render_size, args.saturation, hints=given).save(dest)
            written[dest] = src
        except (ValueError, OSError) as exc:   # ImageError is a ValueError
            failures.add(src, exc)
    return 1 if failures.items else 0


def count_params(path: Path) -> int | None:
    """Learnable parameters in a checkpoint, read from the safetensors header (no weights
    loaded; BatchNorm statistics are not parameters). None if the file is unreadable."""
    try:
        with safe_open(str(path), "pt") as f:
            return sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys() if not k.endswith(_BUFFERS))
    except Exception:  # noqa: BLE001  (safetensors raises its own error types; the listing must go on)
        return None


def _model_row(meta: CheckpointMeta, weights_dir: Path) -> dict:
    path = weights_dir / (meta.file or f"{meta.name}.safetensors")
    return {"name": meta.name, "space": meta.space, "category": meta.category,
            "architecture": meta.architecture, "params": count_params(path),
            "size_bytes": meta.size_bytes or path.stat().st_size,
            "train_size": meta.train_size, "render_size": meta.render_size,
            "val_metrics": meta.val_metrics, "grey_metrics": meta.grey_metrics}


def _fmt(value, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def cmd_models(args) -> int:
    weights_dir = Path(args.weights_dir or checkpoints.WEIGHTS_DIR)
    rows = [_model_row(m, weights_dir) for m in list_checkpoints(weights_dir)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no checkpoints in {weights_dir}")
        return 0
    w = max(len("name"), *(len(r["name"] or "") for r in rows))
    print(f"{'name':<{w}} {'space':<5} {'category':<10} {'architecture':<12} {'params':>10} "
          f"{'PSNR':>6} {'grey':>6} {'dE00':>6} {'grey':>6} {'size':>8}")
    for r in rows:
        v, g = r["val_metrics"], r["grey_metrics"]
        print(f"{r['name']:<{w}} {r['space']:<5} {r['category'] or '-':<10} {r['architecture']:<12} "
              f"{_fmt(r['params'], ','):>10} {_fmt(v.get('psnr')):>6} {_fmt(g.get('psnr')):>6} "
              f"{_fmt(v.get('ciede2000')):>6} {_fmt(g.get('ciede2000')):>6} {r['size_bytes'] / 1e6:>6.1f}MB")
    print("PSNR in dB and CIEDE2000 (dE00) on the validation set, next to the grey input's.")
    return 0


def _pairs(files, predict, failures: _Failures | None = None):
    """Yield (prediction, truth) uint8 arrays; unreadable files go to ``failures`` (or are skipped)."""
    for path in files:
        try:
            truth = np.asarray(load_image(path))
        except (ValueError, OSError) as exc:
            if failures is not None:
                failures.add(path, exc)
            continue
        yield predict(truth), truth


def cmd_evaluate(args) -> int:
    from .hints.baselines import flat_tint, propagate
    from .metrics import grey_baseline, summarize  # scikit-image takes a second to import; only evaluate needs it
    model = _load_model(args)
    hinted = args.points > 0 or args.tint
    if args.suggest is not None:
        from .suggestions import MAX_K
        if hinted:
            _die("--suggest", "scores the suggested tints against automatic and the true tint; drop --points/--tint")
        if not 1 <= args.suggest <= MAX_K:
            _die("--suggest", f"must be from 1 to {MAX_K}, got {args.suggest}")
        if not accepts_hints(model):
            _die(args.model, "takes no colour hints, so it has no suggested looks")
    if hinted and not accepts_hints(model):
        _die(args.model, "is an automatic-only model: it takes no colour hints (drop --points/--tint)")
    try:
        files = find_images(args.data)[:args.limit]
    except FileNotFoundError:
        _die(args.data, "no such folder")

    def hints_for(truth: np.ndarray):
        return simulate(truth, args.points, args.tint, args.seed)

    def as_model(truth: np.ndarray) -> np.ndarray:
        # colorize() turns the colour image grey first: the model sees what a user would give it.
        return np.asarray(colorize(Image.fromarray(truth), model, args.render_size,
                                   hints=hints_for(truth) if hinted else NO_HINTS))

    if args.suggest is not None:
        return _evaluate_suggest(args, model, files)
    failures = _Failures()
    try:
        scores = summarize(_pairs(_progress(files, "evaluate"), as_model, failures))
    except ValueError as exc:   # no readable image ("no images to score"), or one too small for SSIM
        _die(args.data, exc)
    # Further passes for the baselines: decoding again is cheap and keeps memory flat.
    failed = {x["file"] for x in failures.items}
    good = [f for f in files if str(f) not in failed]
    baselines = {"grey": summarize(_pairs(good, grey_baseline)),
                 # the flat tint always uses the reference's true cast, the tint --tint would give
                 "flat_tint": summarize(_pairs(good, lambda t: flat_tint(t, simulate(t, 0, True).tint)))}
    if args.points:
        baselines["naive_propagation"] = summarize(_pairs(good, lambda t: propagate(t, hints_for(t))))
    report = {"model": model.name, "data": str(args.data), "n": scores["n"],
              "render_size": args.render_size or model.render_size,
              "hints": {"points": args.points, "tint": bool(args.tint), "seed": args.seed},
              "scores": scores, "grey": baselines["grey"], "baselines": baselines, "errors": failures.items}
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 1 if failures.items else 0


SUGGEST_ROWS = ("automatic", "top-1", "best-of-K", "true tint")


def _evaluate_suggest(args, model, files) -> int:
    """``evaluate --suggest K``: per image, automatic, the top-ranked look, the best of the K
    looks (the best by each metric: what a user picking by eye gets at most) and the model
    given the true tint (the ceiling); mean PSNR and CIEDE2000 over the images."""
    from .metrics import ciede2000, psnr
    from .suggestions import suggest
    failures, rows = _Failures(), {r: {"psnr": [], "ciede2000": []} for r in SUGGEST_ROWS}
    for path in _progress(files, "evaluate"):
        try:
            truth = np.asarray(load_image(path))
            photo = Image.fromarray(truth)
            looks = [np.asarray(s.image) for s in suggest(photo, model, args.suggest, args.render_size)]
            auto = np.asarray(colorize(photo, model, args.render_size))
            ceiling = np.asarray(colorize(photo, model, args.render_size, hints=simulate(truth, 0, True)))
        except (ValueError, OSError) as exc:
            failures.add(path, exc)
            continue
        p = [min(psnr(x, truth), 100.0) for x in (auto, ceiling, *looks)]
        d = [ciede2000(x, truth) for x in (auto, ceiling, *looks)]
        for name, ps, de in (("automatic", p[0], d[0]), ("top-1", p[2], d[2]), ("best-of-K", max(p[2:]), min(d[2:])),
                             ("true tint", p[1], d[1])):
            rows[name]["psnr"].append(ps)
            rows[name]["ciede2000"].append(de)
    n = len(rows["automatic"]["psnr"])
    if not n:
        _die(args.data, "no images to score")
    scores = {r: {m: float(np.mean(v)) for m, v in rows[r].items()} for r in SUGGEST_ROWS}
    gap = scores["true tint"]["psnr"] - scores["automatic"]["psnr"]
    closed = (scores["best-of-K"]["psnr"] - scores["automatic"]["psnr"]) / gap if gap > 0 else None
    report = {"model": model.name, "data": str(args.data), "n": n, "k": args.suggest,
              "render_size": args.render_size or model.render_size, "scores": scores,
              "gap_closed": closed, "errors": failures.items}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{model.name} on {n} images from {args.data}: {args.suggest} suggested looks")
        print(f"{'':<11} {'PSNR':>7} {'CIEDE2000':>10}")
        for r in SUGGEST_ROWS:
            label = r.replace("K", str(args.suggest))
            print(f"{label:<11} {scores[r]['psnr']:>7.3f} {scores[r]['ciede2000']:>10.3f}")
        if closed is not None:
            print(f"best-of-{args.suggest} closes {100 * closed:.0f}% of the PSNR gap between automatic "
                  "and the true tint")
        print("best-of-K: the best look per image by each metric; "
              "true tint: the model given the photo's own mean a, b.")
    return 1 if failures.items else 0


def _table(report: dict) -> str:
    from .metrics import HIGHER_IS_BETTER
    render = report["render_size"] or "native"
    h = report["hints"]
    hints = ", ".join([f"{h['points']} simulated point hints"] * bool(h["points"]) + ["the true tint"] * h["tint"]
                      ) or "no hints"
    names = list(report["baselines"])
    lines = [f"{report['model']} on {report['n']} images from {report['data']} (render size {render}; "
             f"{hints}, seed {h['seed']})",
             f"{'metric':<13} {'model':>8} " + " ".join(f"{n:>17}" for n in names) + "  better"]
    for key in ("psnr", "ssim", "ciede2000", "colorfulness", "dcf"):
        better = {True: "higher", False: "lower", None: "closer to truth"}[HIGHER_IS_BETTER[key]]
        lines.append(f"{key:<13} {report['scores'][key]:>8.3f} "
                     + " ".join(f"{report['baselines'][n][key]:>17.3f}" for n in names) + f"  {better}")
    lines.append(f"{'truth colourfulness':<22} {report['scores']['truth_colorfulness']:.3f}")
    lines.append("flat_tint: the photo's L* with the true mean a, b everywhere; naive_propagation: the same "
                 "point hints' a, b spread by inverse-distance weighting.")
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _saturation(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 4.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 4], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m colorlab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    weights = argparse.ArgumentParser(add_help=False)
    weights.add_argument("--weights-dir", type=Path, default=None, metavar="D",
                         help="checkpoint folder (default: $COLORLAB_WEIGHTS or weights/)")

    p = sub.add_parser("colorize", parents=[weights], help="colorize image files into a folder")
    p.add_argument("--model", required=True, metavar="NAME", help="checkpoint name (see `models`) or .safetensors path")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder; writes OUT/<stem>.png at each input's size")
    p.add_argument("--render-size", type=_positive, default=None, metavar="N",
                   help="short side the network runs at (default: the checkpoint's)")
    p.add_argument("--saturation", type=_saturation, default=1.0, metavar="S",
                   help="chroma scale in [0, 4] (default 1)")
    p.add_argument("--hints", metavar="HINTS.json",
                   help='colour hints per input file name: {"NAME.jpg": {"points": [[x, y, "#rrggbb"], ...], '
                        '"tint": "#rrggbb", "reach": r}}; x, y are fractions of the width and height from the top-left')
    p.add_argument("--point", type=_point, action="append", metavar="X,Y,#RRGGBB",
                   help="a point hint for a single input (repeatable)")
    p.add_argument("--tint", metavar="#RRGGBB", help="the intended overall cast (mean a, b) for a single input")
    p.add_argument("--reach", type=float, default=None, metavar="R",
                   help=f"how far a lone point's colour reaches, as a fraction of the short side "
                        f"(default {POINT_REACH:g}; larger: one point speaks for more of the photo)")
    p.add_argument("--suggest", type=int, default=None, metavar="K",
                   help="write K suggested looks instead (OUT/<stem>.s1.png .. .sK.png, best ranked first, and "
                        "OUT/<stem>.suggestions.json with their tints and weights); hint-aware models only")
    p.add_argument("files", nargs="+", metavar="FILE", help="input images (any format PIL reads)")
    p.set_defaults(func=cmd_colorize)

    p = sub.add_parser("models", parents=[weights], help="list checkpoints and their metadata")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("evaluate", parents=[weights], help="score a model on a folder of colour images")
    p.add_argument("--model", required=True, metavar="NAME", help="checkpoint name or .safetensors path")
    p.add_argument("--data", required=True, type=Path, metavar="DIR",
                   help="folder of colour images (searched recursively)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--limit", type=_positive, default=None, metavar="N", help="use at most N images (sorted by path)")
    p.add_argument("--points", type=int, default=0, metavar="K",
                   help="simulate K point hints per image from the reference (random pixels, their true colour)")
    p.add_argument("--tint", action="store_true", help="give the reference's mean a, b as the tint")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the hint simulation (default 0)")
    p.add_argument("--suggest", type=int, default=None, metavar="K",
                   help="score K suggested looks: top-1 and best-of-K beside automatic and the true tint")
    p.add_argument("--render-size", type=_positive, default=None, metavar="N",
                   help="short side the network runs at (default: the checkpoint's)")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
