"""Render rows (a list of dicts) as an aligned table, JSON or CSV on stdout."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from decimal import Decimal

__all__ = ["render", "FORMATS", "format_amount"]

FORMATS = ("table", "json", "csv")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def render(rows: list[dict], fmt: str = "table", columns: list[str] | None = None, max_width: int = 60) -> str:
    """Rows as text. ``columns`` fixes the order (and, for tables and CSV, the selection)."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2, default=_json_default) + "\n"
    cols = columns or (list(rows[0]) if rows else [])
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in cols])
        return buf.getvalue()
    if not rows:
        return "(no rows)\n"
    cells = [[_clip(_cell(r.get(c)), max_width) for c in cols] for r in rows]
    widths = [max([_width(c)] + [_width(row[i]) for row in cells]) for i, c in enumerate(cols)]
    lines = ["  ".join(_pad(c, w) for c, w in zip(cols, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(v, w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if _width(text) <= limit:
        return text
    out, w = "", 0
    for ch in text:
        cw = _width(ch)
        if w + cw > limit - 1:
            break
        out, w = out + ch, w + cw
    return out + "…"


def format_amount(value, currency: str | None = "USD", qualifiers: str | None = None) -> str:
    """``300000000000, USD, "about"`` → ``about US$300B``."""
    if value is None:
        return ""
    v = float(value)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if abs(v) >= size:
            num = f"{v / size:,.2f}".rstrip("0").rstrip(".") + unit
            break
    else:
        num = f"{v:,.0f}"
    sym = "US$" if currency in (None, "USD") else f"{currency} "
    qual = " ".join(q.replace("-", " ") for q in (qualifiers or "").split(",") if q and q != "exact")
    return f"{qual} {sym}{num}".strip()
