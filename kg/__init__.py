"""ai-capital-kg: a knowledge graph of the AI industry's circular money flows."""

__version__ = "0.1.0"

from kg.errors import KGError  # noqa: E402

__all__ = ["__version__", "KGError", "load_store", "open", "Graph"]


def load_store(*args, **kwargs):
    """Load the bundled graph (and user files); see :func:`kg.store.load_store`."""
    from kg.store import load_store as _load

    return _load(*args, **kwargs)


def open(data=(), *, bundled=True, validate=True):  # noqa: A001  (kg.open, as in a notebook)
    """Load the bundled graph and the user's files into a :class:`kg.api.Graph`; see :func:`kg.api.open`.

    Examples
    --------
    >>> import kg
    >>> kg.open().query("entity", id="Oracle")[0]["label"]
    'Oracle'
    """
    from kg.api import open as _open

    return _open(data, bundled=bundled, validate=validate)


def __getattr__(name):
    if name in ("Graph", "Rows", "Exposure", "Page"):
        import kg.api

        return getattr(kg.api, name)
    raise AttributeError(f"module 'kg' has no attribute {name!r}")
