"""Read-only views of the graph behind kg info, entities, show, claims and coverage."""

from __future__ import annotations

from kg.entities import label_of, resolve
from kg.errors import InputError, QueryError
from kg.queries import list_queries, load_query, star_order, unknown_prefix_message, with_prefixes
from kg.vocab import KG

__all__ = [
    "info", "list_entities", "show_entity", "list_claims", "coverage", "run_named_query",
    "LAYERS", "layer_iri", "layer_name", "local_name",
]

LAYERS = {"article": KG.ArticleLayer, "context": KG.ContextLayer, "user": KG.UserLayer}


def layer_iri(name: str | None) -> str | None:
    """``article`` → ``kg:ArticleLayer``; ``all`` or ``None`` → no restriction."""
    if name in (None, "all"):
        return None
    try:
        return LAYERS[name]
    except KeyError:
        raise InputError(f"unknown layer {name!r}; expected one of {', '.join(list(LAYERS) + ['all'])}") from None


def local_name(iri: str | None) -> str:
    return "" if not iri else iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def layer_name(iri_or_name: str | None) -> str | None:
    """``kg:ArticleLayer`` (or ``article``) → ``article``: the one spelling of a layer in output."""
    if not iri_or_name:
        return None
    for name, iri in LAYERS.items():
        if iri_or_name in (iri, name):
            return name
    return local_name(iri_or_name).removesuffix("Layer").lower()


def _sorted_split(text: str | None, sep: str | None = None) -> list[str]:
    """A GROUP_CONCAT'ed list as a sorted list: stores do not agree on GROUP_CONCAT's order."""
    return sorted(x.strip() for x in (text or "").split(sep) if x.strip())


def info(kg) -> dict:
    """Counts by type, relationship kind and source, plus the files loaded."""
    counts: dict[str, list[dict]] = {}
    for row in kg.select(load_query("info-counts").text):
        counts.setdefault(row["group"], []).append(
            {"key": row["key"], "layer": row["layer"], "count": row["count"]}
        )
    files = [
        {"path": f.path, "format": f.format, "quads": f.quads, "bundled": f.bundled, "graphs": f.graphs}
        for f in kg.files
    ]
    return {"triples": len(kg), "graphs": len(kg.graphs()), "counts": counts, "files": files}


def list_entities(kg, type_name: str | None = None, lang: str = "en") -> list[dict]:
    """Every actor: ``id``, ``label``, ``label_zh``, ``types``."""
    bindings = {}
    if type_name:
        cls = _class_iri(kg, type_name)
        bindings["type"] = cls
    rows = kg.select(load_query("entities").text, bindings)
    seen: dict[str, dict] = {}
    for r in rows:
        entry = seen.setdefault(r["id"], {
            "id": r["id"], "label": r["label"], "label_zh": r["label_zh"], "types": set(),
        })
        entry["types"].update(local_name(t) for t in (r["types"] or "").split())
    out = [{**e, "types": sorted(e["types"])} for e in seen.values()]
    key = "label_zh" if lang == "zh-Hant" else "label"
    return sorted(out, key=lambda e: (e[key] or e["label"] or "").casefold())


def _class_iri(kg, name: str) -> str:
    classes = {"company": KG.Company, "platform": KG.Platform, "product": KG.Product,
               "group": KG.ActorGroup, "actorgroup": KG.ActorGroup, "actor": KG.Actor}
    key = local_name(name).casefold()
    if key in classes:
        return classes[key]
    raise InputError(f"unknown type {name!r}; expected one of Company, Platform, Product, ActorGroup, Actor")


