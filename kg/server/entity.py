"""Entity pages: every IRI kg mints answers at ``/resource/…`` as HTML, Turtle or JSON-LD.

The parent turns the request into a job (:func:`entity_job`); a worker answers it
(:func:`run_entity`) from the library functions behind ``kg show`` (:func:`kg.explore.show_entity`,
:func:`kg.sources.show_source`, :func:`kg.explore.list_claims`, the ``relationships`` query,
:func:`kg.analysis.exposure.rank_exposure`) and the store's own statements about the IRI. The
page runs no script and fetches nothing; every value is escaped by the template (Jinja2 with
autoescaping) and only http(s) IRIs become links. ``/labels`` (:func:`run_labels`) gives the query
page the labels of the IRIs in a result.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import quote, unquote, urlsplit

from kg.server.errors import HTTPError
from kg.server.negotiate import GRAPH_FORMATS, Format, negotiate
from kg.vocab import KG, KGR, PREFIXES, RDF

__all__ = ["entity_job", "labels_job", "missing_page", "run_entity", "run_labels", "web_link", "PAGE_POLICY"]

HTML = Format("html", "text/html", ("text/html", "application/xhtml+xml"), ("html",), "")
FORMATS = (HTML, *(f for f in GRAPH_FORMATS if f.key in ("turtle", "jsonld")))
#: The entity page runs nothing and loads only its stylesheet.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")
MAX_LABELS = 2000
_RESOURCE = str(KGR)


# -- in the parent ---------------------------------------------------------------------------
def entity_job(path: str, params, accept: str | None) -> dict:
    """The worker job for ``GET /resource/NAME`` (``?format=ttl|jsonld|html`` overrides Accept)."""
    fmt_param = None
    for key, value in params:
        if key != "format":
            raise HTTPError(400, f"/resource has no parameter {key!r}; its parameter: format (html, ttl, jsonld)")
        fmt_param = value
    fmt = negotiate(accept, FORMATS, fmt_param)
    name = unquote(path[len("/resource/"):])
    return {"op": "entity", "iri": _RESOURCE + name, "format": fmt.key, "content_type": fmt.content_type}


def labels_job(params, body: bytes) -> dict:
    """The worker job for ``/labels?iri=…&iri=…`` (or the same form-encoded in a POST body)."""
    from kg.server.protocol import parse_params

    iris = [v for k, v in list(params) + parse_params(body.decode("utf-8", "replace")) if k == "iri"]
    if len(iris) > MAX_LABELS:
        raise HTTPError(400, f"/labels takes at most {MAX_LABELS} IRIs at once; got {len(iris)}")
    return {"op": "labels", "iris": iris}


def missing_page(resp):
    """A browser's 404 for an unknown entity: the JSON error as a page linking the nearest names."""
    import json

    error = json.loads(resp.body)
    body = _environment().get_template("entity-missing.html").render(
        message=error.get("message", ""), suggestions=error.get("suggestions") or [])
    resp.body, resp.content_type = body.encode("utf-8"), "text/html; charset=utf-8"
    resp.headers = {**resp.headers, "Content-Security-Policy": PAGE_POLICY, "Vary": "Accept"}
    return resp


# -- in a worker -----------------------------------------------------------------------------
def run_labels(kg, job: dict):
    """``{iri: {"en": …, "zh-Hant": …}}`` for the job's IRIs that have labels."""
    import json

    from kg.entities import labels

    table = labels(kg)
    out = {iri: table[iri] for iri in job["iris"] if iri in table}
    return ("ok", "application/json", json.dumps(out, ensure_ascii=False).encode("utf-8"), {})


def run_entity(kg, job: dict):
    """The page (or the Turtle / JSON-LD) of ``job["iri"]``; 404 with the nearest names when the
    store says nothing about it."""
    import pyoxigraph as ox

    iri = job["iri"]
    node = ox.NamedNode(iri)
    out = list(kg.store.quads_for_pattern(node, None, None))
    incoming = list(kg.store.quads_for_pattern(None, None, node))
    if not out and not incoming:
        raise _unknown(kg, iri)
    if job["format"] != "html":
        target = ox.RdfFormat.TURTLE if job["format"] == "turtle" else ox.RdfFormat.JSON_LD
        body = ox.serialize(describe(kg, iri), format=target,
                            prefixes=PREFIXES if job["format"] == "turtle" else None)
        return ("ok", job["content_type"], body, {"Vary": "Accept"})
    page = render_page(kg, iri, out, incoming)
    return ("ok", "text/html; charset=utf-8", page.encode("utf-8"),
            {"Content-Security-Policy": PAGE_POLICY, "Vary": "Accept"})


