"""The server's disk: one private scratch folder per running instance, bounded by age and size.

Every instance (process) of the app gets its own folder, ``<tmp>/colorlab-<pid>-<random>``
(mode 0700), holding ``files/`` (each response's PNGs and CSVs, one sub-folder per response)
and ``gradio/`` (Gradio's cache of uploads and returned files: ``GRADIO_TEMP_DIR`` points
there unless the deployer set it). Two instances on one host never share or prune each
other's files, and nothing is written to the ratings' persistent storage.

``Scratch.prune`` removes what is older than ``SCRATCH_TTL`` and then, oldest first, what
exceeds ``SCRATCH_MAX_BYTES`` in the two folders together; it runs at most every
``PRUNE_EVERY`` seconds, when a response asks for a folder. ``clean_stale`` (at start)
removes the folders of instances that are no longer running (a killed process leaves its
folder behind). ``private_dir`` makes the ratings' folder 0700 and its files 0600.

Nothing here imports Gradio; ``instance_root()`` must run before Gradio is imported, since
Gradio reads ``GRADIO_TEMP_DIR`` at import.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from .limits import PRUNE_EVERY, SCRATCH_MAX_BYTES, SCRATCH_TTL

log = logging.getLogger("colorlab.scratch")
PREFIX = "colorlab-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-\w+$")
_root: Path | None = None
_root_lock = threading.Lock()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:    # someone else's live process
        return True
    return True


def clean_stale(base: Path | None = None) -> list[Path]:
    """Remove instance folders under ``base`` (the system temp folder) whose process is gone."""
    base = Path(tempfile.gettempdir()) if base is None else base
    removed = []
    for d in base.glob(f"{PREFIX}*"):
        m = _NAME.match(d.name)
        if m and d.is_dir() and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def instance_root(environ=None) -> Path:
    """This process's private folder (made, and stale ones cleaned, on the first call); sets
    ``GRADIO_TEMP_DIR`` to its ``gradio/`` sub-folder unless already set."""
    global _root
    env = os.environ if environ is None else environ
    with _root_lock:
        if _root is None:
            clean_stale()
            _root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))   # mode 0700
            (_root / "files").mkdir(mode=0o700)
            (_root / "gradio").mkdir(mode=0o700)
        env.setdefault("GRADIO_TEMP_DIR", str(_root / "gradio"))
    return _root


def _entries(folder: Path) -> list[tuple[float, int, Path]]:
    """(modification time, bytes, path) of each top-level entry of ``folder`` (a response's
    folder, or a Gradio cache folder), its size summed over its files."""
    out = []
    for entry in folder.iterdir() if folder.is_dir() else []:
        try:
            files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            out.append((max([entry.stat().st_mtime] + [p.stat().st_mtime for p in files]), size, entry))
        except OSError:       # removed meanwhile
            continue
    return out


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Scratch:
    """Response folders under ``root/files``, pruned together with ``others`` (e.g. Gradio's cache)."""

    def __init__(self, root: Path, others: tuple[Path, ...] = (), ttl: float = SCRATCH_TTL,
                 max_bytes: int = SCRATCH_MAX_BYTES, every: float = PRUNE_EVERY):
        self.files, self.others = Path(root) / "files", tuple(Path(p) for p in others)
        self.ttl, self.max_bytes, self.every = ttl, max_bytes, every
        self._last, self._lock = 0.0, threading.Lock()

    def new_dir(self) -> Path:
        """A fresh private folder for one response's files (pruning first, if it is time)."""
        self.files.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.maybe_prune()
        return Path(tempfile.mkdtemp(dir=self.files))

    def maybe_prune(self) -> None:
        now = time.time()
        with self._lock:
            if now - self._last < self.every:
                return
            self._last = now
        self.prune(now)

    def prune(self, now: float | None = None) -> int:
        """Remove entries past the TTL, then the oldest until the total is at most ``max_bytes``.
        Returns the bytes kept."""
        now = time.time() if now is None else now
        entries = sorted(e for folder in (self.files, *self.others) for e in _entries(folder))
        kept = []
        for mtime, size, path in entries:
            if now - mtime > self.ttl:
                _remove(path)
            else:
                kept.append((mtime, size, path))
        total = sum(size for _, size, _ in kept)
        for _, size, path in kept:            # oldest first
            if total <= self.max_bytes:
                break
            _remove(path)
            total -= size
        return total

    def used_bytes(self) -> int:
        return sum(size for folder in (self.files, *self.others) for _, size, _ in _entries(folder))


def private_dir(directory: Path) -> Path:
    """``directory`` (made if needed) readable only by this user: 0700, its files 0600."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(directory, 0o700)
        for p in directory.iterdir():
            if p.is_file():
                os.chmod(p, 0o600)
    except OSError as exc:    # a mount this user does not own: say so, but serve
        log.warning("could not make %s private: %s", directory, exc)
    return directory


__all__ = ["Scratch", "clean_stale", "instance_root", "private_dir"]
