"""Audit item 6, the values around the development pepper: outside development ``tessera serve``
and ``tessera worker`` refuse an empty or short KEY_PEPPER as they refuse the published one
(without ever printing it), and in development (TESSERA_ENV=development, as the Makefile sets)
the API starts with the development pepper and answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tessera.settings import DEV_PEPPER, Settings
from tests.isolated import free_port

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(**env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("KEY_PEPPER", "TESSERA_ENV")}
    return {**base, **env}


def _run(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tessera.cli", command], env=_clean_env(PORT="1", **env), cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_an_empty_pepper_is_refused_outside_development(command: str) -> None:
    done = _run(command, KEY_PEPPER="")

    assert done.returncode == 1
    assert "KEY_PEPPER is not set" in done.stderr and "TESSERA_ENV=development" in done.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_short_pepper_is_refused_without_being_shown(command: str) -> None:
    done = _run(command, KEY_PEPPER="hunter2-secret")

    assert done.returncode == 1
    assert "KEY_PEPPER is too short" in done.stderr and "TESSERA_ENV=development" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_the_development_pepper_serves_in_development_and_is_never_logged(settings: Settings, tmp_path: Path
                                                                          ) -> None:
    port = free_port()
    env = _clean_env(TESSERA_ENV="development", DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
                     MEILI_INDEX_PREFIX=settings.meili_index_prefix, LOG_LEVEL="DEBUG")
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tessera.cli", "serve", "--port", str(port)], env=env,
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        answered = False
        while not answered and process.poll() is None and time.monotonic() < deadline:
            try:
                answered = httpx.get(base + "/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.1)
        assert answered, f"the API did not start (exit {process.poll()}):\n{log.read_text(errors='replace')[-2000:]}"
        wrong = httpx.get(base + "/api/developers/v1/objects", headers={"Authorization": "Bearer sk-" + "x" * 44})
        assert wrong.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert DEV_PEPPER not in log.read_text(errors="replace"), "the pepper reached the API's log"