def describe(kg, iri: str) -> list:
    """The triples about ``iri`` in any graph (each once), with the blank nodes they lead to (an
    amount's value and currency), like a SPARQL DESCRIBE's concise bounded description."""
    import pyoxigraph as ox

    seen, todo, triples, done = set(), [ox.NamedNode(iri)], [], set()
    while todo:
        subject = todo.pop()
        if subject in done:
            continue
        done.add(subject)
        for q in kg.store.quads_for_pattern(subject, None, None):
            t = ox.Triple(q.subject, q.predicate, q.object)
            if t not in seen:
                seen.add(t)
                triples.append(t)
                if isinstance(q.object, ox.BlankNode):
                    todo.append(q.object)
    return triples


def _unknown(kg, iri: str) -> HTTPError:
    """404 naming the nearest entities: for ``rel/…``, ``claim/…``, ``source/…`` (any folder) the
    nearest IRIs of that folder, for an actor the nearest names (``kg.entities.resolve``)."""
    import difflib

    from kg.entities import UnknownEntityError, _norm, name_index, resolve

    name = iri[len(_RESOURCE):] if iri.startswith(_RESOURCE) else iri
    folder, _, local = name.rpartition("/")
    if folder:
        import pyoxigraph as ox

        base = _RESOURCE + folder + "/"
        known = {q.subject.value[len(base):] for q in kg.store.quads_for_pattern(None, ox.NamedNode(RDF.type), None)
                 if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(base)}
        near = [base + k for k in difflib.get_close_matches(local, sorted(known), n=5, cutoff=0.4)]
    else:
        try:
            near = [resolve(kg, local)] if local else []
        except UnknownEntityError as exc:
            index = name_index(kg)
            near = list(dict.fromkeys(i for shown in exc.suggestions for i in sorted(index.get(_norm(shown), ()))))[:5]
    names = [f"{_local(n)} (/resource/{quote(n[len(_RESOURCE):], safe='/')})" for n in near
             if n.startswith(_RESOURCE)]
    message = f"nothing is known about <{iri}>" + (f"; nearest: {', '.join(names)}" if names else "")
    return HTTPError(404, message, error="unknown entity",
                     suggestions=[f"/resource/{quote(n[len(_RESOURCE):], safe='/')}" for n in near
                                  if n.startswith(_RESOURCE)])


