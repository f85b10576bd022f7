"""Shared fixtures: the bundled store, a CLI runner, the seed article, small hand-made graphs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The seed texts and the W3C suites live in shared/, beside the repository (CI lays a copy there);
# KG_SHARED_DIR points elsewhere. Tests that need them skip when the folder is absent.
SHARED = Path(os.environ.get("KG_SHARED_DIR", REPO.parent / "shared"))
ARTICLE = SHARED / "seed" / "article.zh-Hant.txt"
CONTEXT_FACTS = SHARED / "seed" / "context-facts.md"
IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def kg_store():
    """The bundled graph, loaded once (tests must not modify it)."""
    from kg.store import load_store

    return load_store()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def invoke(runner):
    """Run ``kg ARGS…`` in-process; returns click's Result (stdout and stderr kept apart).
    ``COLUMNS`` is unset (tables at full width) unless ``env`` sets it."""
    from kg.cli import cli

    def _invoke(*args, input=None, env=None):
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False,
                             env={"COLUMNS": None, **(env or {})})

    return _invoke


@pytest.fixture(scope="session")
def article_lines():
    """The seed article's lines, or skip when the shared folder is absent."""
    if not ARTICLE.exists():
        pytest.skip(f"seed article not found at {ARTICLE}: set KG_SHARED_DIR to a folder holding seed/article.zh-Hant.txt")
    return ARTICLE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def small():
    """tests/data/analysis/small.trig alone: the hand-worked graph of the analysis tests."""
    from kg.store import load_store

    return load_store([DATA / "analysis" / "small.trig"], bundled=False, validate=False)