def show_entity(kg, name: str, lang: str = "en") -> dict:
    """Everything about one entity: labels, types, groups, relationships, claims, assessments."""
    iri = resolve(kg, name)
    rows = kg.select(load_query("entity").text, {"id": iri})
    head = rows[0] if rows else {"id": iri}
    groups = sorted((
        {"direction": r["direction"], "id": r["other"], "label": label_of(kg, r["other"], lang), "source": r["source"]}
        for r in kg.select(load_query("entity-groups").text, {"id": iri})
    ), key=lambda g: (g["direction"], g["id"], g["source"] or ""))
    rels = [
        {
            "direction": r["direction"], "relationship": r["rel"],
            "kind": r["kindName"] or local_name(r["kind"]), "kind_label": r["kindLabel"],
            "other": r["other"], "other_label": label_of(kg, r["other"], lang),
            "amount": r["value"], "currency": r["currency"],
            "qualifiers": ",".join(_sorted_split(r["qualifiers"], ",")) or None,
            "amount_text": r["amountText"], "status": r["status"],
            "source": " ".join(_sorted_split(r["source"])) or None, "layer": layer_name(r["layer"]),
        }
        for r in kg.select(load_query("entity-relationships").text, {"id": iri})
    ]
    rels.sort(key=lambda r: (r["direction"], r["kind_label"] or r["kind"], r["other"], r["relationship"], r["layer"] or ""))
    claims = _sort_claims(_claim_row(r) for r in kg.select(load_query("claims-about").text, {"about": iri}))
    assessments = [
        {
            "assessment": r["assessment"], "verdict": r["verdict"], "short_term": r["short"], "long_term": r["long"],
            "short_term_text": r["short_text"], "long_term_text": r["long_text"],
            "rationale": r["rationale_zh"] if lang == "zh-Hant" and r["rationale_zh"] else r["rationale"],
            "claims": _sorted_split(r["claims"]), "source": r["source"],
        }
        for r in kg.select(load_query("impact-assessments").text, {"actor": iri})
    ]
    assessments.sort(key=lambda a: (a["verdict"] or "", a["assessment"]))
    return {
        "id": iri,
        "label": head.get("label"),
        "label_zh": head.get("label_zh"),
        "types": sorted(local_name(t) for t in (head.get("types") or "").split()),
        "alt_labels": _sorted_split(head.get("altLabels"), "; "),
        "ticker": head.get("ticker"),
        "wikidata": head.get("wikidata"),
        "operated_by": head.get("operatedBy"),
        "comment": head.get("comment"),
        "groups": groups,
        "relationships": rels,
        "claims": claims,
        "impact_assessments": assessments,
    }


def _sort_claims(rows) -> list[dict]:
    """Claims by line (claims without one first, as SPARQL's ORDER BY puts unbound values), then IRI."""
    return sorted(rows, key=lambda c: (c["line"] is not None, c["line"] or 0, c["id"]))


def _claim_row(r: dict) -> dict:
    return {
        "id": r["id"],
        "excerpt_zh": r["excerpt_zh"],
        "excerpt": r["excerpt"],
        "text_en": r["text_en"],
        "section": r["section_name"],
        "kind": r["kind_name"],
        "hedge": ",".join(_sorted_split(r["hedge"], ",")) or None,
        "about": _sorted_split(r["abouts"]),
        "source": r["source"],
        "layer": layer_name(r["layer"]),
        "line": r["line"],
    }


def list_claims(kg, about: str | None = None, section: str | None = None, kind: str | None = None,
                layer: str | None = None) -> list[dict]:
    """Claims, filtered by entity, section notation (``truth2``), kind notation (``prediction``), layer."""
    bindings = {"layer": layer_iri(layer)}
    if section:
        bindings["section"] = _concept(kg, section, "ArticleSectionScheme", "ContextSectionScheme")
    if kind:
        bindings["kind"] = _concept(kg, kind, "ClaimKindScheme")
    if about:
        bindings["about"] = resolve(kg, about)
        rows = kg.select(load_query("claims-about").text, bindings)
    else:
        rows = kg.select(load_query("claims").text, bindings)
    return _sort_claims(_claim_row(r) for r in rows)


def concepts(kg, *schemes: str) -> dict[str, str]:
    """notation → concept IRI for the given SKOS schemes of the ontology."""
    q = (
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?scheme ?c ?n WHERE { ?c skos:inScheme ?scheme ; skos:notation ?n }"
    )
    out = {}
    for s in schemes:
        for r in kg.select(q, {"scheme": KG[s]}):
            out[r["n"]] = r["c"]
    return out


