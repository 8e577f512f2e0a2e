"""Fixtures of the security tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def limits(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``limits(name=value, ...)`` lowers settings of the session's app for one test (the
    handlers read ``app.state.tessera.settings`` on every request)."""
    state = app.state.tessera

    def lower(**values: Any) -> None:
        monkeypatch.setattr(state, "settings", state.settings.model_copy(update=values))

    yield lower

