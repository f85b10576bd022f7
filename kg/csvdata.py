"""Read the documented CSV format for relationships (one row per relationship) into quads."""

from __future__ import annotations

import csv
import difflib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from kg.errors import InputError
from kg.vocab import DCTERMS, KG, KGR, RDF, RDFS, REL, SCHEMA, SRC, XSD

__all__ = ["csv_to_quads", "CSV_COLUMNS", "REQUIRED_COLUMNS", "KINDS", "QUALIFIERS", "STATUSES"]

#: Columns of the relationship CSV (docs/cli.md documents them); ``from`` and ``to`` are the
#: parties in the direction of the kind's shortcut (investor → investee, customer → supplier,
#: licensee → licensor, payer → payee, dependent → provider, acquirer → acquiree,
#: substitute → incumbent, subject → analogue).
CSV_COLUMNS = ("from", "to", "kind", "amount", "currency", "qualifier", "date", "source_title", "source_url",
               "status", "label") + ("id", "same_deal_as", "part_of")  # the last three: kg.restatements
REQUIRED_COLUMNS = ("from", "to", "kind", "source_title")

KINDS = {
    "equity-investment": KG.EquityInvestment, "funding-commitment": KG.FundingCommitment, "stake": KG.Stake,
    "warrant": KG.Warrant, "cloud-services": KG.CloudServicesPurchase, "compute-contract": KG.ComputeContract,
    "capacity-purchase": KG.CapacityPurchase, "chip-supply": KG.ChipSupply, "manufacturing": KG.Manufacturing,
    "licence": KG.TechnologyLicence, "revenue-share": KG.RevenueShare, "api-dependence": KG.APIDependence,
    "acquisition": KG.Acquisition, "competition": KG.Competition, "analogy": KG.HistoricalAnalogy,
}
#: kind → (from-role, to-role), as declared by kg:fromRole / kg:toRole in ontology/concepts.ttl.
ROLES = {
    KG.EquityInvestment: (KG.investor, KG.investee), KG.FundingCommitment: (KG.investor, KG.investee),
    KG.Stake: (KG.investor, KG.investee), KG.Warrant: (KG.investor, KG.investee),
    KG.CloudServicesPurchase: (KG.customer, KG.supplier), KG.ComputeContract: (KG.customer, KG.supplier),
    KG.CapacityPurchase: (KG.customer, KG.supplier), KG.ChipSupply: (KG.customer, KG.supplier),
    KG.Manufacturing: (KG.customer, KG.supplier), KG.TechnologyLicence: (KG.licensee, KG.licensor),
    KG.RevenueShare: (KG.payer, KG.payee), KG.APIDependence: (KG.dependent, KG.provider),
    KG.Acquisition: (KG.acquirer, KG.acquiree), KG.Competition: (KG.substitute, KG.incumbent),
    KG.HistoricalAnalogy: (KG.subject, KG.analogue),
}
QUALIFIERS = {"exact": KG.Exact, "about": KG.About, "up-to": KG.UpTo, "at-least": KG.AtLeast,
              "reported": KG.Reported, "as-high-as": KG.AsHighAs, "range": KG.Range}
STATUSES = {"in-force": KG.InForce, "committed": KG.Committed, "intended": KG.Intended,
            "hypothetical": KG.Hypothetical, "historical": KG.Historical, "ended": KG.Ended}

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _pick(table: dict, value: str, what: str, where: str) -> str:
    key = value.strip().casefold().replace("_", "-").replace(" ", "-")
    if key in table:
        return table[key]
    near = difflib.get_close_matches(key, list(table), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(near)}?" if near else f"; expected one of {', '.join(table)}"
    raise InputError(f"{where}: unknown {what} {value!r}{hint}")


