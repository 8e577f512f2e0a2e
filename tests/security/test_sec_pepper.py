"""Audit item 6: without KEY_PEPPER, ``tessera serve`` and ``tessera worker`` refuse to start
unless TESSERA_ENV=development (which the Makefile sets): the development pepper is published in
the source, so anyone could compute the stored key hashes and idempotency fingerprints with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tessera.settings import DEV_PEPPER, Settings

ROOT = Path(__file__).resolve().parents[2]


def _run(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("KEY_PEPPER", "TESSERA_ENV")}
    return subprocess.run([sys.executable, "-m", "tessera.cli", command],
                          env={**base, "PORT": "1", **env}, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_the_development_pepper_outside_development(command: str) -> None:
    done = _run(command)

    assert done.returncode == 1
    assert "KEY_PEPPER is not set" in done.stderr and "TESSERA_ENV=development" in done.stderr
    assert DEV_PEPPER not in done.stderr + done.stdout


def test_the_development_pepper_is_accepted_only_in_development() -> None:
    Settings(tessera_env="development").check_secrets()
    Settings(key_pepper="a-real-secret-of-the-deployment").check_secrets()
    with pytest.raises(ValueError, match="KEY_PEPPER"):
        Settings(tessera_env="production").check_secrets()
