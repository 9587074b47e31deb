"""Generated blocks in the docs: text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``.

Each block has one writer (a generator) and lives on one page; ``PAGES`` records which, so a
generator writes to the right page and ``tests/test_docblocks.py`` can check every block on
every page is what its generator would write now.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- ([\w-]+):start -->\n?(.*?)<!-- \1:end -->", re.S)

# block name -> (page it lives on, relative to the repository, and the command that writes it)
PAGES: dict[str, tuple[str, str]] = {
    "headline": ("README.md", "python -m train.report"),
    "results": ("docs/results.md", "python -m train.report"),
    "suggestions": ("README.md", "python -m train.suggestions_report"),
    "hints": ("docs/hints.md", "python -m train.hints_curve"),
    "bench": ("docs/benchmarks.md", "python -m bench.run"),
    "hostile": ("docs/benchmarks.md", "python -m bench.run --hostile"),
}


def page(name: str, root: Path = ROOT) -> Path:
    """The file that holds block ``name``."""
    return root / PAGES[name][0]


def blocks(text: str) -> dict[str, str]:
    """Every block of ``text``: name -> its body (without the markers)."""
    return {m.group(1): m.group(2) for m in BLOCK.finditer(text)}


def replace(text: str, name: str, body: str) -> str | None:
    """``text`` with block ``name``'s body replaced by ``body``; None if its markers are missing
    or out of order."""
    start_mark, end_mark = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    start, end = text.find(start_mark), text.find(end_mark)
    if start < 0 or end < start:
        return None
    body = body if body.endswith("\n") else body + "\n"
    return text[:start + len(start_mark)] + "\n" + body + text[end:]


def write(path: Path, name: str, body: str) -> bool:
    """Put ``body`` into block ``name`` of the file ``path``. Returns whether the file changed.
    Raises ValueError if the file lacks the block's markers (nothing is written)."""
    path = Path(path)
    text = path.read_text() if path.is_file() else ""
    new = replace(text, name, body)
    if new is None:
        raise ValueError(f"{path}: no <!-- {name}:start --> ... <!-- {name}:end --> markers")
    if new == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new)
    tmp.replace(path)
    return True


def demote_headings(markdown: str, levels: int = 1) -> str:
    """Markdown with every ATX heading ``levels`` deeper (``## x`` -> ``### x``), outside code fences,
    so that a generated report nests under the page's own heading."""
    out, fenced = [], False
    for line in markdown.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "".join(out)


# ---------------------------------------------------------------- stamps
# A block whose generator is too slow for the fast suite (the results' bootstrap intervals take
# ~10 s) ends with a stamp: a digest of the files it was generated from and one of its own text.
# The fast test recomputes both: new inputs without a rerun, or a hand edit, show as a mismatch.
# (The slow tests regenerate such blocks in full.)

STAMP = re.compile(r"\n?<!-- generated from inputs ([0-9a-f]{16}); text ([0-9a-f]{16}) -->\n?\Z")


def files_digest(paths) -> str:
    """sha256 (hex, 16 digits) over the names and contents of ``paths``, in name order."""
    h = hashlib.sha256()
    for p in sorted(Path(p) for p in paths):
        h.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]


def _text_digest(body: str) -> str:
    return hashlib.sha256(body.rstrip("\n").encode()).hexdigest()[:16]


def stamp(body: str, inputs: str) -> str:
    """``body`` with its stamp appended (``inputs``: ``files_digest`` of what it was made from)."""
    body = body.rstrip("\n")
    return f"{body}\n\n<!-- generated from inputs {inputs}; text {_text_digest(body)} -->\n"


def read_stamp(block: str) -> tuple[str, str | None, bool]:
    """(body without the stamp, the stamped inputs digest or None, whether the text is unedited)."""
    m = STAMP.search(block)
    if m is None:
        return block, None, False
    body = block[:m.start()]
    return body, m.group(1), _text_digest(body) == m.group(2)