def csv_to_quads(path: Path, graph: str, resolve: Callable[[str], str | None] | None = None) -> list[ox.Quad]:
    """The relationships of a CSV file as quads in ``graph``.

    ``resolve(name)`` maps a party's name to a known entity IRI (or ``None``); unknown parties
    become new actors under ``kgr:user/`` labelled with the name as written.
    Raises :class:`InputError` naming the file and line of the first bad row.
    """
    path = Path(path)
    g = _n(graph)
    slug = graph.rsplit("/", 1)[-1]
    quads: list[ox.Quad] = []
    add = lambda s, p, o: quads.append(ox.Quad(s, _n(p), o, g))  # noqa: E731
    sources: dict[tuple[str, str], ox.NamedNode] = {}
    actors: dict[str, ox.NamedNode] = {}
    file_source = _n(f"{SRC}user-{slug}")
    add(file_source, RDF.type, _n(KG.Source))
    add(file_source, DCTERMS.title, ox.Literal(path.name))
    add(file_source, KG.layer, _n(KG.UserLayer))
    add(file_source, KG.namedGraph, g)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{path}:1: missing column(s) {', '.join(missing)}; columns are {', '.join(CSV_COLUMNS)}")
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown:
            raise InputError(f"{path}:1: unknown column(s) {', '.join(unknown)}; columns are {', '.join(CSV_COLUMNS)}")
        for index, raw in enumerate(reader, start=1):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
            where = f"{path}:{reader.line_num}"
            if not any(row.values()):
                continue
            for col in REQUIRED_COLUMNS:
                if not row.get(col):
                    raise InputError(f"{where}: column {col!r} is empty")
            kind = _pick(KINDS, row["kind"], "kind", where)
            from_role, to_role = ROLES[kind]
            rel = _n(f"{REL}{slug}-{index}")
            add(rel, RDF.type, _n(KG.Relationship))
            add(rel, KG.kind, _n(kind))
            for role, name in ((from_role, row["from"]), (to_role, row["to"])):
                add(rel, role, _actor(name, resolve, actors, add))
            label = row.get("label") or f"{row['from']} {row['kind']} {row['to']}"
            add(rel, RDFS.label, ox.Literal(label, language="en"))
            if row.get("amount"):
                _amount(rel, row, where, add)
            if row.get("status"):
                add(rel, KG.status, _n(_pick(STATUSES, row["status"], "status", where)))
            if row.get("date"):
                if not _DATE.match(row["date"]):
                    raise InputError(f"{where}: date {row['date']!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
                dtype = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}[len(row["date"])]
                add(rel, DCTERMS.date, ox.Literal(row["date"], datatype=_n(dtype)))
            key = (row["source_title"], row.get("source_url", ""))
            if key not in sources:
                src = _n(f"{SRC}{slug}-{len(sources) + 1}")
                sources[key] = src
                add(src, RDF.type, _n(KG.Source))
                add(src, DCTERMS.title, ox.Literal(key[0]))
                add(src, KG.layer, _n(KG.UserLayer))
                add(file_source, DCTERMS.references, src)
                if key[1]:
                    if not re.match(r"^https?://\S+$", key[1]):
                        raise InputError(f"{where}: source_url {key[1]!r} is not an http(s) URL")
                    add(src, SCHEMA.url, _n(key[1]))
            add(rel, DCTERMS.source, sources[key])
    return quads


def _actor(name: str, resolve, actors: dict, add) -> ox.NamedNode:
    iri = resolve(name) if resolve else None
    if iri:
        return _n(iri)
    if name not in actors:
        node = _n(KGR + "user/" + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "actor"))
        actors[name] = node
        add(node, RDF.type, _n(KG.Company))
        add(node, RDFS.label, ox.Literal(name, language="en"))
        add(node, RDFS.label, ox.Literal(name, language="zh-Hant"))
    return actors[name]


def _amount(rel, row: dict, where: str, add) -> None:
    try:
        value = Decimal(row["amount"].replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise InputError(f"{where}: amount {row['amount']!r} is not a number (write 300000000000, not US$300B)") from None
    if value < 0:
        raise InputError(f"{where}: amount must not be negative")
    currency = (row.get("currency") or "USD").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InputError(f"{where}: currency {row.get('currency')!r} is not a three-letter ISO 4217 code")
    amount = ox.BlankNode()
    add(rel, KG.amount, amount)
    add(amount, RDF.type, _n(SCHEMA.MonetaryAmount))
    add(amount, SCHEMA.value, ox.Literal(format(value, "f"), datatype=_n(XSD.decimal)))
    add(amount, SCHEMA.currency, ox.Literal(currency))
    qualifiers = [q for q in re.split(r"[;|]", row.get("qualifier") or "exact") if q.strip()]
    for q in qualifiers:
        add(amount, KG.qualifier, _n(_pick(QUALIFIERS, q, "qualifier", where)))
