"""pyproject.toml, requirements*.txt and constraints.txt tell one story: the same direct
dependencies with the same specifiers, and an exact pin in constraints.txt for each."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(path: Path) -> dict[str, str]:
    """name -> specifier of a requirements file's own lines (not -r / -c includes)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, spec = NAME.match(line).groups()
            out[_norm(name)] = spec.strip()
    return out


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _as_map(reqs: list[str]) -> dict[str, str]:
    return {_norm(n): s.strip() for n, s in (NAME.match(r).groups() for r in reqs)}


def test_runtime_and_dev_dependencies_match_the_requirements_files():
    project = _pyproject()
    extras = project["optional-dependencies"]
    runtime = _as_map(project["dependencies"]) | _as_map(extras["app"]) | _as_map(extras["train"])
    assert runtime == _requirements(ROOT / "requirements.txt")
    assert _as_map(extras["dev"]) == _requirements(ROOT / "requirements-dev.txt")


def test_every_direct_dependency_is_pinned_in_constraints():
    pins = _requirements(ROOT / "constraints.txt")
    assert all(spec.startswith("==") for spec in pins.values())
    for req in ("requirements.txt", "requirements-dev.txt"):
        lines = (ROOT / req).read_text()
        assert "-c constraints.txt" in lines or "-r requirements.txt" in lines, f"{req} does not read the pins"
        for name, spec in _requirements(ROOT / req).items():
            assert name in pins, f"{name} ({req}) has no pin in constraints.txt"
            assert not spec or spec == pins[name], f"{name}: {req} says {spec}, constraints.txt {pins[name]}"


def test_pytest_and_ruff_are_configured_in_pyproject():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    assert tool["pytest"]["ini_options"]["testpaths"] == ["tests"]
    assert {"slow", "browser"} <= {m.split(":")[0] for m in tool["pytest"]["ini_options"]["markers"]}
    assert {"E", "F", "I", "B", "UP"} <= set(tool["ruff"]["lint"]["select"])
    assert not (ROOT / "pytest.ini").exists() and not (ROOT / "setup.cfg").exists()
