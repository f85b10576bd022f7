"""Resolve a user's name for an entity (IRI, local name, any label in either language)."""

from __future__ import annotations

import difflib
import unicodedata

from kg.errors import UnknownEntityError
from kg.queries import load_query

__all__ = ["resolve", "name_index", "label_of", "labels"]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def name_index(kg) -> dict[str, set[str]]:
    """Normalised name → IRIs, built once per store from ``queries/entity-names.rq``."""
    cached = getattr(kg, "_name_index", None)
    if cached is not None:
        return cached
    index: dict[str, set[str]] = {}
    display: dict[str, str] = {}
    for row in kg.select(load_query("entity-names").text):
        iri = row["id"]
        for key in (row["name"], iri, iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]):
            if key:
                index.setdefault(_norm(str(key)), set()).add(iri)
                display.setdefault(_norm(str(key)), str(key))
    kg._name_index, kg._name_display = index, display
    return index


def resolve(kg, name: str) -> str:
    """The IRI of the entity called ``name``.

    Matches an IRI, a local name (``OpenAI``), a label or alternative label in either language
    (``微軟``), a ticker (``MSFT``) or a Wikidata ID, ignoring case and width. Raises
    :class:`UnknownEntityError` with the nearest names when nothing (or more than one entity)
    matches.
    """
    index = name_index(kg)
    hits = index.get(_norm(name))
    if hits and len(hits) == 1:
        return next(iter(hits))
    if hits:
        actors = _prefer_actors(kg, hits)
        if len(actors) == 1:
            return actors[0]
        raise UnknownEntityError(name, sorted(hits)[:5])
    keys = [k for k in index if not k.startswith("http")]
    near = difflib.get_close_matches(_norm(name), keys, n=5, cutoff=0.5)
    if not near:
        near = [k for k in keys if _norm(name) in k][:5]
    raise UnknownEntityError(name, [kg._name_display[k] for k in near])


def _prefer_actors(kg, iris) -> list[str]:
    from kg.vocab import KG

    out = []
    for iri in sorted(iris):
        if kg.ask(
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ASK { ?id a/rdfs:subClassOf* ?actor }",
            {"id": iri, "actor": KG.Actor},
        ):
            out.append(iri)
    return out


def labels(kg) -> dict[str, dict[str, str]]:
    """IRI → {"en": label, "zh-Hant": label} for everything labelled, built once per store."""
    cached = getattr(kg, "_labels", None)
    if cached is not None:
        return cached
    out: dict[str, dict[str, str]] = {}
    names, rows = kg.select_terms(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?s ?l WHERE { ?s rdfs:label|skos:prefLabel ?l FILTER(isLiteral(?l)) }"
    )
    for s, lit in rows:
        lang = (lit.language or "").lower()
        key = "zh-Hant" if lang == "zh-hant" else ("en" if lang in ("en", "") else None)
        if key:
            out.setdefault(s.value, {}).setdefault(key, lit.value)
    kg._labels = out
    return out


def label_of(kg, iri: str | None, lang: str = "en") -> str:
    """The label of ``iri`` in ``lang`` (falling back to the other language, then the local name)."""
    if not iri:
        return ""
    entry = labels(kg).get(iri, {})
    other = "en" if lang == "zh-Hant" else "zh-Hant"
    return entry.get(lang) or entry.get(other) or iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
