"""The one error the HTTP layer answers with: a status and a JSON body of one shape."""

from __future__ import annotations

import json
from http import HTTPStatus

from kg.errors import KGError

__all__ = ["HTTPError", "error_body"]


class HTTPError(KGError):
    """An HTTP error answered as ``{"status": …, "error": …, "message": …}`` (plus ``extra``).

    ``error`` defaults to the status's reason phrase; ``headers`` are added to the response
    (``Retry-After`` for 429, ``Allow`` for 405, ``WWW-Authenticate`` for 401).
    """

    def __init__(self, status: int, message: str, *, error: str | None = None,
                 headers: dict[str, str] | None = None, **extra):
        self.status = int(status)
        self.error = error or HTTPStatus(self.status).phrase
        self.message = message
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(message)

    def body(self) -> bytes:
        return error_body(self.status, self.error, self.message, **self.extra)


def error_body(status: int, error: str, message: str, **extra) -> bytes:
    return json.dumps({"status": status, "error": error, "message": message, **extra},
                      ensure_ascii=False).encode("utf-8") + b"\n"