# -- the page --------------------------------------------------------------------------------
def web_link(iri) -> str | None:
    """Where a link to ``iri`` goes: a minted IRI to its page on this server, another http(s) IRI
    to itself, anything else (``javascript:``, ``data:``, ``file:``…) nowhere."""
    if not isinstance(iri, str):
        return None
    if iri.startswith(_RESOURCE) and len(iri) > len(_RESOURCE):
        return "/resource/" + quote(iri[len(_RESOURCE):], safe="/:@!$&'()*+,;=-._~")
    try:
        parts = urlsplit(iri.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and iri == iri.strip():
        return iri
    return None


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _short(iri: str) -> str:
    """``kgr:Oracle`` for a known namespace, else the IRI."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else iri


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("kg", "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["link"] = web_link
    env.filters["short"] = _short
    return env


def render_page(kg, iri: str, out, incoming) -> str:
    import pyoxigraph as ox

    from kg.entities import labels

    table = labels(kg)
    types = sorted({q.object.value for q in out if q.predicate.value == RDF.type and isinstance(q.object, ox.NamedNode)})
    context = {
        "iri": iri, "label": table.get(iri, {}).get("en"), "label_zh": table.get(iri, {}).get("zh-Hant"),
        "types": [{"iri": t, "label": table.get(t, {}).get("en") or _local(t)} for t in types],
        "formats": [("Turtle", "?format=ttl"), ("JSON-LD", "?format=jsonld")],
        "statements": _statements(out, incoming, table),
        "lab": lambda i: (table.get(i, {}).get("en") or _local(i)) if i else "",
        "lab_zh": lambda i: table.get(i, {}).get("zh-Hant") if i else None,
    }
    kind = _kind(kg, iri, types)
    if kind == "actor":
        context.update(_actor(kg, iri))
    elif kind == "relationship":
        context["relationship"] = _relationship(kg, iri)
    elif kind == "claim":
        context["claim"] = next((c for c in _claims(kg) if c["id"] == iri), None)
    elif kind == "source":
        context["source"] = _source(kg, iri)
    context["kind"] = kind
    return _environment().get_template("entity.html").render(**context)


def _kind(kg, iri: str, types: list[str]) -> str:
    if KG.Relationship in types:
        return "relationship"
    if KG.Claim in types:
        return "claim"
    if KG.Source in types:
        return "source"
    if types and kg.ask("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                        "ASK { ?id a/rdfs:subClassOf* ?actor }", {"id": iri, "actor": KG.Actor}):
        return "actor"
    return "other"


def _statements(out, incoming, table) -> dict:
    import pyoxigraph as ox

    def term(t):
        if isinstance(t, ox.NamedNode):
            return {"iri": t.value, "label": table.get(t.value, {}).get("en")}
        if isinstance(t, ox.BlankNode):
            return {"blank": t.value}
        lang = getattr(t, "language", None)
        dt = t.datatype.value if not lang and t.datatype else None
        return {"literal": t.value, "lang": lang,
                "datatype": _short(dt) if dt and dt != "http://www.w3.org/2001/XMLSchema#string" else None}

    def rows(quads, other):
        seen, found = set(), []
        for q in quads:
            key = (q.predicate.value, other(q), q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else "")
            if key in seen:
                continue
            seen.add(key)
            found.append({"predicate": q.predicate.value, "value": term(other(q)),
                          "graph": key[2] or None, "sort": (key[0], str(other(q)), key[2])})
        return sorted(found, key=lambda r: r["sort"])

    return {"out": rows(out, lambda q: q.object), "in": rows(incoming, lambda q: q.subject)}


def _actor(kg, iri: str) -> dict:
    from kg.errors import KGError
    from kg.explore import show_entity
    from kg.output import format_amount

    data = show_entity(kg, iri, "en")
    for r in data["relationships"]:
        r["amount_shown"] = format_amount(r["amount"], r["currency"], r["qualifiers"]) or (r["amount_text"] or "")
        r["sources"] = (r["source"] or "").split()
    exposure, note = None, None
    try:
        from kg.analysis.exposure import rank_exposure

        res = rank_exposure(kg, iri, top=8)
        exposure = {"R": res.R, "method": res.method, "layer": res.layer,
                    "rows": [{"id": r.id, "label": r.label, "h": r.h, "round": r.round,
                              "loss": format_amount(r.loss_usd) if r.loss_usd is not None else ""}
                             for r in res.rows if r.id != iri][:7]}
    except (KGError, ValueError) as exc:
        note = str(exc).splitlines()[0]
    return {"entity": data, "exposure": exposure, "exposure_note": note}


def _relationship(kg, iri: str) -> list[dict]:
    """The ``relationships`` query's rows for ``iri`` (one per graph that states it)."""
    from kg.explore import layer_name
    from kg.output import format_amount

    rows = [r for r in _relationship_rows(kg) if r["rel"] == iri]
    for r in rows:
        r["amount_shown"] = format_amount(r["value"], r["currency"], r["qualifiers"]) or (r["amountText"] or "")
        r["layer_name"] = layer_name(r["layer"])
        r["source_list"] = (r["sources"] or "").split()
    return rows


def _relationship_rows(kg) -> list[dict]:
    cached = getattr(kg, "_entity_relationships", None)
    if cached is None:
        from kg.queries import load_query

        cached = kg._entity_relationships = kg.select(load_query("relationships").text)
    return cached


def _claims(kg) -> list[dict]:
    cached = getattr(kg, "_entity_claims", None)
    if cached is None:
        from kg.explore import list_claims

        cached = kg._entity_claims = list_claims(kg)
    return cached


def _source(kg, iri: str) -> dict | None:
    from kg.errors import KGError
    from kg.sources import show_source

    try:
        return show_source(kg, iri, "en")
    except KGError:
        return None
