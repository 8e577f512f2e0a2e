"""Fixtures of the record-query tests: the catalog (built once per test module) and a switch that
forces the walking plans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tessera.records import listing
from tests.conftest import WorkspaceFactory
from tests.records.query_catalog import Catalog, build_catalog


@pytest.fixture(scope="module")
async def catalog(make_workspace: WorkspaceFactory) -> Catalog:
    return await build_catalog(await make_workspace("query"))


@pytest.fixture
def small_result(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Force the walking plans (id walk, sort-index walk) for anything above 3 matches."""
    monkeypatch.setattr(listing, "SMALL_RESULT", 3)
    yield
