"""Generate docs/ontology.md from the ontology itself (run ``python -m kg.docgen``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox

from kg.resources import ontology_dir
from kg.vocab import BASE, GRAPH, KG, PREFIXES

__all__ = ["render_ontology_markdown", "main"]

_Q_TERMS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?term ?type
  (SAMPLE(?len) AS ?label_en) (SAMPLE(?lzh) AS ?label_zh) (SAMPLE(?cen) AS ?comment_en) (SAMPLE(?czh) AS ?comment_zh)
  (GROUP_CONCAT(DISTINCT STR(?super); separator=" ") AS ?supers)
  (GROUP_CONCAT(DISTINCT STR(?dom); separator=" ") AS ?domains)
  (GROUP_CONCAT(DISTINCT STR(?rng); separator=" ") AS ?ranges)
WHERE {
  ?term a ?type .
  FILTER(?type IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty))
  FILTER(STRSTARTS(STR(?term), "https://w3id.org/ai-capital-kg/ontology#"))
  OPTIONAL { ?term rdfs:label ?len FILTER(langMatches(LANG(?len), "en")) }
  OPTIONAL { ?term rdfs:label ?lzh FILTER(langMatches(LANG(?lzh), "zh-Hant")) }
  OPTIONAL { ?term rdfs:comment ?cen FILTER(langMatches(LANG(?cen), "en")) }
  OPTIONAL { ?term rdfs:comment ?czh FILTER(langMatches(LANG(?czh), "zh-Hant")) }
  OPTIONAL { ?term rdfs:subClassOf|rdfs:subPropertyOf ?super }
  OPTIONAL { ?term rdfs:domain ?dom }
  OPTIONAL { ?term rdfs:range ?rng }
}
GROUP BY ?term ?type
ORDER BY ?type ?term
"""

_Q_CONCEPTS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
SELECT ?scheme ?concept ?notation (SAMPLE(?len) AS ?label_en) (SAMPLE(?lzh) AS ?label_zh) (SAMPLE(?den) AS ?definition)
  (SAMPLE(?fr) AS ?from_role) (SAMPLE(?tr) AS ?to_role) (SAMPLE(?sc) AS ?shortcut)
  (SAMPLE(?mf) AS ?money_from) (SAMPLE(?mt) AS ?money_to) (GROUP_CONCAT(DISTINCT STR(?ch); separator=" ") AS ?channels)
