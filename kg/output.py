"""Render rows (a list of dicts) as a table fitted to the terminal, JSON, JSON lines or CSV."""

from __future__ import annotations

import numbers
import os
import sys
import unicodedata

__all__ = ["render", "FORMATS", "ROW_FORMATS", "compact_iri", "configure", "format_amount", "terminal_width",
           "text_width"]

#: Every ``--format`` a command that prints rows takes.
FORMATS = ("table", "json", "jsonl", "csv")
#: The formats of flat records (one per row), as opposed to ``json``'s whole document.
ROW_FORMATS = ("jsonl", "csv")

#: Statuses under which an amount is owed or paid: shown without a note. Any other status
#: (intended, hypothetical, historical, ended) follows the amount in brackets.
PLAIN_STATUSES = ("in-force", "committed")

_GAP = 2  # spaces between table columns
_MIN_TEXT = 10  # a text column is cut to no less than this (or its header's width): short values stay whole


class Settings:
    """What ``--wide`` and ``--no-headers`` chose for this run of ``kg``."""

    wide = False
    headers = True


SETTINGS = Settings()


def configure(*, wide: bool | None = None, headers: bool | None = None) -> None:
    """Set the table options of this run (the CLI calls it from ``--wide`` and ``--no-headers``)."""
    if wide is not None:
        SETTINGS.wide = wide
    if headers is not None:
        SETTINGS.headers = headers


def terminal_width() -> int | None:
    """The width tables fit: ``$COLUMNS`` when set, else the terminal's when stdout is one,
    else ``None`` (a pipe or a file: no limit, each column still capped at its own maximum)."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        if sys.stdout.isatty():
            return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        pass
    return None


def text_width(text: str) -> int:
    """Display columns of ``text``: East Asian wide and fullwidth characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - text_width(text))


def _json_default(value):
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def _dumps(value, **kw) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=_json_default, **kw)


def render(rows, fmt: str = "table", columns: list[str] | None = None, max_width: int | None = 60,
           *, width: int | None | bool = True) -> str:
    """Rows as text.

    Parameters
    ----------
    rows : list of dicts (a dict for ``json``, or one record for ``jsonl``).
    fmt : ``table``, ``json``, ``jsonl`` (one JSON object per line) or ``csv``.
    columns : the order of the columns and, except for ``json``, their selection.
    max_width : tables: the widest any one column is shown (``--wide``: no cap).
    width : tables: the width the whole line fits, the widest text columns cut first
        (``True``: :func:`terminal_width`; ``None``: no limit; ``--wide``: no limit).
    """
    if fmt == "json":
        return _dumps(rows, indent=2) + "\n"
    if fmt == "jsonl":
        records = [rows] if isinstance(rows, dict) else rows
        if columns:
            records = [{c: r.get(c) for c in columns} for r in records]
        return "".join(_dumps(r, separators=(",", ":")) + "\n" for r in records)
    cols = columns or (list(rows[0]) if rows else [])
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if SETTINGS.headers:
            writer.writerow(cols)
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in cols])
        return buf.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not rows:
        return "(no rows)\n"
    return _table(rows, cols, None if SETTINGS.wide else max_width,
                  None if SETTINGS.wide else terminal_width() if width is True else width or None)


