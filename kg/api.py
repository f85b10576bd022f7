"""The Python API for notebooks: ``kg.open()`` → a :class:`Graph` to query, analyse and draw.

A thin layer over the library: named queries (:mod:`kg.explore`), the dependency view
(:mod:`kg.analysis.view`), exposure (:mod:`kg.analysis.exposure`) and the graph page
(:mod:`kg.viz`), with results that turn into pandas frames and a page that Jupyter shows inline.
"""

from __future__ import annotations

import html as _html
from pathlib import Path
from typing import Iterable

from kg.errors import KGError

__all__ = ["open", "Graph", "Rows", "Exposure", "Page", "MissingDependencyError"]


class MissingDependencyError(KGError):
    """An optional library (pandas) is needed for this call and is not installed."""


def open(data: Iterable[str | Path] = (), *, bundled: bool = True, validate: bool = True) -> "Graph":  # noqa: A001
    """Load the bundled graph and the user's files, as :func:`kg.store.load_store` does.

    Parameters
    ----------
    data : paths of the user's files (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML, CSV);
        a single path may be given alone.
    bundled : load the bundled article and context graphs (False: the ontology and ``data`` only).
    validate : check the user's files against the project's SHACL shapes.

    Raises
    ------
    kg.errors.ParseError, kg.errors.ValidationError, kg.errors.InputError
        A file cannot be read, parsed or validated (the message names the file and line).

    Examples
    --------
    >>> import kg
    >>> g = kg.open()
    >>> g
    <kg.Graph: bundled graph, ... actors, ... quads in ... named graphs>
    """
    from kg.store import load_store

    if isinstance(data, (str, Path)):
        data = [data]
    return Graph(load_store(list(data), bundled=bundled, validate=validate))


class Rows(list):
    """The rows of a SELECT, each a dict of variable → Python value, in the query's column order."""

    def __init__(self, rows=(), columns: Iterable[str] | None = None):
        super().__init__(rows)
        self.columns = list(columns) if columns is not None else (list(self[0]) if self else [])

    def to_frame(self):
        """The rows as a ``pandas.DataFrame`` (needs ``pip install 'ai-capital-kg[pandas]'``)."""
        pd = _pandas()
        return pd.DataFrame(list(self), columns=self.columns)

    def __repr__(self) -> str:
        return f"<kg.Rows: {len(self)} rows × {len(self.columns)} columns ({', '.join(self.columns)})>"


class Exposure:
    """What :func:`kg.analysis.exposure.rank_exposure` returns, with ``rows`` as dicts, ``bands``
    and ``to_frame()``; every other attribute (``R``, ``rounds``, ``notes``, …) is the analysis
    result's own, so this wrapper follows the model as it changes."""

    def __init__(self, result):
        self.result = result

    @property
    def rows(self) -> Rows:
        """One dict per actor (``id``, ``label``, ``h``, ``loss_usd``, ``round``, …), ranked by impact."""
        return Rows([r.as_dict() if hasattr(r, "as_dict") else dict(vars(r)) for r in self.result.rows])

    @property
    def bands(self) -> dict | None:
        """Actor IRI → its bands (quantiles of the sampled runs), when the run sampled any."""
        bands = {r.id: r.bands for r in self.result.rows if getattr(r, "bands", None)}
        return bands or None

    def to_frame(self):
        """The rows as a ``pandas.DataFrame`` indexed by actor IRI: one column per scalar field,
        and per band quantile (``h_p5``, ``h_p50``, ``h_p95``, …) when there are bands."""
        flat = []
        for row in self.rows:
            out = {k: v for k, v in row.items() if not isinstance(v, (dict, list))}
            for name, band in (row.get("bands") or {}).items():
                if isinstance(band, dict):
                    out.update({f"{name}_{q}": v for q, v in band.items() if not isinstance(v, (dict, list))})
            flat.append(out)
        frame = _pandas().DataFrame(flat)
        return frame.set_index("id") if "id" in frame.columns else frame

    def __getattr__(self, name):
        if name == "result":
            raise AttributeError(name)
        return getattr(self.result, name)

    def __len__(self) -> int:
        return len(self.result.rows)

    def __repr__(self) -> str:
        r = self.result
        return (f"<kg.Exposure: {', '.join(_local(s) for s in _listed(r.shock))} fails ({r.method}, "
                f"ψ = {r.severity:g}, layer {r.layer}): {len(r.rows)} actors, R = {r.R:.4g}>")


