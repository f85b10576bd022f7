"""Read the figures CSV (an actor's revenue, equity, operating income, … with date and source) into quads."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pyoxigraph as ox

from kg.errors import InputError
from kg.vocab import DCTERMS, FIG, KG, RDF, RDFS, SCHEMA, SRC

__all__ = ["figures_to_quads", "figure_rows", "FIGURE_COLUMNS", "FIGURE_REQUIRED", "METRICS"]

#: Columns of the figures CSV (docs/cli.md). A figure is stated as the bundled ones are: a
#: kg:FinancialFigure with kg:figureOf, kg:metric (a kg:MetricScheme concept), kg:amount (a
#: schema:MonetaryAmount with its kg:qualifier), kg:period and/or dcterms:date, dcterms:source.
FIGURE_COLUMNS = ("actor", "metric", "amount", "currency", "qualifier", "date", "period", "source_title",
                  "source_url", "label")
FIGURE_REQUIRED = ("actor", "metric", "amount", "source_title")
#: The metric column's values (skos:notation of the concepts in ontology/concepts.ttl).
METRICS = {"revenue": KG.Revenue, "equity": KG.StockholdersEquity, "operating-income": KG.OperatingIncome,
           "market-value": KG.MarketValue, "valuation": KG.Valuation}


@contextmanager
def figure_rows(path: Path) -> Iterator[Iterator[tuple[int, dict[str, str]]]]:
    """The data rows of a figures file as ``(line, {column: stripped value})``, with the checks
    of the relationship CSV (UTF-8 text, no binary, bounded fields, no extra fields, no column
    named twice); raises :class:`InputError` naming the file and line."""
    try:
        handle = Path(path).open("rb")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    with handle:
        yield _parse(Path(path), handle)


def _parse(path: Path, handle) -> Iterator[tuple[int, dict[str, str]]]:
    from kg.csvdata import checked_rows

    return checked_rows(path, handle, FIGURE_COLUMNS, FIGURE_REQUIRED, "the columns of a figures file are")


def figures_to_quads(path: Path, graph: str, resolve: Callable[[str], str | None]) -> list[ox.Quad]:
    """The figures of a CSV file as quads in ``graph``; ``resolve(name)`` gives each actor's IRI.

    Raises :class:`InputError` naming the file and line of the first bad row.
    """
    from kg.csvdata import _amount, _date, _pick, _source_url

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
    with figure_rows(path) as rows:
        for index, (line, row) in enumerate(rows, start=1):
            where = f"{path}:{line}"
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
                add(fig, DCTERMS.date, ox.Literal(row["date"], datatype=ox.NamedNode(_date(row["date"], where))))
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
                    add(src, SCHEMA.url, _source_url(key[1], where))
            add(fig, DCTERMS.source, sources[key])
    return quads
