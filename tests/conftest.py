"""Shared fixtures: the project's codebook, bundled data, the default embedder, and an isolated embedding cache
per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "coder" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests never read or write the user's own cache.
    os.environ["CODER_CACHE_DIR"] = str(tmp_path_factory.mktemp("coder-cache"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def codebook():
    from coder.codebook import load_codebook

    return load_codebook(ROOT / "codebook" / "stocktake-2013.yaml")


@pytest.fixture(scope="session")
def returns_path() -> Path:
    return DATA / "returns.csv"


@pytest.fixture(scope="session")
def embedder():
    """The default embedder (cached in the session's own cache)."""
    from coder.model.embed import Embedder

    return Embedder()