class Page:
    """One self-contained graph page (``html``), shown inline by Jupyter."""

    #: Height of the inline frame in a notebook, in CSS pixels.
    height = 640

    def __init__(self, html: str):
        self.html = html

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the page to ``path`` atomically; an existing file is kept unless ``force``."""
        from kg.errors import InputError

        path = Path(path)
        if path.exists() and not force:
            raise InputError(f"{path} exists; pass force=True to overwrite it")
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.html, encoding="utf-8")
        tmp.replace(path)
        return path

    def _repr_html_(self) -> str:
        # The whole page goes in srcdoc, escaped (quotes included), so nothing in it can close the
        # attribute; the sandbox lets its scripts run without the notebook's origin.
        return (f'<iframe srcdoc="{_html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                f'style="width: 100%; height: {self.height}px; border: 1px solid #ddd" '
                f'title="ai-capital-kg graph page"></iframe>')

    def __repr__(self) -> str:
        return f"<kg.Page: {len(self.html):,} characters>"


class Graph:
    """The loaded knowledge graph (:class:`kg.store.KGStore` as ``store``).

    Examples
    --------
    >>> import kg
    >>> g = kg.open()
    >>> rows = g.query("claims-about", about="Oracle")
    >>> rows.columns[:3]
    ['about', 'section', 'kind']
    """

    def __init__(self, store):
        self.store = store

    # -- SPARQL --------------------------------------------------------------------------------
    def query(self, name: str, **params):
        """Run a named query (``queries/<name>.rq``) or a ``.rq`` file with its declared parameters
        bound as values (entities by any name, layers by name).

        Returns :class:`Rows` for a SELECT, a bool for an ASK and an ``rdflib.Graph`` for a
        CONSTRUCT or DESCRIBE. Unknown queries and parameters raise
        :class:`kg.errors.QueryError`, naming the nearest queries or the declared parameters.
        """
        from kg.explore import run_named_query

        form, result = run_named_query(self.store, name, {k: _text(v) for k, v in params.items()})
        if form == "SELECT":
            return Rows(result, columns=_columns(result))
        if form == "ASK":
            return result
        import rdflib

        graph = rdflib.Graph()
        for triple in result:
            graph.add(tuple(_to_rdflib(t) for t in (triple.subject, triple.predicate, triple.object)))
        return graph

    def sparql(self, text: str, **bindings) -> Rows:
        """Run a SELECT given as text, with ``bindings`` (variable → value) bound, never pasted."""
        result = self.store.select(text, bindings or None)
        return Rows(result, columns=_columns(result))

    def rdflib(self):
        """The loaded graph as an ``rdflib.Dataset``: the same quads, each in its named graph."""
        import pyoxigraph as ox
        import rdflib

        data = self.store.store.dump(format=ox.RdfFormat.N_QUADS)
        ds = rdflib.Dataset()
        ds.parse(data=data.decode("utf-8"), format="nquads")
        return ds

    # -- analysis ------------------------------------------------------------------------------
    def networkx(self, layer: str = "all", **options):
        """The dependency view (:func:`kg.analysis.view.build_view`): a ``networkx.MultiDiGraph``
        whose edge u → v says v depends on u, with weights, amounts and sources."""
        from kg.analysis.view import build_view

        return build_view(self.store, layer, **options)

    def exposure(self, shock, **options) -> Exposure:
        """Who is hurt if ``shock`` (a name in either language, a ticker, an IRI, or a list of
        them) fails: :func:`kg.analysis.exposure.rank_exposure` with its own options and
        defaults (``severity``, ``method``, ``layer``, ``samples``, ``seed``, …), wrapped in
        :class:`Exposure`."""
        from kg.analysis.exposure import rank_exposure
        from kg.entities import resolve

        shocks = [resolve(self.store, s) for s in _listed(shock)]
        return Exposure(rank_exposure(self.store, shocks[0] if len(shocks) == 1 else shocks, **options))

    # -- pages ---------------------------------------------------------------------------------
    def page(self, **view) -> Page:
        """The graph page of a view (the options of :func:`kg.viz.render_page`: ``focus``,
        ``depth``, ``exposure``, ``chain``, ``cycles``, ``layer``, ``lang``, …)."""
        from kg.viz import render_page

        return Page(render_page(self.store, **view))

    def _repr_html_(self) -> str:
        return self.page()._repr_html_()

    def __repr__(self) -> str:
        user = [f.path for f in self.store.files if not f.bundled]
        bundled = any(f.bundled and "/data/" in f.path.replace("\\", "/") for f in self.store.files)
        what = ("bundled graph" if bundled else "ontology") + (f" + {len(user)} file(s)" if user else "")
        actors = self.store.select("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> "
                                   "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                                   "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a/rdfs:subClassOf* kg:Actor }")
        return (f"<kg.Graph: {what}, {actors[0]['n']} actors, {len(self.store):,} quads in "
                f"{len(self.store.graphs())} named graphs>")


# -- helpers -------------------------------------------------------------------------------------
def _pandas():
    try:
        import pandas
    except ImportError:
        raise MissingDependencyError("to_frame() needs pandas: pip install 'ai-capital-kg[pandas]'") from None
    return pandas


def _columns(rows: list[dict]) -> list[str]:
    # the store's rows keep the query's variable order; an empty result has no row to read it from
    return list(rows[0]) if rows else []


def _text(value) -> str:
    return value if isinstance(value, str) else str(value)


def _listed(value) -> list:
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


def _local(iri: str) -> str:
    return str(iri).rsplit("/", 1)[-1]


def _to_rdflib(term):
    import pyoxigraph as ox
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