WHERE {
  ?concept skos:inScheme ?scheme ; skos:notation ?notation .
  OPTIONAL { ?concept skos:prefLabel ?len FILTER(langMatches(LANG(?len), "en")) }
  OPTIONAL { ?concept skos:prefLabel ?lzh FILTER(langMatches(LANG(?lzh), "zh-Hant")) }
  OPTIONAL { ?concept skos:definition ?den FILTER(langMatches(LANG(?den), "en")) }
  OPTIONAL { ?concept kg:fromRole ?fr } OPTIONAL { ?concept kg:toRole ?tr } OPTIONAL { ?concept kg:shortcut ?sc }
  OPTIONAL { ?concept kg:moneyFromRole ?mf } OPTIONAL { ?concept kg:moneyToRole ?mt } OPTIONAL { ?concept kg:channel ?ch }
}
GROUP BY ?scheme ?concept ?notation
ORDER BY ?scheme ?notation
"""

#: One example query per main pattern; each is run by tests/test_docs.py on the bundled graph.
EXAMPLES = [
    ("Direct shortcuts (derived): who invests in whom", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
SELECT ?investor ?investee WHERE { ?investor kg:investsIn ?investee }"""),
    ("A qualified relationship with its amount, qualifier and source", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?rel ?value ?qualifier ?source WHERE {
  ?rel kg:kind kg:ComputeContract ; kg:supplier kgr:Oracle ; kg:customer kgr:OpenAI ; dcterms:source ?source .
  OPTIONAL { ?rel kg:amount [ schema:value ?value ; kg:qualifier ?qualifier ] }
}"""),
    ("Directed money flows (payer → payee), e.g. the Microsoft ⇄ OpenAI loop", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/>
SELECT ?kind WHERE {
  kgr:Microsoft kg:paysTo kgr:OpenAI .
  ?rel kg:payer kgr:OpenAI ; kg:payee kgr:Microsoft ; kg:kind ?kind .
}"""),
    ("Claims with provenance: the article's predictions about Oracle", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?claim ?excerpt ?english ?source WHERE {
  ?claim kg:about kgr:Oracle ; kg:claimKind kg:Prediction ; kg:excerpt ?excerpt ; kg:text ?english ; dcterms:source ?source .
}"""),
    ("Only one layer: the context facts, by named graph", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
SELECT ?source ?rel WHERE {
  ?source kg:layer kg:ContextLayer ; kg:namedGraph ?g .
  GRAPH ?g { ?rel a kg:Relationship }
}"""),
    ("Group membership", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/>
SELECT ?member WHERE { kgr:OtherFoundationModelProviders kg:hasMember ?member }"""),
    ("The domino stages in order, with the actors they affect", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?order ?stage ?actor WHERE {
  ?stage a kg:DominoStage ; kg:order ?order ; kg:affects ?actor .
} ORDER BY ?order"""),
    ("Impact assessments: losers, relative winners, mixed", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
SELECT ?actor ?verdict ?short ?long WHERE {
  ?a a kg:ImpactAssessment ; kg:assessedActor ?actor ; kg:verdict ?verdict .
  OPTIONAL { ?a kg:shortTermEffect ?short } OPTIONAL { ?a kg:longTermEffect ?long }
}"""),
    ("Reachability with a property path: everything downstream of OpenAI's money", """
PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/>
SELECT DISTINCT ?payee WHERE { kgr:OpenAI kg:paysTo+ ?payee }"""),
]


def _curie(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def _cell(text) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def render_ontology_markdown() -> str:
    """The Markdown of docs/ontology.md, from ontology/*.ttl (deterministic)."""
    store = ox.Store()
    for name in ("ai-capital-kg.ttl", "concepts.ttl"):
        store.load(path=str(ontology_dir() / name), format=ox.RdfFormat.TURTLE)
    terms = list(store.query(_Q_TERMS))
    concepts = list(store.query(_Q_CONCEPTS))
    v = lambda t: "" if t is None else t.value  # noqa: E731
    out = [
        "# The ai-capital-kg ontology",
        "",
        "<!-- Generated by `python -m kg.docgen` from ontology/*.ttl; tests/test_docs.py fails when it is out of date. -->",
        "",
        f"Base IRI: `{BASE}`. Vocabulary (classes, properties, SKOS concepts): `{KG}` (prefix `kg:`).",
        f"Instances: `{BASE}resource/` (`kgr:`), with sub-namespaces `resource/source/` (`src:`), `resource/rel/`"
        " (`rel:`), `resource/claim/` (`claim:`), `resource/paragraph/` (`para:`), `resource/figure/` (`fig:`).",
        f"Named graphs: `{GRAPH}ontology` (this vocabulary), `{GRAPH}entities` (actor identities),"
        f" `{GRAPH}article` (the article's claims), `{GRAPH}context/<source>` (one per outside source),"
        f" `{GRAPH}user/<file>` (each `--data` file), `{GRAPH}derived` (shortcut triples made by"
        " `ontology/rules/derive.ru`). The default graph of every query is the union of the named graphs.",
        "",
        "Standard vocabularies reused: RDFS/OWL, PROV-O (`prov:`), Dublin Core terms (`dcterms:`), SKOS (`skos:`),"
        " schema.org (`schema:MonetaryAmount`, `schema:QuantitativeValue`, `schema:tickerSymbol`), SHACL"
        " (`ontology/shapes.ttl`).",
        "",
        "## Prefixes",
        "",
        "| prefix | IRI |",
        "|---|---|",
    ]
    out += [f"| `{p}:` | `{ns}` |" for p, ns in PREFIXES.items()]
    titles = {
        "http://www.w3.org/2002/07/owl#Class": "Classes",
        "http://www.w3.org/2002/07/owl#ObjectProperty": "Object properties",
        "http://www.w3.org/2002/07/owl#DatatypeProperty": "Datatype properties",
    }
    for type_iri, title in titles.items():
        rows = [t for t in terms if t["type"].value == type_iri]
        out += ["", f"## {title}", ""]
        if title == "Classes":
            out += ["| class | label (en / zh-Hant) | subclass of | comment (en) | comment (zh-Hant) |", "|---|---|---|---|---|"]
            for t in rows:
                supers = ", ".join(_curie(s) for s in sorted(v(t["supers"]).split()))
                out.append(f"| `{_curie(t['term'].value)}` | {_cell(v(t['label_en']))} / {_cell(v(t['label_zh']))} | {supers} "
                           f"| {_cell(v(t['comment_en']))} | {_cell(v(t['comment_zh']))} |")
        else:
            out += ["| property | label (en / zh-Hant) | domain → range | sub-property of | comment (en) | comment (zh-Hant) |",
                    "|---|---|---|---|---|---|"]
            for t in rows:
                dom = ", ".join(_curie(s) for s in sorted(v(t["domains"]).split())) or "—"
                rng = ", ".join(_curie(s) for s in sorted(v(t["ranges"]).split())) or "—"
                supers = ", ".join(_curie(s) for s in sorted(v(t["supers"]).split()))
                out.append(f"| `{_curie(t['term'].value)}` | {_cell(v(t['label_en']))} / {_cell(v(t['label_zh']))} | {dom} → {rng} "
                           f"| {supers} | {_cell(v(t['comment_en']))} | {_cell(v(t['comment_zh']))} |")
    out += ["", "## Concept schemes (SKOS)", "",
            "Relationship kinds carry the configuration read by `ontology/rules/derive.ru`: the shortcut triple"
            " `?from ?shortcut ?to` is derived from `?rel kg:kind ?k ; ?fromRole ?from ; ?toRole ?to`, and"
            " `?payer kg:paysTo ?payee` from the kind's money roles (or from `kg:payer`/`kg:payee` stated on the node)."]
    scheme = None
    for c in concepts:
        if c["scheme"].value != scheme:
            scheme = c["scheme"].value
            out += ["", f"### `{_curie(scheme)}`", ""]
            if scheme.endswith("RelationshipKindScheme"):
                out += ["| concept | notation | label (en / zh-Hant) | from → to | shortcut | money | channels | definition |",
                        "|---|---|---|---|---|---|---|---|"]
            else:
                out += ["| concept | notation | label (en / zh-Hant) | definition |", "|---|---|---|---|"]
        head = f"| `{_curie(c['concept'].value)}` | `{v(c['notation'])}` | {_cell(v(c['label_en']))} / {_cell(v(c['label_zh']))} "
        if scheme.endswith("RelationshipKindScheme"):
            money = f"{_curie(v(c['money_from']))} → {_curie(v(c['money_to']))}" if c["money_from"] else "—"
            chans = ", ".join(_curie(s) for s in sorted(v(c["channels"]).split()))
            out.append(head + f"| {_curie(v(c['from_role']))} → {_curie(v(c['to_role']))} | {_curie(v(c['shortcut']))} "
                       f"| {money} | {chans} | {_cell(v(c['definition']))} |")
        else:
            out.append(head + f"| {_cell(v(c['definition']))} |")
    out += ["", "## Example queries", "",
            "Run them with `kg query FILE.rq`, against `kg serve`, or from any SPARQL client."]
    for title, text in EXAMPLES:
        out += ["", f"### {title}", "", "```sparql", text.strip(), "```"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write docs/ontology.md (or the path given)."""
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "docs" / "ontology.md"
    target.write_text(render_ontology_markdown(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
