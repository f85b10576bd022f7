"""One base error for the library and its few subclasses."""

from __future__ import annotations

__all__ = ["KGError", "ParseError", "ValidationError", "UnknownEntityError", "QueryError", "InputError", "PageTooLargeError"]


class KGError(Exception):
    """Base class of every error the library raises on purpose; the CLI prints it on one line."""

    exit_code = 1


class ParseError(KGError):
    """A data or query file could not be parsed; names the file and line."""

    def __init__(self, path, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class ValidationError(KGError):
    """SHACL shapes or vocabulary checks failed; one line per failing node and constraint."""

    def __init__(self, violations: list[str], source: str = "data"):
        self.violations = violations
        head = f"{len(violations)} validation error(s) in {source}"
        super().__init__(head + ":\n" + "\n".join(violations))


class UnknownEntityError(KGError):
    """A name matched no entity; carries the nearest names."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name, self.suggestions = name, suggestions
        hint = f"; nearest: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown entity {name!r}{hint}")


class QueryError(KGError):
    """A SPARQL query is malformed, unknown, or was given bad parameters."""


class InputError(KGError):
    """A user-supplied file or value is unusable (missing file, bad CSV row, ...)."""


class PageTooLargeError(InputError):
    """The view has more actors or relationships than an HTML page stays usable with."""
