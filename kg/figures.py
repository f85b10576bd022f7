"""Read the figures CSV (an actor's revenue, equity, operating income, … with date and source) into quads."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from kg.errors import InputError
from kg.vocab import DCTERMS, FIG, KG, RDF, RDFS, SCHEMA, SRC, XSD

__all__ = ["figures_to_quads", "FIGURE_COLUMNS", "FIGURE_REQUIRED", "METRICS"]

#: Columns of the figures CSV (docs/cli.md). A figure is stated as the bundled ones are: a
#: kg:FinancialFigure with kg:figureOf, kg:metric (a kg:MetricScheme concept), kg:amount (a
#: schema:MonetaryAmount with its kg:qualifier), kg:period and/or dcterms:date, dcterms:source.
FIGURE_COLUMNS = ("actor", "metric", "amount", "currency", "qualifier", "date", "period", "source_title",
                  "source_url", "label")
FIGURE_REQUIRED = ("actor", "metric", "amount", "source_title")
#: The metric column's values (skos:notation of the concepts in ontology/concepts.ttl).
METRICS = {"revenue": KG.Revenue, "equity": KG.StockholdersEquity, "operating-income": KG.OperatingIncome,
           "market-value": KG.MarketValue, "valuation": KG.Valuation}


def figures_to_quads(path: Path, graph: str, resolve: Callable[[str], str | None]) -> list[ox.Quad]:
    """The figures of a CSV file as quads in ``graph``; ``resolve(name)`` gives each actor's IRI.

    Raises :class:`InputError` naming the file and line of the first bad row.
    """
    from kg.csvdata import _DATE, _amount, _pick

    path = Path(path)
    g = ox.NamedNode(graph)
    slug = graph.rsplit("/", 1)[-1]
    quads: list[ox.Quad] = []
    add = lambda s, p, o: quads.append(ox.Quad(s, ox.NamedNode(p), o, g))  # noqa: E731
    file_source = ox.NamedNode(f"{SRC}user-{slug}")
    add(file_source, RDF.type, ox.NamedNode(KG.Source))
    add(file_source, DCTERMS.title, ox.Literal(path.name))
    add(file_source, KG.layer, ox.NamedNode(KG.UserLayer))
    add(file_source, KG.namedGraph, g)
    sources: dict[tuple[str, str], ox.NamedNode] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [(h or "").strip() for h in reader.fieldnames or []]
        missing = [c for c in FIGURE_REQUIRED if c not in header]
        unknown = [c for c in header if c not in FIGURE_COLUMNS]
        if missing or unknown:
            what = f"missing column(s) {', '.join(missing)}" if missing else f"unknown column(s) {', '.join(unknown)}"
            raise InputError(f"{path}:1: {what}; the columns of a figures file are {', '.join(FIGURE_COLUMNS)}")
        for index, raw in enumerate(reader, start=1):
            row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items() if k}
            where = f"{path}:{reader.line_num}"
            if not any(row.values()):
                continue
            for col in FIGURE_REQUIRED:
                if not row.get(col):
                    raise InputError(f"{where}: column {col!r} is empty")
            if not row.get("date") and not row.get("period"):
                raise InputError(f"{where}: a figure needs a date (YYYY, YYYY-MM or YYYY-MM-DD) or a period (FY2025)")
            metric = _pick(METRICS, row["metric"], "metric", where)
            actor = resolve(row["actor"])
            if actor is None:
                raise InputError(f"{where}: actor {row['actor']!r} could not be resolved")
            fig = ox.NamedNode(f"{FIG}user-{slug}-{index}")
            add(fig, RDF.type, ox.NamedNode(KG.FinancialFigure))
            add(fig, KG.figureOf, ox.NamedNode(actor))
            add(fig, KG.metric, ox.NamedNode(metric))
            _amount(fig, row, where, add)
            if row.get("date"):
                if not _DATE.match(row["date"]):
                    raise InputError(f"{where}: date {row['date']!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
                dtype = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}[len(row["date"])]
                add(fig, DCTERMS.date, ox.Literal(row["date"], datatype=ox.NamedNode(dtype)))
            if row.get("period"):
                add(fig, KG.period, ox.Literal(row["period"]))
            when = row.get("period") or row.get("date")
            label = row.get("label") or f"{row['actor']} {row['metric']}, {when}"
            add(fig, RDFS.label, ox.Literal(label, language="en"))
            key = (row["source_title"], row.get("source_url", ""))
            if key not in sources:
                src = ox.NamedNode(f"{SRC}{slug}-{len(sources) + 1}")
                sources[key] = src
                add(src, RDF.type, ox.NamedNode(KG.Source))
                add(src, DCTERMS.title, ox.Literal(key[0]))
                add(src, KG.layer, ox.NamedNode(KG.UserLayer))
                add(file_source, DCTERMS.references, src)
                if key[1]:
                    if not re.match(r"^https?://\S+$", key[1]):
                        raise InputError(f"{where}: source_url {key[1]!r} is not an http(s) URL")
                    add(src, SCHEMA.url, ox.NamedNode(key[1]))
            add(fig, DCTERMS.source, sources[key])
    return quads
