"""Load users' files in two phases: read every file, then resolve CSV names (followthemoney's way).

Phase 1 reads every RDF file into its own named graph. Phase 2 resolves the names of every CSV
file against what phase 1 loaded (the bundled graph and the user's RDF files, never another CSV),
turns the rows into quads, and links a row that restates a deal already in the graph to it
(:mod:`kg.restatements`). The result does not depend on the order of ``--data`` options.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox

from kg.errors import InputError, UnknownEntityError
from kg.store import LoadedFile, rdf_format, user_graph_iri
from kg.vocab import KG, KGR, RDF, RDFS, SKOS

__all__ = ["load_user_files", "user_actor_slug", "CsvRows", "read_csv_rows"]


def _norm(name: str) -> str:
    """A name as :func:`kg.entities.resolve` compares it: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def user_actor_slug(name: str) -> str:
    """The local name of a new actor under ``kgr:user/``: the name (NFKC) with every run of
    characters that are not letters, digits, ``_`` or ``-`` replaced by one ``-``.

    Letters of any script are kept (``甲公司`` stays ``甲公司``), so that two names in Chinese do
    not both become ``actor``.

    Examples
    --------
    >>> user_actor_slug("Acme AI"), user_actor_slug("A-B"), user_actor_slug("甲公司 (台灣)")
    ('Acme-AI', 'A-B', '甲公司-台灣')
    """
    text = unicodedata.normalize("NFKC", name)
    return re.sub(r"[^\w-]+", "-", text).strip("-") or "actor"


@dataclass
class CsvRows:
    """What phase 2 needs from one CSV file, read before any of its quads are made."""

    path: Path
    graph: str
    #: The file's kind: ``relationships`` (kg.csvdata) or ``figures`` (kg.figures).
    kind: str
    #: Row number (as kg.csvdata numbers rows: 1 for the first after the header) → row.
    rows: dict[int, dict] = field(default_factory=dict)
    #: Row number → the file's line of that row (for messages).
    lines: dict[int, int] = field(default_factory=dict)
    #: Every party name with the line it is first written on.
    names: dict[str, int] = field(default_factory=dict)


def read_csv_rows(path: Path, graph: str) -> CsvRows:
    """The rows of a CSV file with their line numbers; a file whose header has a ``metric``
    column and no ``from`` is a figures file. Raises :class:`InputError` naming the bad line."""
    from kg.csvdata import _rows
    from kg.figures import figure_rows

    try:
        with path.open("rb") as fh:
            first = fh.readline(64 * 1024).decode("utf-8", "replace").lstrip("\ufeff")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    header = [h.strip() for h in next(csv.reader([first]), [])]
    kind = "figures" if "metric" in header and "from" not in header else "relationships"
    out = CsvRows(path, graph, kind)
    party_columns = ("actor",) if kind == "figures" else ("from", "to")
    with (figure_rows(path) if kind == "figures" else _rows(path)) as rows:
        for index, (line, row) in enumerate(rows, start=1):
            if not any(row.values()):
                continue
            out.rows[index], out.lines[index] = row, line
            for col in party_columns:
                if row.get(col):
                    out.names.setdefault(row[col], line)
    return out


def load_user_files(kg, paths: Iterable[str | Path]) -> list[LoadedFile]:
    """Load the user's files into ``kg`` in two phases; returns one :class:`LoadedFile` per path,
    in the order given. Warnings (restated deals, replaced bundled graphs) go to ``kg.warnings``.

    Raises :class:`InputError` for a file given twice and for two distinct new actors whose
    names make one IRI (``A B`` and ``A-B``), naming both rows.
    """
    paths = [Path(p) for p in paths]
    seen: dict[Path, Path] = {}
    for p in paths:
        key = p.resolve()
        if key in seen:
            raise InputError(f"{p}: given twice (as {seen[key]} too); each file is loaded once")
        seen[key] = p
        if not p.is_file():
            raise InputError(f"{p}: no such file")
    graphs = _graph_names(kg, paths)
    warnings = kg.warnings
    loaded: dict[Path, LoadedFile] = {}
    # Phase 1: every RDF file, each into its own graph.
    from kg.exports import check_loadable, replace_bundled_graphs

    for p in paths:
        check_loadable(p)
        if p.suffix.lower() != ".csv":
            rdf_format(p)  # an unknown suffix fails here, before anything is loaded
    replaced: set[str] = set()
    bundled = {g for f in kg.files if f.bundled for g in f.graphs}
    for p in paths:
        if p.suffix.lower() != ".csv":
            held, said = replace_bundled_graphs(kg, p, replaced)
            replaced.update(held)
            warnings.extend(said)
            loaded[p] = _without_sources_of(kg, kg.load_file(p, graph=graphs[p]), bundled)
    # Phase 2: the CSV files, their names resolved against phase 1's graph only.
    tables = [read_csv_rows(p, graphs[p]) for p in paths if p.suffix.lower() == ".csv"]
    if tables:
        mapping, actors = _resolve_names(kg, tables)
        from kg.restatements import link_restatements

        made = {t.path: _convert(kg, t, mapping, actors) for t in tables}
        warnings.extend(link_restatements(kg, [t for t in tables if t.kind == "relationships"], made))
        loaded.update(made)
    by_path = {info.path: info for info in loaded.values()}
    order = [by_path[str(p)] for p in paths]
    rest = [f for f in kg.files if f not in order]
    kg.files[:] = rest + order
    return order


