"""Sources: every document the graph's claims come from, with what each supports (kg sources, kg show SOURCE)."""

from __future__ import annotations

import unicodedata

from kg.entities import label_of
from kg.errors import InputError
from kg.queries import load_query

__all__ = ["list_sources", "find_source", "names_a_source", "show_source", "short_title", "source_titles"]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def short_title(row: dict, lang: str = "en") -> str:
    """The label a table shows for a source: its short title (rdfs:label) in ``lang``, then in the
    other language, then its title, then its slug."""
    order = ("label_zh", "label_en", "title_zh", "title_en") if lang == "zh-Hant" else \
        ("label_en", "label_zh", "title_en", "title_zh")
    return next((row[k] for k in order if row.get(k)), _slug(row["source"]))


def _row(kg, r: dict, lang: str) -> dict:
    publishers = sorted((r["publishers"] or "").split())
    return {
        "id": r["source"],
        "slug": _slug(r["source"]),
        "short_title": short_title(r, lang),
        "label": r["label_en"],
        "label_zh": r["label_zh"],
        "title": r["title_en"],
        "title_zh": r["title_zh"],
        "publishers": [{"id": p, "label": label_of(kg, p, lang)} for p in publishers],
        "creators": [{"id": p, "label": label_of(kg, p, lang)} for p in sorted((r["creators"] or "").split())],
        "date": r["date"],
        "url": r["url"],
        "layer": r["layer_name"],
        "graph": r["graph"],
        "citation": r["citation"],
        "claims": int(r["claims"] or 0),
        "relationships": int(r["relationships"] or 0),
        "figures": int(r["figures"] or 0),
        "cited_by": int(r["cited_by"] or 0),
    }


def list_sources(kg, layer: str | None = None, lang: str = "en") -> list[dict]:
    """Every source with its layer, titles, publishers, date, URL and what it supports.

    Rows are ordered by layer (``article``, ``context``, ``reference``, ``user``) then IRI, the same on
    every store; ``publishers`` are sorted by IRI.
    """
    from kg.explore import layer_iri

    bindings = {"layer": layer_iri(layer)} if layer_iri(layer) else {}
    rows = [_row(kg, r, lang) for r in kg.select(load_query("sources").text, bindings)]
    return sorted(rows, key=lambda r: (r["layer"] or "", r["id"]))


def source_titles(kg, iris: str | None, lang: str = "en") -> str:
    """The short titles of the space-separated source IRIs ``iris``, for a table cell."""
    cached = getattr(kg, "_source_titles", None)
    if cached is None:
        cached = kg._source_titles = {}
    if lang not in cached:
        cached[lang] = {r["source"]: short_title(r, lang) for r in kg.select(load_query("sources").text)}
    return "; ".join(sorted(cached[lang].get(i, _slug(i)) for i in (iris or "").split()))


def _index(kg) -> dict[str, set[str]]:
    cached = getattr(kg, "_source_index", None)
    if cached is not None:
        return cached
    index: dict[str, set[str]] = {}
    for r in kg.select(load_query("sources").text):
        for key in (r["source"], _slug(r["source"]), r["title_en"], r["title_zh"], r["label_en"], r["label_zh"]):
            if key:
                index.setdefault(_norm(key), set()).add(r["source"])
    kg._source_index = index
    return index


def find_source(kg, name: str) -> str | None:
    """The IRI of the source called ``name`` (IRI, slug, title or label in either language, ignoring
    case and width), or ``None`` when no source is called so. Raises :class:`InputError` when the
    name fits several sources."""
    hits = _index(kg).get(_norm(name))
    if not hits:
        return None
    if len(hits) > 1:
        raise InputError(f"{name!r} names {len(hits)} sources: {', '.join(sorted(_slug(h) for h in hits))}; "
                         "give one by its slug")
    return next(iter(hits))


def names_a_source(kg, name: str) -> bool:
    """Whether ``name`` names a source and no actor (an actor's exact name wins)."""
    from kg.entities import _norm as norm_entity, name_index

    if name_index(kg).get(norm_entity(name)):
        return False
    return find_source(kg, name) is not None


def show_source(kg, name: str, lang: str = "en") -> dict:
    """One source (by slug, title or label): its metadata, counts, and the claims, relationships
    and figures it supports, each with its kind and English text."""
    iri = find_source(kg, name)
    if iri is None:
        raise InputError(f"no source called {name!r}; `kg sources` lists them")
    head = _row(kg, kg.select(load_query("sources").text, {"source": iri})[0], lang)
    items = [
        {"what": r["what"], "id": r["item"], "kind": r["kind"], "line": r["line"], "text": r["text"]}
        for r in kg.select(load_query("source-items").text, {"source": iri})
    ]
    order = {"claim": 0, "relationship": 1, "figure": 2, "citing claim": 3}
    items.sort(key=lambda i: (order.get(i["what"], 9), i["line"] is None, i["line"] or 0, i["id"]))
    return {**head, "items": items}