def _concept(kg, value: str, *schemes: str) -> str:
    table = concepts(kg, *schemes)
    key = value.strip()
    for notation, iri in table.items():
        if key.casefold() in (notation.casefold(), local_name(iri).casefold()):
            return iri
    raise InputError(f"unknown value {value!r}; expected one of {', '.join(sorted(table))}")


def coverage(kg, source: str | None = None) -> list[dict]:
    """Every paragraph of each source (or of ``source``, an IRI) with its claims."""
    rows = kg.select(load_query("coverage").text, {"source": source})
    return [
        {
            "section": r["section"], "line": r["line"], "paragraph_kind": r["paragraph_kind"],
            "claims": r["claims"], "claim_ids": sorted(local_name(c) for c in (r["claim_ids"] or "").split()),
            "paragraph": r["paragraph"], "source": r["source"],
        }
        for r in rows
    ]


def run_named_query(kg, name_or_path: str, params: dict[str, str]):
    """Run a named query (or a ``.rq`` file) with ``params`` bound through its declared types.

    Returns ``(form, result)``: a list of row dicts for SELECT, a bool for ASK, triples for
    CONSTRUCT/DESCRIBE.
    """
    query = load_query(name_or_path)
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        names = ", ".join(declared) or "none"
        raise QueryError(f"query {query.name!r} has no parameter {', '.join(unknown)}; its parameters: {names}")
    missing = [p.name for p in query.params if not p.optional and p.name not in params]
    if missing:
        raise QueryError(f"query {query.name!r} needs parameter(s): {', '.join(missing)}")
    bindings = {name: bind_value(kg, declared[name].type, value) for name, value in params.items()}
    form = query.form
    named = list_queries().get(query.name)
    if named is not None and named.path == query.path:
        return form, _run_form(kg, form, query.text, bindings)
    # A user's file: the project's prefixes are predeclared (the embedded store does so itself;
    # a remote one gets them declared on the query's first line), errors name the file.
    from kg.store import KGStore

    text = query.text if isinstance(kg, KGStore) else with_prefixes(query.text)
    try:
        if not isinstance(kg, KGStore):  # a remote store's parser would say it its own way
            unknown = unknown_prefix_message(text)
            if unknown:
                raise QueryError(f"bad SPARQL: {unknown}")
        result = _run_form(kg, form, text, bindings)
    except QueryError as exc:
        raise QueryError(f"{query.path}: {exc}") from None
    if form == "SELECT" and result:  # SELECT * in the query's order, whatever the store's
        order = star_order(text, list(result[0]))
        result = [{n: row[n] for n in order} for row in result]
    return form, result


def _run_form(kg, form: str, text: str, bindings: dict):
    if form == "SELECT":
        return kg.select(text, bindings)
    if form == "ASK":
        return kg.ask(text, bindings)
    return kg.construct(text, bindings)


def bind_value(kg, ptype: str, value: str):
    """Turn a command-line string into the term a parameter of type ``ptype`` expects."""
    import pyoxigraph as ox

    from kg.vocab import XSD

    if ptype == "entity":
        return ox.NamedNode(resolve(kg, value))
    if ptype == "layer":
        return ox.NamedNode(layer_iri(value)) if layer_iri(value) else None
    if ptype == "iri":
        if ":" in value and not value.startswith(("http://", "https://", "urn:")):
            from kg.vocab import PREFIXES

            prefix, _, local = value.partition(":")
            if prefix not in PREFIXES:
                raise InputError(f"unknown prefix {prefix!r} in {value!r}")
            value = PREFIXES[prefix] + local
        if not value.startswith(("http://", "https://", "urn:")):
            raise InputError(f"expected an IRI or prefixed name, got {value!r}")
        return ox.NamedNode(value)
    if ptype in ("decimal", "integer"):
        try:
            float(value)
        except ValueError:
            raise InputError(f"expected a number, got {value!r}") from None
        return ox.Literal(value, datatype=ox.NamedNode(XSD.decimal if ptype == "decimal" else XSD.integer))
    return ox.Literal(value)
