"""Publish the lab as a Hugging Face Space, and rehearse that offline.

    python -m colorlab.tools.space check                                  # offline rehearsal (CI runs it)
    python -m colorlab.tools.space deploy --repo USER/NAME [--private] [--dry-run]

Why not ``git push``: the Hub refuses pushes with binary files outside LFS/Xet storage,
and the checkpoints and images are plain git objects in this repository's history (they
stay that way, for CI). ``deploy`` therefore uploads the files through huggingface_hub's
commit API, which stores the binaries in Xet, in one commit that makes the Space hold
exactly the planned file set (anything else there is deleted).

The file set is rule-based (``RULES``): the Space's own files, the library's sources and
the data folders the app reads. A new data folder the app needs is one more line in
``RULES``; the ``check`` rehearsal fails when the set leaves out something the app needs,
because it launches ``app.py`` from a folder holding only the set and calls every endpoint.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from colorlab.tools import appserver

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ("*.jpg", "*.jpeg", "*.png", "*.webp")


@dataclass(frozen=True)
class Rule:
    """Files of the Space: ``path`` (a file, or a folder searched recursively for ``patterns``)."""
    path: str
    why: str
    patterns: tuple[str, ...] = ()
    required: bool = True     # the plan fails if it matches nothing
    skip: tuple[str, ...] = ()   # sub-folders of ``path`` left out


RULES: tuple[Rule, ...] = (
    Rule("README.md", "the Space's card: its front matter configures the Space"),
    Rule("app.py", "the entry point (app_file)"),
    Rule("requirements.txt", "installed by the Space at build time"),
    Rule("constraints.txt", "the pinned versions requirements.txt installs (-c)"),
    Rule("LICENSE.md", "the licence the front matter links to (code MIT, weights non-commercial)"),
    Rule("colorlab", "the library the app is a thin layer over", ("*.py",),
         skip=("colorlab/tools",)),   # deploy and dev tooling (this file, the app server) stays home
    # data folders the app reads: add new ones here
    Rule("weights", "the shipped checkpoints and their sidecars", ("*.safetensors", "*.json")),
    Rule("examples", "the Colorize tab's example photos and their credits", IMAGES + ("*.md",)),
    Rule("study_pool", "the Turing test's photo pool and its credits", IMAGES + ("*.md",)),
)
NEVER = ("tests", "runs", "bench", "train", "data", "docs", ".git", ".ci", "colorlab/tools")   # none of these ship
SKIP_PARTS = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")

# Limits the plan is checked against. The Hub's hard limits are far above these (50 GB a file);
# these are what keeps a cpu-basic Space quick to build and start, and small enough that even a
# plain-git mirror (10 MB a file on Spaces) would work.
MAX_FILE_BYTES = 10 * 1024 ** 2
MAX_TOTAL_BYTES = 1024 ** 3
MAX_FILES = 1000
MAX_PER_FOLDER = 10_000     # the Hub's recommendation
SHORT_DESCRIPTION_MAX = 60  # the Hub's limit for short_description
HUB_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
REFUSALS_BY_DESIGN = ("COLORLAB_ORGANISER_TOKEN", "organiser token")   # configuration, not a fault


class SpaceError(Exception):
    """A problem with the plan or the check; the message is for the user."""


@dataclass(frozen=True)
class PlannedFile:
    path: str      # in the Space repository (posix)
    source: Path
    size: int
    rule: str


def plan(root: Path | str = ROOT, rules: tuple[Rule, ...] = RULES, exclude=()) -> list[PlannedFile]:
    """The exact files of the Space, from ``rules`` applied to ``root`` (sorted by path).
    ``exclude``: repository paths to leave out (a rehearsal of a forgotten file)."""
    root = Path(root)
    exclude, out, errors = set(exclude), {}, []
    for rule in rules:
        src = root / rule.path
        if src.is_file() and not rule.patterns:
            found = [src]
        elif src.is_dir() and rule.patterns:
            found = [p for p in sorted(src.rglob("*")) if p.is_file()
                     and any(fnmatch.fnmatch(p.name.lower(), pat) for pat in rule.patterns)
                     and not set(p.relative_to(root).parts) & set(SKIP_PARTS)
                     and not any(p.relative_to(root).as_posix().startswith(d + "/") for d in rule.skip)]
        else:
            found = []
        found = [p for p in found if p.relative_to(root).as_posix() not in exclude]
        if not found and rule.required:
            errors.append(f"{rule.path}: nothing to ship ({rule.why})")
        for p in found:
            rel = p.relative_to(root).as_posix()
            out[rel] = PlannedFile(rel, p, p.stat().st_size, rule.path)
    if errors:
        raise SpaceError("the file set is incomplete:\n  " + "\n  ".join(errors))
    return [out[k] for k in sorted(out)]


def front_matter(readme: Path | str) -> dict:
    """The YAML front matter of a README (between the leading ``---`` lines)."""
    import yaml
    text = Path(readme).read_text(encoding="utf-8")
    m = re.match(r"---\s*\n(.*?)\n---\s*\n", text, re.S)
    if not m:
        raise SpaceError(f"{readme}: no front matter (--- ... ---) at the top")
    meta = yaml.safe_load(m.group(1)) or {}
    if not isinstance(meta, dict):
        raise SpaceError(f"{readme}: the front matter is not a mapping")
    return meta


def pinned(requirements: Path | str, package: str) -> str | None:
    """The version ``package==X`` is pinned to in a requirements file (None if not pinned)."""
    for line in Path(requirements).read_text().splitlines():
        m = re.match(rf"\s*{re.escape(package)}\s*==\s*([^\s;#]+)", line, re.I)
        if m:
            return m.group(1)
    return None


def validate(files: list[PlannedFile]) -> list[str]:
    """Problems with the planned set: front matter, sizes, what must and must not ship."""
    by_path = {f.path: f for f in files}
    problems = []
    if "README.md" not in by_path or "requirements.txt" not in by_path:
        return ["README.md and requirements.txt must ship"]
    try:
        meta = front_matter(by_path["README.md"].source)
    except SpaceError as exc:
        return [str(exc)]
    if meta.get("sdk") != "gradio":
        problems.append(f"front matter: sdk is {meta.get('sdk')!r}, not 'gradio'")
    want = pinned(by_path["requirements.txt"].source, "gradio")
    if want is None:
        problems.append("requirements.txt does not pin gradio (gradio==X)")
    elif str(meta.get("sdk_version")) != want:
        problems.append(f"front matter: sdk_version {meta.get('sdk_version')!r} is not the pinned gradio {want}")
    app_file = meta.get("app_file")
    if not app_file or app_file not in by_path:
        problems.append(f"front matter: app_file {app_file!r} is not in the file set")
    if not re.fullmatch(r"3\.\d+", str(meta.get("python_version", ""))):
        problems.append(f"front matter: python_version must be set (e.g. \"3.11\"), got {meta.get('python_version')!r}")
    if len(str(meta.get("short_description", ""))) > SHORT_DESCRIPTION_MAX:
        problems.append(f"front matter: short_description is longer than {SHORT_DESCRIPTION_MAX} characters")
    for key in ("colorFrom", "colorTo"):
        if key in meta and meta[key] not in HUB_COLOURS:
            problems.append(f"front matter: {key} {meta[key]!r} is not one of {sorted(HUB_COLOURS)}")
    lic = meta.get("license")
    if not lic:
        problems.append("front matter: license is not set")
    elif lic == "other":
        if not meta.get("license_name"):
            problems.append("front matter: license 'other' needs a license_name")
        link = str(meta.get("license_link", ""))
        if not link:
            problems.append("front matter: license 'other' needs a license_link")
        elif "://" not in link and link.lstrip("./") not in by_path:
            problems.append(f"front matter: license_link {link!r} is not in the file set")
    # checkpoints: every sidecar with its weights, every weights file with its sidecar, hashes intact
    for f in files:
        if f.path.startswith("weights/") and f.path.endswith(".json"):
            twin = f.path[:-5] + ".safetensors"
            if twin not in by_path:
                problems.append(f"{f.path}: its weights {twin} are not in the file set")
                continue
            sha = json.loads(f.source.read_text()).get("sha256")
            if sha and hashlib.sha256(by_path[twin].source.read_bytes()).hexdigest() != sha:
                problems.append(f"{twin}: SHA-256 does not match its sidecar")
        elif f.path.startswith("weights/") and f.path.endswith(".safetensors"):
            if f.path[:-12] + ".json" not in by_path:
                problems.append(f"{f.path}: its sidecar is not in the file set")
    # sizes
    for f in files:
        if f.size > MAX_FILE_BYTES:
            problems.append(f"{f.path}: {human(f.size)} is over the {human(MAX_FILE_BYTES)} limit per file")
    total = sum(f.size for f in files)
    if total > MAX_TOTAL_BYTES:
        problems.append(f"the set is {human(total)}, over the {human(MAX_TOTAL_BYTES)} limit")
    if len(files) > MAX_FILES:
        problems.append(f"{len(files)} files, over the {MAX_FILES} limit")
    folders: dict[str, int] = {}
    for f in files:
        parent = f.path.rsplit("/", 1)[0] if "/" in f.path else ""
        folders[parent] = folders.get(parent, 0) + 1
    problems += [f"{d or '.'}: {n} entries, over {MAX_PER_FOLDER}" for d, n in folders.items() if n > MAX_PER_FOLDER]
    leaked = [f.path for f in files if any(f.path == d or f.path.startswith(d + "/") for d in NEVER)]
    if leaked:
        problems.append(f"these must not ship: {leaked[:5]}")
    return problems


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def describe(files: list[PlannedFile], repo: str | None = None) -> str:
    """The plan as text: repository, every file with its size, totals per rule and overall."""
    lines = [f"Space: {repo}" if repo else "Space file set", ""]
    lines += [f"  {human(f.size):>9}  {f.path}" for f in files]
    lines.append("")
    for rule in dict.fromkeys(f.rule for f in files):
        part = [f for f in files if f.rule == rule]
        lines.append(f"  {rule}: {len(part)} files, {human(sum(f.size for f in part))}")
    lines.append(f"total: {len(files)} files, {human(sum(f.size for f in files))}")
    return "\n".join(lines)


def build(files: list[PlannedFile], dest: Path) -> Path:
    """Copy exactly ``files`` into ``dest`` (as the Space will hold them)."""
    for f in files:
        target = dest / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f.source, target)
    return dest


# ---------------------------------------------------------------- the rehearsal

def launch(folder: Path, log_path: Path, timeout: float = 300) -> appserver.AppServer:
    """``python app.py`` in ``folder`` as a Space runs it: COLORLAB_* unset, that folder as the
    working directory and nothing else on the path."""
    try:
        return appserver.start(folder, log_path=log_path, clean=True, timeout=timeout)
    except appserver.LaunchError as exc:
        raise SpaceError(str(exc)) from exc


def declared_endpoints(app_file: Path) -> list[str]:
    """The ``api_name``s the app's source names (``app_file`` and the tabs it builds,
    ``colorlab/ui/*.py`` beside it): each must be served."""
    sources = [app_file, *sorted((app_file.parent / "colorlab" / "ui").glob("*.py"))]
    return sorted({name for f in sources
                   for name in re.findall(r"api_name\s*=\s*[\"']([A-Za-z0-9_]+)[\"']", f.read_text())})


# A refusal the app gives on purpose (no open study yet, no organiser token configured) is an
# answer; these words mark a fault behind a message (a file or model the set left out).
FAULT = re.compile(r"something went wrong|errno|no such file|not installed|not found|does not exist|missing|"
                   r"traceback|no \w+ (?:is|are) (?:installed|available)|validation error", re.I)


def _config(url: str) -> dict:
    import urllib.request
    with urllib.request.urlopen(url.rstrip("/") + "/config", timeout=30) as r:
        return json.load(r)


def served_api_names(url: str) -> set[str]:
    """Every api_name the running app has wired, documented or not (from its /config)."""
    return {d.get("api_name") for d in _config(url).get("dependencies", []) if d.get("api_name")}


def ui_signature(url: str) -> list[str]:
    """What the running app shows and wires: its components (type, label, element id) and its
    events, from /config. An app that quietly leaves out a part (e.g. the examples gallery when
    the example photos are missing) has a different signature."""
    config = _config(url)
    props = [(c.get("type"), c.get("props") or {}) for c in config.get("components", [])]
    comps = [f"{kind}:{p.get('label') or ''}:{p.get('elem_id') or ''}" for kind, p in props]
    def name(d):   # unnamed events are numbered in order by Gradio: compare them by shape only
        n = str(d.get("api_name") or "")
        return "-" if not n or n.startswith("false") else n
    events = [f"~event:{name(d)}:{len(d.get('inputs', []))}->{len(d.get('outputs', []))}"
              for d in config.get("dependencies", [])]
    return sorted(comps) + sorted(events)   # components first: they name what is missing


def reference_signature(root: Path, log_path: Path) -> list[str]:
    """The UI signature of the app run from the repository itself (same environment as the Space)."""
    server = launch(Path(root), log_path)
    try:
        return ui_signature(server.url)
    finally:
        server.stop()


def call_every_endpoint(url: str, photo: Path, expected: list[str], downloads: Path) -> list[str]:
    """Call each named endpoint once, in the app's order; returns the problems found."""
    from gradio_client import Client
    client = Client(url, verbose=False, download_files=str(downloads))
    named = client.view_api(print_info=False, return_format="dict").get("named_endpoints", {})
    wired = served_api_names(url)
    problems = [f"/{n}: declared in app.py but not wired (a file it needs is missing?)"
                for n in expected if n not in wired]
    calls = [(name, info.get("parameters", []), None) for name, info in named.items()]
    calls += [(f"/{n}", [], (0,)) for n in expected if n in wired and f"/{n}" not in named]   # undocumented
    counts = {"ok": 0, "refused": 0}
    for name, params, positional in calls:
        t0 = time.perf_counter()
        try:
            if positional is None:
                client.predict(api_name=name, **appserver.endpoint_arguments(params, photo))
            else:
                client.predict(*positional, api_name=name)
            status = "ok"
        except Exception as exc:   # noqa: BLE001 - every failure is a finding
            msg = " ".join(str(exc).split())
            app_error = type(exc).__name__ == "AppError"
            if app_error and not FAULT.search(msg) or any(s.lower() in msg.lower() for s in REFUSALS_BY_DESIGN):
                status = f"refused by the app ({msg[:90]})"
            else:
                status = f"FAILED: {type(exc).__name__}: {msg[:300]}"
                problems.append(f"{name}: {status}")
        counts["refused" if status.startswith("refused") else "ok"] += status == "ok" or status.startswith("refused")
        print(f"  {name:28s} {time.perf_counter() - t0:6.2f} s  {status}", flush=True)
    print(f"  {len(calls)} endpoints called: {counts['ok']} answered, {counts['refused']} refused by the app's own "
          f"rules (no study, no organiser token: COLORLAB_* are unset)", flush=True)
    return problems


def check(root: Path | str = ROOT, rules: tuple[Rule, ...] = RULES, exclude=(), launch_app: bool = True,
          keep: Path | None = None, compare_with_repository: bool = True) -> list[str]:
    """The offline rehearsal: plan, validate, build into a temporary folder, launch and call every
    endpoint; then launch the app from the repository too and compare what the two show and wire
    (a data folder the set leaves out can make the app quietly drop a part). Returns the problems
    (empty: the Space should work)."""
    try:
        files = plan(root, rules, exclude)
    except SpaceError as exc:
        return [str(exc)]
    problems = validate(files)
    print(describe(files).splitlines()[-1], flush=True)
    if problems or not launch_app:
        return problems
    with tempfile.TemporaryDirectory(prefix="colorlab-space-") as tmp:
        tmp = Path(keep) if keep else Path(tmp)
        folder = build(files, tmp / "space")
        photo = next((folder / f.path for f in files if f.rule == "examples"
                      and f.path.lower().endswith((".jpg", ".jpeg", ".png"))), None)
        if photo is None:
            from PIL import Image
            photo = tmp / "photo.png"
            Image.new("RGB", (64, 48), (180, 90, 40)).save(photo)
        try:
            server = launch(folder, tmp / "app.log")
        except SpaceError as exc:
            return [str(exc)]
        url = server.url
        print(f"  app answered after {server.seconds:.1f} s", flush=True)
        try:
            meta = front_matter(folder / "README.md")
            problems += call_every_endpoint(url, photo, declared_endpoints(folder / meta["app_file"]),
                                            tmp / "downloads")
            space_ui = ui_signature(url)
        finally:
            server.stop()
        if compare_with_repository and not problems:
            try:
                repo_ui = reference_signature(Path(root), tmp / "repo-app.log")
            except SpaceError as exc:
                problems.append(f"the app does not start from the repository either: {exc}")
            else:
                from collections import Counter
                missing = Counter(repo_ui) - Counter(space_ui)
                lost = [x for x in repo_ui if missing[x]]
                if lost:
                    problems.append("the Space's app lacks what the repository's shows (a file it needs is "
                                    "missing?): " + "; ".join(lost[:6]))
                else:
                    print("  the Space's app shows and wires the same as the repository's", flush=True)
        stray = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
                 if p.is_file() and p.relative_to(folder).parts[0] in ("tests", "runs", "bench")]
        if stray:
            problems.append(f"the app created files where it should not: {stray[:5]}")
    return problems


# ---------------------------------------------------------------- deploy

def deploy(repo: str, private: bool = False, dry_run: bool = False, root: Path | str = ROOT,
           message: str | None = None) -> str:
    """Create the Space if needed and make it hold exactly the planned files, in one commit.
    Authenticates as huggingface_hub does (HF_TOKEN, or ``hf auth login``)."""
    files = plan(root)
    problems = validate(files)
    if problems:
        raise SpaceError("the file set does not pass validation:\n  " + "\n  ".join(problems))
    text = describe(files, repo)
    if dry_run:
        return text + "\n(dry run: nothing uploaded)"
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    api = HfApi()
    url = api.create_repo(repo, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    planned = {f.path for f in files}
    stale = [p for p in api.list_repo_files(repo, repo_type="space")
             if p not in planned and p != ".gitattributes"]
    ops = [CommitOperationAdd(path_in_repo=f.path, path_or_fileobj=str(f.source)) for f in files]
    ops += [CommitOperationDelete(path_in_repo=p) for p in stale]
    info = api.create_commit(repo, ops, repo_type="space",
                             commit_message=message or f"colorlab {_version(root)}: {len(files)} files")
    return (text + f"\nuploaded to {url} ({len(stale)} stale files removed): {getattr(info, 'commit_url', info)}\n"
            f"Set the organiser secret COLORLAB_ORGANISER_TOKEN in the Space's settings to allow publishing studies.")


def _version(root) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unversioned"
    except (OSError, subprocess.SubprocessError):
        return "unversioned"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m colorlab.tools.space", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check",
                       help="offline rehearsal: build the file set, validate it, launch it, call every endpoint")
    c.add_argument("--no-launch", action="store_true", help="only plan and validate")
    d = sub.add_parser("deploy", help="create the Space if needed and upload exactly the file set")
    d.add_argument("--repo", required=True, metavar="USER/NAME")
    d.add_argument("--private", action="store_true")
    d.add_argument("--dry-run", action="store_true", help="print the plan: repository, files, sizes and total")
    d.add_argument("--message", help="commit message")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "check":
            problems = check(launch_app=not args.no_launch)
            if problems:
                print("check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
                return 1
            print("check passed")
            return 0
        print(deploy(args.repo, args.private, args.dry_run, message=args.message))
        return 0
    except SpaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:   # noqa: BLE001 - the Hub's errors (not logged in, no access, offline)
        if type(exc).__module__.split(".")[0] != "huggingface_hub" and not isinstance(exc, OSError):
            raise
        print(f"error: the Hub refused or could not be reached: {exc}\n"
              f"(log in with `hf auth login` or set HF_TOKEN to a token with write access)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
