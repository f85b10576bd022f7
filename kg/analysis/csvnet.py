"""Users' own networks as plain CSV files (no RDF): exposures and sizes into a dependency view.

``edges.csv`` has the columns ``exposed,counterparty,amount``: ``exposed`` stands to lose
``amount`` if ``counterparty`` fails. ``sizes.csv`` has ``entity,size``: each exposed entity's
capacity to absorb losses, in the same unit as the amounts. Then W(exposed ← counterparty) =
min(1, amount / size), exactly as in :func:`kg.analysis.exposure.debtrank`.
"""

from __future__ import annotations

import csv
import difflib
import math
from pathlib import Path

from kg.errors import InputError, UnknownEntityError

__all__ = ["read_csv_network", "resolve_csv_name"]


def _rows(path: Path, columns: tuple[str, ...]):
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    from kg.csvdata import text_lines  # UTF-8 checked line by line, binary refused, lines bounded

    with path.open("rb") as fh:
        reader = csv.DictReader(text_lines(path, fh), strict=True)
        try:
            header = [(f or "").strip().lower() for f in reader.fieldnames or []]
            missing = [c for c in columns if c not in header]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(columns)}")
            for row in reader:
                if any(v.strip() for v in row.pop(None, [])):  # DictReader keeps fields past the header there
                    raise InputError(f"{path}:{reader.line_num}: more fields than the header's {len(header)} columns")
                clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                if not any(clean.values()):
                    continue
                yield reader.line_num, clean
        except csv.Error as exc:
            raise InputError(f"{path}:{reader.reader.line_num}: malformed CSV: {exc}") from None


def _number(path: Path, n: int, text: str, what: str) -> float:
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise InputError(f"{path}:{n}: {what} {text!r} is not a number") from None
    if not 0 <= value < math.inf:
        raise InputError(f"{path}:{n}: {what} must be a non-negative number, got {text!r}")
    return value


def read_csv_network(edges: str | Path, sizes: str | Path):
    """A dependency view (networkx.MultiDiGraph) from ``edges.csv`` and ``sizes.csv``.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "e.csv"), "w").write("exposed,counterparty,amount\\nB,A,5\\n")
    >>> _ = open(os.path.join(d, "s.csv"), "w").write("entity,size\\nA,10\\nB,10\\n")
    >>> g = read_csv_network(os.path.join(d, "e.csv"), os.path.join(d, "s.csv"))
    >>> g["A"]["B"][0]["weight"]
    0.5
    """
    import networkx as nx

    edges, sizes = Path(edges), Path(sizes)
    g = nx.MultiDiGraph(layer="csv", notes=[])
    size: dict[str, float] = {}
    for n, row in _rows(sizes, ("entity", "size")):
        if not row["entity"]:
            raise InputError(f"{sizes}:{n}: empty entity")
        size[row["entity"]] = _number(sizes, n, row["size"], "size")
    for name, s in size.items():
        g.add_node(name, label=name, label_zh=None, types=[], size=s)
    unsized: set[str] = set()
    for n, row in _rows(edges, ("exposed", "counterparty", "amount")):
        exposed, counterparty = row["exposed"], row["counterparty"]
        if not exposed or not counterparty:
            raise InputError(f"{edges}:{n}: empty exposed or counterparty")
        amount = _number(edges, n, row["amount"], "amount")
        for name in (exposed, counterparty):
            if name not in g:
                g.add_node(name, label=name, label_zh=None, types=[], size=size.get(name))
        e = size.get(exposed)
        if not e:
            unsized.add(exposed)
            continue
        g.add_edge(counterparty, exposed, rel=None, kind="exposure", channel="csv", amount=amount,
                   exposure_usd=amount, qualifiers=[], status=None, sources=[f"{edges.name}:{n}"], layer="csv",
                   weight=min(1.0, amount / e), basis="amount", also=[])
    if unsized:
        names = ", ".join(sorted(unsized)[:10])
        raise InputError(f"{sizes}: no positive size for exposed entit{'y' if len(unsized) == 1 else 'ies'} {names}")
    return g


def resolve_csv_name(view, name: str) -> str:
    """The node of a CSV network called ``name`` (exact, then ignoring case); unknown names
    raise :class:`UnknownEntityError` with the nearest names."""
    if name in view:
        return name
    folded = {str(n).casefold(): n for n in view.nodes}
    if name.casefold() in folded:
        return folded[name.casefold()]
    near = difflib.get_close_matches(name.casefold(), list(folded), n=5, cutoff=0.5)
    raise UnknownEntityError(name, [folded[k] for k in near])
