"""ai-capital-kg: a knowledge graph of the AI industry's circular money flows."""

__version__ = "0.1.0"

from kg.errors import KGError  # noqa: E402

__all__ = ["__version__", "KGError", "load_store"]


def load_store(*args, **kwargs):
    """Load the bundled graph (and user files); see :func:`kg.store.load_store`."""
    from kg.store import load_store as _load

    return _load(*args, **kwargs)
