"""Locate the bundled ontology, queries and data, in a source checkout or an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["resource_dir", "ontology_dir", "queries_dir", "data_dir"]

_PACKAGE = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """The folder ``name`` (``ontology``, ``queries`` or ``data``).

    A wheel carries them as ``kg/_resources/<name>``; a source checkout (or an editable
    install) has them at the top of the repository, beside the package.
    """
    for candidate in (_PACKAGE / "_resources" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name!r} not found next to {_PACKAGE}")


def ontology_dir() -> Path:
    return resource_dir("ontology")


def queries_dir() -> Path:
    return resource_dir("queries")


def data_dir() -> Path:
    return resource_dir("data")
