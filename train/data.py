"""Training data: any folder of images, searched recursively, decoded once into memory.

Unreadable files are skipped with a warning and counted. Augmentation (random
resized crop with scale jitter, horizontal flip) is a pure function of
(seed, epoch, index), so a run is deterministic and resumes exactly.
"""
from __future__ import annotations

import hashlib
import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from colorlab.imaging import IMAGE_EXTS as EXTS  # noqa: F401  (EXTS re-exported)
from colorlab.imaging import ImageError, find_images, load_image


def read_images(root, limit: int | None = None):
    """Decode every image under ``root`` -> (relative names, PIL images, data sha256, skipped count).

    Unreadable files are skipped with a warning; the hash covers each name and file's bytes."""
    names, images, skipped, h = [], [], 0, hashlib.sha256()
    for path in find_images(root)[:limit]:
        try:
            data = path.read_bytes()
            img = load_image(data)
        except (ImageError, OSError) as exc:
            warnings.warn(f"skipping {path}: {exc}", stacklevel=2)
            skipped += 1
            continue
        rel = path.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        names.append(rel)
        images.append(img)
    return names, images, h.hexdigest(), skipped


def load_folder(root, short_side: int | None = None, limit: int | None = None):
    """Decode every image under ``root`` -> (uint8 arrays (H,W,3), data sha256, skipped count).

    ``short_side`` down-scales each image so its short side is at most that (saves memory).
    """
    _, images, digest, skipped = read_images(root, limit)
    arrays = []
    for img in images:
        if short_side and min(img.size) > short_side:
            s = short_side / min(img.size)
            img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BICUBIC)
        arrays.append(np.asarray(img))
    return arrays, digest, skipped


def load_folders(roots, short_side: int | None = None, limit: int | None = None):
    """``load_folder`` over one folder or a list of them, in order -> (arrays, sha256, skipped).

    One folder (alone or in a list) hashes exactly as ``load_folder`` does; several hash
    their digests in order. ``limit`` caps the total, so the first folder's images come first.
    """
    if isinstance(roots, (str, Path)):
        roots = [roots]
    if len(roots) == 1:
        return load_folder(roots[0], short_side, limit)
    arrays, digests, skipped = [], [], 0
    for root in roots:
        left = None if limit is None else limit - len(arrays)
        if left is not None and left <= 0:
            break
        a, d, s = load_folder(root, short_side, left)
        arrays += a
        digests.append(d)
        skipped += s
    return arrays, hashlib.sha256("\n".join(digests).encode()).hexdigest(), skipped


def random_crop(arr: np.ndarray, size: int, gen: torch.Generator, scale=(0.45, 1.0),
                ratio=(3 / 4, 4 / 3)) -> torch.Tensor:
    """Random resized crop + horizontal flip of uint8 (H,W,3) -> float (3,size,size) in [0,1]."""
    H, W = arr.shape[:2]
    r = torch.rand(5, generator=gen).tolist()
    area = H * W * (scale[0] + (scale[1] - scale[0]) * r[0])
    aspect = math.exp(math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * r[1])
    cw = int(min(W, max(8, round(math.sqrt(area * aspect)))))
    ch = int(min(H, max(8, round(math.sqrt(area / aspect)))))
    y, x = int(r[2] * (H - ch + 1)), int(r[3] * (W - cw + 1))
    crop = torch.from_numpy(np.array(arr[y:y + ch, x:x + cw])).permute(2, 0, 1).float().div_(255)
    crop = F.interpolate(crop[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]
    return crop.flip(-1) if r[4] < 0.5 else crop


class CropDataset(Dataset):
    """Augmented crops of in-memory images; ``set_epoch`` changes the draw."""

    def __init__(self, arrays, size: int, seed: int = 0):
        self.arrays, self.size, self.seed, self.epoch = arrays, size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self):
        return len(self.arrays)

    def __getitem__(self, i):
        gen = torch.Generator().manual_seed(hash((self.seed, self.epoch, i)) & 0x7FFFFFFF)
        return random_crop(self.arrays[i], self.size, gen).clamp_(0, 1)
