"""Users' rows that restate a deal already in the graph: found, reported and counted once.

A row of the relationship CSV restates a relationship when both have the same kind and the
same parties in the same roles, and their amounts agree within their qualifiers (or neither
states an amount). The loader links the row to it with ``kg:sameDealAs`` (which the analysis
counts once) and reports it, unless the row says what it is: ``same_deal_as`` (an IRI, a
prefixed name such as ``rel:…`` or the ``id`` of a row of the same file; ``none`` for a
separate deal) or ``part_of`` (the row is one part of a larger deal: ``dcterms:hasPart``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from kg.errors import InputError
from kg.vocab import DCTERMS, KG, PREFIXES, REL

__all__ = ["link_restatements", "reference_quads", "amounts_agree", "ABOUT_TOLERANCE", "SEPARATE"]

#: For this check only, an amount qualified ``about`` (or ``range``) is taken to lie within
#: ±10% of its value: US$40B "about" and US$42B agree, US$40B and US$48B do not.
ABOUT_TOLERANCE = Decimal("0.1")
#: The values of ``same_deal_as`` that say the row is a deal of its own.
SEPARATE = ("none", "separate")
_INF = Decimal("Infinity")


def _interval(value: Decimal, qualifiers) -> tuple[Decimal, Decimal]:
    """The amounts a stated amount allows: ``exact`` (or none) itself, ``about``/``range`` ±10%,
    ``up-to``/``as-high-as`` from 0, ``at-least`` upwards; ``reported`` changes nothing."""
    q = set(qualifiers)
    lo = hi = value
    if q & {"about", "range"}:
        lo, hi = value * (1 - ABOUT_TOLERANCE), value * (1 + ABOUT_TOLERANCE)
    if q & {"up-to", "as-high-as"}:
        lo = Decimal(0)
    if "at-least" in q:
        hi = _INF
    return lo, hi


def amounts_agree(a, b) -> bool:
    """Whether two amounts ``(value, currency, qualifiers)`` (or ``None``) may be one deal's.

    Examples
    --------
    >>> amounts_agree((Decimal(40), "USD", ["about"]), (Decimal(40), "USD", ["exact"]))
    True
    >>> amounts_agree((Decimal(40), "USD", ["about"]), (Decimal(45), "USD", []))
    False
    >>> amounts_agree((Decimal(10), "USD", ["up-to"]), (Decimal(8), "USD", []))
    True
    >>> amounts_agree(None, None), amounts_agree(None, (Decimal(8), "USD", []))
    (True, False)
    """
    if a is None or b is None:
        return a is None and b is None
    if a[1] != b[1]:
        return False
    (alo, ahi), (blo, bhi) = _interval(a[0], a[2]), _interval(b[0], b[2])
    return alo <= bhi and blo <= ahi


def _rel_iri(table, index: int) -> str:
    return f"{REL}{table.graph.rsplit('/', 1)[-1]}-{index}"


def _targets(table, index: int, column: str) -> list[str]:
    """The relationship IRIs a row's ``same_deal_as`` or ``part_of`` names."""
    value = table.rows[index].get(column, "")
    if not value:
        return []
    where = f"{table.path}:{table.lines[index]}"
    ids = table.__dict__.get("_ids")
    if ids is None:  # once per file
        ids = table._ids = {row.get("id"): i for i, row in table.rows.items() if row.get("id")}
    out = []
    for item in (v.strip() for v in value.replace("|", ";").split(";")):
        if not item or (column == "same_deal_as" and item.casefold() in SEPARATE):
            continue
        if item in ids:
            if ids[item] == index:
                raise InputError(f"{where}: {column} {item!r} names the row itself")
            out.append(_rel_iri(table, ids[item]))
        elif item.startswith(("http://", "https://")):
            out.append(item)
        elif ":" in item and item.split(":", 1)[0] in PREFIXES:
            prefix, local = item.split(":", 1)
            out.append(PREFIXES[prefix] + local)
        else:
            known = ", ".join(sorted(ids)) or "none"
            raise InputError(f"{where}: {column} {item!r} is not an IRI, a prefixed name (rel:…) or the id of a row "
                             f"of this file (ids: {known})")
    return out


def reference_quads(table, mapping) -> list[ox.Quad]:
    """The ``kg:sameDealAs`` and ``dcterms:hasPart``/``isPartOf`` links the rows state."""
    g = ox.NamedNode(table.graph)
    ids = [row.get("id") for row in table.rows.values() if row.get("id")]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        index = next(i for i, row in table.rows.items() if row.get("id") in dup)
        raise InputError(f"{table.path}:{table.lines[index]}: id {table.rows[index]['id']!r} is used by more than one row")
    out = []
    for index in table.rows:
        rel = ox.NamedNode(_rel_iri(table, index))
        for target in _targets(table, index, "same_deal_as"):
            out.append(ox.Quad(rel, ox.NamedNode(KG.sameDealAs), ox.NamedNode(target), g))
        for target in _targets(table, index, "part_of"):
            out.append(ox.Quad(ox.NamedNode(target), ox.NamedNode(DCTERMS.hasPart), rel, g))
            out.append(ox.Quad(rel, ox.NamedNode(DCTERMS.isPartOf), ox.NamedNode(target), g))
    return out


