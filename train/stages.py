"""Recover the earlier training stages of shipped fine-tunes into their sidecars (``init.stages``).

A fine-tune's sidecar records its start under ``init`` (file, sha256, command) and, since
``train`` writes it, the start's own stages (``init.stages``, read by
``colorlab.checkpoints.training_stages``). Older sidecars lack them, but every start that was
shipped is in the git history of ``weights/NAME.json``. For each sidecar whose ``init`` has no
``stages``, this finds the committed version of the same file that is the start:

* the one whose weights' sha256 is the start's (``matched by sha256``), else
* the one whose command is the longest leading part of the start's command
  (``matched by command``); the commands after it are then one stage whose epochs are not
  known (its own sidecar was never committed),

takes that version's stages (recursively, the same way) and writes them under ``init.stages``,
each with ``source`` (``git COMMIT:weights/NAME.json``, and how it was matched). Only the
sidecars change: the weights, their sha256 and every other key stay as they were.

    python -m train.stages [--weights weights] [--dry-run]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from colorlab.checkpoints import CheckpointMeta, training_stages

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def committed_versions(path: Path) -> list[tuple[str, dict]]:
    """(commit, sidecar dict) for every committed version of ``path`` (newest first);
    versions that are not valid JSON are skipped."""
    rel = path.resolve().relative_to(ROOT).as_posix()
    out = []
    for commit in _git("log", "--format=%H", "--", rel).split():
        try:
            out.append((commit, json.loads(_git("show", f"{commit}:{rel}"))))
        except (subprocess.CalledProcessError, json.JSONDecodeError):
            continue
    return out


def _commands(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split("&&") if c.strip()]


def find_start(init: dict, versions: list[tuple[str, dict]]) -> tuple[str, dict, str] | None:
    """The committed version that is ``init``'s start: (commit, sidecar, how it matched), or None."""
    for commit, d in versions:
        if init.get("sha256") and d.get("sha256") == init["sha256"]:
            return commit, d, "sha256"
    wanted = _commands(init.get("command"))
    best = None
    for commit, d in versions:
        have = _commands(d.get("command"))
        if have and have == wanted[:len(have)] and (best is None or len(have) > len(_commands(best[1]["command"]))):
            best = (commit, d, "command")
    return best


def full_stages(sidecar: dict, versions: list[tuple[str, dict]], rel: str) -> list[dict]:
    """Every stage of ``sidecar`` (a sidecar dict), its start's recovered from ``versions`` when
    it does not record them (``training_stages``' placeholder when they cannot be found)."""
    init = sidecar.get("init")
    if isinstance(init, dict) and not isinstance(init.get("stages"), list):
        earlier = start_stages(init, versions, rel)
        if earlier is not None:
            sidecar = {**sidecar, "init": {**init, "stages": earlier}}
    return training_stages(CheckpointMeta.from_json(sidecar, rel))


def start_stages(init: dict, versions: list[tuple[str, dict]], rel: str) -> list[dict] | None:
    """Every stage of the start that ``init`` records, from its committed sidecar; None when
    no committed version is that start."""
    found = find_start(init, versions)
    if found is None:
        return None
    commit, start, how = found
    stages = [dict(s) for s in full_stages(start, versions, f"{commit[:12]}:{rel}")]
    stages[-1].setdefault("source", f"git {commit[:12]}:{rel} (matched by {how})")
    missing = _commands(init.get("command"))[len(_commands(start.get("command"))):]
    if how == "command" and missing:
        stages.append({"command": " && ".join(missing), "epochs": None, "best_epoch": None, "seconds": None,
                       "source": "not committed: no sidecar of this stage was kept"})
    return stages


def write_sidecar(path: Path, sidecar: dict) -> None:
    """Write ``sidecar`` to ``path`` atomically, its keys in their order (a small diff), after
    checking that it still reads as a ``CheckpointMeta``."""
    CheckpointMeta.from_json(sidecar, path.name)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(json.dumps(sidecar, indent=2) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=ROOT / "weights")
    ap.add_argument("--dry-run", action="store_true", help="print what would be written, change nothing")
    args = ap.parse_args(argv)
    for path in sorted(args.weights.glob("*.json")):
        sidecar = json.loads(path.read_text())
        init = sidecar.get("init")
        if not isinstance(init, dict) or isinstance(init.get("stages"), list):
            continue   # not a fine-tune, or its start's stages are recorded already
        rel = path.resolve().relative_to(ROOT).as_posix()
        stages = start_stages(init, committed_versions(path), rel)
        if stages is None:
            print(f"{path.name}: no committed version is its start ({init.get('file')}); left as it is")
            continue
        summary = " + ".join("?" if s.get("epochs") is None else str(s["epochs"]) for s in stages)
        print(f"{path.name}: earlier stages {summary} epochs")
        if not args.dry_run:
            write_sidecar(path, {**sidecar, "init": {**init, "stages": stages}})


if __name__ == "__main__":
    main()
