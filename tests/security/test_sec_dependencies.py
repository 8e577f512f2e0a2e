"""Audit item 17: every dependency is installed from a committed, hash-pinned lock, at versions
past the advisories the audit named."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)", re.M)
FLOORS = {"python-multipart": "0.0.18", "h11": "0.16.0", "starlette": "0.47.2", "cryptography": "44.0.1",
          "jinja2": "3.1.6", "urllib3": "2.5.0", "requests": "2.32.4", "idna": "3.7", "certifi": "2024.7.4"}
"""Lowest versions without the known advisories (e.g. python-multipart < 0.0.18: a form body that
stalls the parser; h11 < 0.16: request smuggling)."""


def _pins() -> dict[str, Version]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(m.group(1)): Version(m.group(2)) for m in PIN.finditer(text)}


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


def test_the_lock_pins_every_declared_dependency_within_its_range_with_hashes() -> None:
    pins = _pins()
    text = (ROOT / "requirements.lock").read_text()
    assert len(pins) == len(re.findall(r"^[A-Za-z0-9][A-Za-z0-9._-]*==", text, re.M)), "every pin carries a hash"
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not locked"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, str(pins[name]))


def test_locked_versions_are_past_the_known_advisories() -> None:
    pins = _pins()
    for name, floor in FLOORS.items():
        if name in pins:
            assert pins[name] >= Version(floor), f"{name} {pins[name]} is below {floor}"
    declared = {canonicalize_name(r.name): r for r in _declared()}
    assert not declared["python-multipart"].specifier.contains("0.0.17")