def _row_amount(row: dict):
    if not row.get("amount"):
        return None
    try:
        value = Decimal(row["amount"].replace(",", "").replace("_", ""))
    except InvalidOperation:
        return None
    qualifiers = [q.strip().casefold().replace("_", "-").replace(" ", "-")
                  for q in (row.get("qualifier") or "exact").replace("|", ";").split(";") if q.strip()]
    return value, (row.get("currency") or "USD").upper(), qualifiers


def _short(iri: str) -> str:
    hits = [(len(ns), p) for p, ns in PREFIXES.items() if iri.startswith(ns) and p in ("rel", "kgr", "src", "fig")]
    if not hits:
        return f"<{iri}>"
    prefix = max(hits)[1]
    return f"{prefix}:{iri[len(PREFIXES[prefix]):]}"


def _money(amount) -> str:
    if amount is None:
        return "no amount"
    from kg.output import format_amount

    return format_amount(float(amount[0]), amount[1], ",".join(amount[2])) or f"{amount[0]} {amount[1]}"


def link_restatements(kg, tables, loaded) -> list[str]:
    """Check every relationship row of ``tables`` (already in ``kg``) against the graph; link
    each restatement with ``kg:sameDealAs`` and return one warning line per link.

    Also checks that every ``same_deal_as``/``part_of`` target is a relationship in the graph.
    """
    from kg.queries import load_query

    # every relationship with its kind, parties and amount, read once and indexed by
    # (kind, from, to): one query for the whole file, not one per row
    deals: dict[tuple[str, str, str], dict[str, dict]] = {}
    for r in kg.select(load_query("deal-candidates").text):
        info = deals.setdefault((r["kind"], r["from"], r["to"]), {}).setdefault(r["rel"], {
            "label": r["label"], "source": r["sourceTitle"], "value": r["value"], "currency": r["currency"],
            "qualifiers": []})
        if r["qualifier"] and r["qualifier"] not in info["qualifiers"]:
            info["qualifiers"].append(r["qualifier"])
        for key in ("label", "source"):  # of several, the first in order: the same words every run
            value = r["label" if key == "label" else "sourceTitle"]
            if value and (info[key] is None or str(value) < str(info[key])):
                info[key] = value
    parties: dict[str, list[tuple[str, str, str]]] = {}
    for key, rels in deals.items():
        for rel in rels:
            parties.setdefault(rel, []).append(key)
    own = {_rel_iri(t, i): (t, i) for t in tables for i in t.rows}
    warnings, added, pairs = [], [], set()
    for t in sorted(tables, key=lambda t: t.graph):  # by graph, not by command line: order-independent
        for index, row in t.rows.items():
            where = f"{t.path}:{t.lines[index]}"
            for column in ("same_deal_as", "part_of"):
                for target in _targets(t, index, column):
                    if not kg.ask("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> ASK { ?r kg:kind ?k }",
                                  {"r": target}):
                        raise InputError(f"{where}: {column} {_short(target)} is not a relationship in the loaded graph")
            if row.get("same_deal_as") or row.get("part_of"):
                continue  # the row says which deal it is (or that it is its own)
            rel = _rel_iri(t, index)
            mine = _row_amount(row)
            found: dict[str, dict] = {}
            for key in parties.get(rel, []):
                found.update(deals[key])
            for other in sorted(found):
                if other == rel:
                    continue
                info = found[other]
                theirs = None if info["value"] is None else (
                    Decimal(str(info["value"])), info["currency"], sorted(info["qualifiers"]) or ["exact"])
                if not amounts_agree(mine, theirs):
                    continue
                if other in own:
                    ot, oi = own[other]
                    if ot.rows[oi].get("same_deal_as") or ot.rows[oi].get("part_of"):
                        continue
                    pair = frozenset((rel, other))
                    if pair in pairs:
                        continue
                    pairs.add(pair)
                    what = f"{ot.path}:{ot.lines[oi]}"
                else:
                    what = _short(other)
                added.append(ox.Quad(ox.NamedNode(rel), ox.NamedNode(KG.sameDealAs), ox.NamedNode(other),
                                     ox.NamedNode(t.graph)))
                about = f"{info['label'] or _short(other)}, {_money(theirs)}"
                if info["source"]:
                    about += f", {info['source']}"
                warnings.append(f"{where}: restates {what} ({about}); counted once as the same deal; write "
                                "same_deal_as=none if it is a separate deal")
    if added:
        kg.store.extend(added)
        kg._invalidate()
        by_graph = {}
        for q in added:
            by_graph[q.graph_name.value] = by_graph.get(q.graph_name.value, 0) + 1
        for info in loaded.values():
            info.quads += sum(by_graph.get(g, 0) for g in info.graphs)
    return warnings