def _without_sources_of(kg, info: LoadedFile, graphs: set[str]) -> LoadedFile:
    """A kg export holds bundled graphs that declare no source of their own (the ontology, the
    actors' identities): take back the user-layer source nodes the loader gave those."""
    extra = [q for q in info.added if q.graph_name.value in graphs]
    for q in extra:
        kg.store.remove(q)
    info.added = [q for q in info.added if q not in extra]
    info.quads -= len(extra)
    return info


def _graph_names(kg, paths: list[Path]) -> dict[Path, str]:
    """Each file's graph, chosen in an order that does not depend on the command line: by file
    name, then path (``deals.csv`` gets ``user/deals``, ``deals.nt`` then ``user/deals-2``)."""
    taken = set(kg.graphs()) | {g for f in kg.files for g in f.graphs}
    out = {}
    for p in sorted(paths, key=lambda p: (p.name, str(p))):
        out[p] = user_graph_iri(p, taken)
        taken.add(out[p])
    return out


def _resolve_names(kg, tables: list[CsvRows]) -> tuple[dict[str, str], dict[str, dict]]:
    """Every party name of every CSV → an IRI: a known entity, or a new actor ``kgr:user/…``.

    Names equal once normalised (``Acme AI``, ``acme ai``) are one new actor, labelled with the
    first of its spellings in sorted order. Distinct names that make one IRI are an error.
    """
    from kg.entities import resolve

    mapping: dict[str, str] = {}
    new: dict[str, list[tuple[str, str, int]]] = {}  # normalised name → [(spelling, file, line)]
    for t in tables:
        for name, line in t.names.items():
            if name in mapping:
                continue
            try:
                mapping[name] = resolve(kg, name)
            except UnknownEntityError:
                new.setdefault(_norm(name), []).append((name, str(t.path), line))
    actors: dict[str, dict] = {}
    by_slug: dict[str, tuple[str, str, int]] = {}
    for key in sorted(new):
        spellings = sorted(new[key])
        label, where, line = spellings[0]
        slug = user_actor_slug(label)
        clash = by_slug.get(slug.casefold())
        if clash is not None:
            first, second = sorted([clash, (label, where, line)], key=lambda s: (s[1], s[2]))
            raise InputError(f"{second[1]}:{second[2]}: {second[0]!r} and {first[0]!r} ({first[1]}:{first[2]}) "
                             f"are different names that make one actor IRI kgr:user/{slug}; "
                             "write them alike if they are one actor, or rename one")
        by_slug[slug.casefold()] = (label, where, line)
        iri = KGR + "user/" + slug
        actors[iri] = {"label": label, "alt": sorted({s for s, _, _ in spellings[1:]} - {label})}
        for spelling, _, _ in spellings:
            mapping[spelling] = iri
    return mapping, actors


def _convert(kg, table: CsvRows, mapping: dict[str, str], actors: dict[str, dict]) -> LoadedFile:
    """One CSV file's quads, its names resolved by ``mapping``, into the store."""
    if table.kind == "figures":
        from kg.figures import figures_to_quads

        quads = figures_to_quads(table.path, table.graph, resolve=mapping.get)
    else:
        from kg.csvdata import csv_to_quads
        from kg.restatements import reference_quads

        quads = csv_to_quads(table.path, table.graph, resolve=mapping.get)
        quads += reference_quads(table, mapping)
    g = ox.NamedNode(table.graph)
    used = {mapping[n] for n in table.names if mapping.get(n) in actors}
    for iri in sorted(used):
        node, info = ox.NamedNode(iri), actors[iri]
        quads.append(ox.Quad(node, ox.NamedNode(RDF.type), ox.NamedNode(KG.Company), g))
        for lang in ("en", "zh-Hant"):
            quads.append(ox.Quad(node, ox.NamedNode(RDFS.label), ox.Literal(info["label"], language=lang), g))
        for alt in info["alt"]:
            quads.append(ox.Quad(node, ox.NamedNode(SKOS.altLabel), ox.Literal(alt, language="en"), g))
    scratch = ox.Store()
    scratch.extend(quads)
    kg.store.extend(scratch)
    kg._invalidate()
    info = LoadedFile(str(table.path), sorted(x.value for x in scratch.named_graphs()), len(scratch), False, "csv")
    kg.files.append(info)
    return info