def _table(rows: list[dict], cols: list[str], cap: int | None, width: int | None) -> str:
    cells = [[_clip(" ".join(_cell(r.get(c)).split()), cap) for c in cols] for r in rows]
    heads = [str(c) for c in cols] if SETTINGS.headers else [""] * len(cols)
    widths = [max([text_width(h)] + [text_width(row[i]) for row in cells]) for i, h in enumerate(heads)]
    if width:
        numeric = [all(_is_number(r.get(c)) for r in rows) for c in cols]
        widths = fit_widths(widths, [text_width(h) for h in heads], numeric, width)
        shown = len(widths)
        if shown < len(cols):
            hidden = [str(c) for c in cols[shown:]]
            print(f"note: {len(hidden)} column(s) left out to fit {width} columns ({', '.join(hidden)}); "
                  "--wide or --format csv shows them", file=sys.stderr)
        cells = [[_clip(v, w) for v, w in zip(row, widths)] for row in cells]
        heads = [_clip(h, w) for h, w in zip(heads, widths)]
    lines = []
    if SETTINGS.headers:
        lines.append("  ".join(_pad(h, w) for h, w in zip(heads, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(v, w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def _is_number(value) -> bool:
    return value is None or value == "" or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def fit_widths(widths: list[int], heads: list[int], numeric: list[bool], width: int) -> list[int]:
    """Column widths whose line (columns and the gaps between them) fits ``width``.

    The widest text column loses one display column at a time, down to its header's width (at
    least ten; numbers are never cut). When that is not enough, the rightmost columns are left
    out (the list returned is shorter) until the rest fits; the first column always stays.
    """
    floor = [w if num else min(w, max(h, _MIN_TEXT)) for w, h, num in zip(widths, heads, numeric)]
    n = len(widths)
    while n > 1 and sum(floor[:n]) + _GAP * (n - 1) > width:
        n -= 1
    out = list(widths[:n])
    excess = sum(out) + _GAP * (n - 1) - width
    while excess > 0:
        candidates = [i for i, w in enumerate(out) if w > floor[i]]
        if not candidates:
            break
        i = max(candidates, key=lambda k: (out[k], -k))
        out[i] -= 1
        excess -= 1
    return out


def _clip(text: str, limit: int | None) -> str:
    if limit is None or text_width(text) <= limit:
        return text
    out, w = [], 0
    for ch in text:
        cw = text_width(ch)
        if w + cw > limit - 1:
            break
        out.append(ch)
        w += cw
    return "".join(out) + "…"


def format_amount(value, currency: str | None = "USD", qualifiers=None, status: str | None = None) -> str:
    """An amount as people write it, with its qualifiers and, unless it is owed or paid, its status.

    ``qualifiers`` is a list or a comma-separated string of notations (``up-to``, ``about`` …;
    ``exact`` says nothing and is left out). The one format of the CLI, the graph pages and
    the endpoint's pages.

    >>> format_amount(300000000000, "USD", "about")
    'about US$300B'
    >>> format_amount(1e11, "USD", ["up-to"], "intended")
    'up to US$100B (intended)'
    >>> format_amount(57.4e9)
    'US$57.4B'
    """
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
    if isinstance(qualifiers, str):
        qualifiers = qualifiers.split(",")
    qual = " ".join(q.strip().replace("-", " ") for q in (qualifiers or ()) if q and q.strip() != "exact")
    note = f" ({status.replace('-', ' ')})" if status and status not in PLAIN_STATUSES else ""
    return f"{qual} {sym}{num}".strip() + note


def compact_iri(value, prefixes: dict[str, str] | None = None):
    """An IRI of the project's namespaces as a prefixed name (``kgr:Oracle``, ``rel:article-…``),
    for tables; anything else unchanged. The longest matching namespace wins; an IRI whose
    rest is not a plain local name (it has a ``/`` or ``#``) stays whole.

    >>> compact_iri("https://w3id.org/ai-capital-kg/resource/Oracle")
    'kgr:Oracle'
    >>> compact_iri("https://w3id.org/ai-capital-kg/resource/rel/article-oracle-openai-contract")
    'rel:article-oracle-openai-contract'
    >>> compact_iri("https://example.org/x")
    'https://example.org/x'
    """
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        return value
    if prefixes is None:
        from kg.vocab import PREFIXES

        prefixes = PREFIXES
    best = max((ns for ns in prefixes.values() if value.startswith(ns)), key=len, default=None)
    if best is None:
        return value
    local = value[len(best):]
    if not local or not all(c.isalnum() or c in "_-." for c in local) or local.endswith("."):
        return value
    name = next(n for n, ns in prefixes.items() if ns == best)
    return f"{name}:{local}"
