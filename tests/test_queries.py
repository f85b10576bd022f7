"""Every named query parses, declares its parameters correctly, and returns exact rows."""

import re
from pathlib import Path

import pytest

from conftest import DATA
from kg.queries import list_queries, load_query, values_block

QUERIES = sorted(list_queries())
T = "https://example.org/test/"


@pytest.fixture(scope="module")
def mini():
    from kg.store import load_store

    return load_store([DATA / "mini.trig"], bundled=False)


@pytest.mark.parametrize("name", QUERIES)
def test_query_parses_and_projects_its_parameters(name):
    """Oxigraph substitutes a parameter only when it is projected and used in a triple pattern."""
    import pyoxigraph as ox

    q = load_query(name)
    ox.Store().query(q.text) if q.form != "SELECT" or not q.params else None
    head = q.text[q.text.upper().index(q.form):].split("WHERE")[0]
    body = q.text.split("WHERE", 1)[1]
    for p in q.params:
        assert f"?{p.name}" in head or "SELECT *" in head, f"?{p.name} not projected in {name}"
        assert re.search(rf"\?{p.name}\b(?!\s*\))", body), f"?{p.name} unused in {name}"


@pytest.mark.parametrize("name", QUERIES)
def test_query_runs_on_the_bundled_graph(kg_store, name):
    assert isinstance(kg_store.select(load_query(name).text) if load_query(name).form == "SELECT" else
                      kg_store.construct(load_query(name).text), list)


def test_relationships_rows_are_exact(mini):
    rows = mini.select(load_query("relationships").text)
    got = {(r["rel"][len(T):], r["from"][len(T):], r["to"][len(T):], r["value"], r["qualifiers"], r["status"]) for r in rows}
    assert got == {
        ("alpha-invests-beta", "Alpha", "Beta", 10, "exact", None),
        # customer → supplier; two qualifiers are kept.
        ("beta-buys-cloud", "Beta", "Alpha", 4, ",".join(sorted(["about", "reported"])), "committed"),
    } or got == {
        ("alpha-invests-beta", "Alpha", "Beta", 10, "exact", None),
        ("beta-buys-cloud", "Beta", "Alpha", 4, "reported,about", "committed"),
    }


def test_money_flows_both_ways_are_derived(mini):
    pays = {(r["a"][len(T):], r["b"][len(T):]) for r in mini.select(
        "PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> SELECT ?a ?b WHERE { ?a kg:paysTo ?b }")}
    assert pays == {("Alpha", "Beta"), ("Beta", "Alpha")}


def test_entity_relationships_in_and_out(mini):
    rows = mini.select(load_query("entity-relationships").text, {"id": T + "Alpha"})
    assert sorted((r["direction"], r["other"][len(T):], r["value"]) for r in rows) == [("in", "Beta", 4), ("out", "Beta", 10)]


def test_claims_about_binds_the_entity(mini):
    assert [r["id"][len(T):] for r in mini.select(load_query("claims-about").text, {"about": T + "Beta"})] == ["claim-1"]
    assert mini.select(load_query("claims-about").text, {"about": T + "Group"}) == []


def test_layer_parameter_filters(mini):
    from kg.vocab import KG

    assert len(mini.select(load_query("relationships").text, {"layer": KG.UserLayer})) == 2
    assert mini.select(load_query("relationships").text, {"layer": KG.ArticleLayer}) == []


def test_entity_groups(mini):
    rows = mini.select(load_query("entity-groups").text, {"id": T + "Group"})
    assert [(r["direction"], r["other"][len(T):]) for r in rows] == [("has member", "Beta")]


def test_values_block_serialises_terms_not_strings():
    import pyoxigraph as ox

    block = values_block("x", [ox.NamedNode("https://e.org/a"), ox.Literal('say "hi"')])
    assert block == 'VALUES ?x { <https://e.org/a> "say \\"hi\\"" }'
    with pytest.raises(Exception):
        values_block("x", ["} ; DROP ALL ; {"])
    with pytest.raises(Exception):
        values_block("x y", [])


def test_injection_through_a_parameter_is_just_a_value(kg_store):
    rows = kg_store.select(load_query("claims-about").text, {"about": '"> } DROP ALL { <x'})
    assert rows == []


def test_unknown_query_suggests_nearest():
    from kg.errors import QueryError

    with pytest.raises(QueryError, match="nearest: relationships"):
        load_query("relationship")


def test_header_parameters_are_read_from_the_file(tmp_path: Path):
    f = tmp_path / "q.rq"
    f.write_text("# Find things.\n# param ?x entity  the thing\n# param ?n decimal?  a number\nSELECT ?x ?n WHERE { ?x ?p ?n }\n")
    q = load_query(str(f))
    assert [(p.name, p.type, p.optional) for p in q.params] == [("x", "entity", False), ("n", "decimal", True)]
    assert q.description == "Find things."


# -- users' own queries: what they may expect of SPARQL -----------------------------------------
K = "https://w3id.org/ai-capital-kg/resource/"
# lang(?x) = "zh-Hant" (a tag); lang(?x) = "" (no tag at all) is right as it is.
LANG_EQUALS = re.compile(r"""(?i)\blang\s*\(\s*\?\w+\s*\)\s*=\s*["'][^"']""")


def shipped_sparql_texts():
    """Every piece of SPARQL the project ships for users to copy: queries/, the code blocks of the
    docs and the README, the endpoint's page (its example and scripts), the generated ontology
    examples. Prose that names the wrong form as the one to avoid is not SPARQL."""
    from conftest import REPO

    out = [(f.relative_to(REPO), f.read_text(encoding="utf-8")) for f in sorted(REPO.glob("queries/**/*.rq"))]
    for f in sorted(REPO.glob("docs/*.md")) + [REPO / "README.md"]:
        blocks = re.findall(r"```[^\n]*\n(.*?)```", f.read_text(encoding="utf-8"), re.S)
        out.append((f.relative_to(REPO), "\n".join(blocks)))
    page = (REPO / "kg" / "static" / "index.html").read_text(encoding="utf-8")
    out.append(("kg/static/index.html <textarea>", "".join(re.findall(r"<textarea[^>]*>(.*?)</textarea>", page, re.S))))
    for f in sorted((REPO / "kg" / "static").glob("*.js")) + [REPO / "kg" / "docgen.py"]:
        out.append((f.relative_to(REPO), f.read_text(encoding="utf-8")))
    return out


def test_shipped_queries_compare_language_tags_with_langmatches():
    """Oxigraph lowercases language tags (zh-Hant → zh-hant): LANG(?l) = "zh-Hant" finds no row."""
    texts = shipped_sparql_texts()
    assert len(texts) > 30 and any("langMatches" in text for _, text in texts)
    offenders = [str(path) for path, text in texts if LANG_EQUALS.search(text)]
    assert offenders == []


def test_lang_equals_misses_and_langmatches_finds_the_chinese_label(kg_store):
    """Oracle's Traditional Chinese label is 甲骨文 (data/entities.trig, "甲骨文"@zh-Hant)."""
    equals = 'SELECT ?l WHERE { <%sOracle> <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(LANG(?l) = "zh-Hant") }'
    matches = equals.replace('LANG(?l) = "zh-Hant"', 'langMatches(LANG(?l), "zh-Hant")')
    assert kg_store.select(equals % K) == []
    assert kg_store.select(matches % K) == [{"l": "甲骨文"}]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_users_query_may_use_the_projects_prefixes_undeclared(invoke, tmp_path):
    """Oracle's ticker is ORCL (data/entities.trig, schema:tickerSymbol)."""
    q = write(tmp_path, "ticker.rq", 'SELECT ?s WHERE {\n  ?s a kg:Company ;\n     schema:tickerSymbol "ORCL" }\n')
    res = invoke("query", q, "--format", "csv")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == f"s\n{K}Oracle\n"


def test_a_prefix_the_query_declares_wins_over_the_predeclared_one(invoke, tmp_path):
    q = write(tmp_path, "own.rq", 'PREFIX kgr: <https://example.org/not-ours/>\nSELECT ?l WHERE { kgr:Oracle rdfs:label ?l }\n')
    res = invoke("query", q, "--format", "csv")
    assert res.exit_code == 0 and res.stdout.strip() == ""  # no rows: kgr: is not ours here


def test_unknown_prefix_names_the_prefix_its_line_and_the_known_ones(invoke, tmp_path):
    q = write(tmp_path, "bad.rq", "# a typo on line 3\nSELECT ?s WHERE {\n  ?s x:name ?n }\n")
    res = invoke("query", q)
    assert res.exit_code == 1
    assert res.stderr == (f"Error: {q}: bad SPARQL: unknown prefix `x:` at line 3; known: kg, kgr, src, rel, claim, "
                          "para, fig, rdf, rdfs, owl, xsd, skos, prov, dcterms, schema, sh, wd\n")


def test_unknown_prefix_after_a_declared_one_is_still_named(kg_store):
    from kg.errors import QueryError

    with pytest.raises(QueryError, match=r"unknown prefix `ex:` at line 2; known: kg, kgr, .*, sh, wd, a$"):
        kg_store.select("PREFIX a: <https://example.org/>\nSELECT ?s WHERE { ?s a:p ex:o }")


def test_with_prefixes_declares_on_the_first_line_only_what_the_query_does_not():
    """For remote stores, which know nothing of kg's prefixes: the declarations go before the
    query's first line, so an error's line number is the line of the user's file."""
    from kg.queries import with_prefixes
    from kg.vocab import PREFIXES

    text = "PREFIX kgr: <https://example.org/other/>\nSELECT ?s\nWHERE { ?s a kg:Company }"
    out = with_prefixes(text)
    assert out.count("\n") == text.count("\n") and out.endswith(text)
    head = out[: -len(text)]
    assert f"PREFIX kg: <{PREFIXES['kg']}>" in head and "PREFIX kgr:" not in head
    assert head.count("PREFIX") == len(PREFIXES) - 1


def test_select_star_keeps_the_querys_variable_order(invoke, tmp_path):
    """Oxigraph gives SELECT * columns sorted (label, s, type); users expect s, label, type."""
    q = write(tmp_path, "star.rq", "SELECT * WHERE { ?s rdfs:label ?label ; a ?type . FILTER(?s = kgr:Oracle) }\n")
    res = invoke("query", q, "--format", "csv")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[0] == "s,label,type"


def test_star_order_of_a_subquery_and_of_other_projections():
    from kg.queries import star_order

    text = "SELECT DISTINCT * { { SELECT ?b ?a WHERE { ?a ?p ?b } } ?b ?q ?c }"
    assert star_order(text, ["a", "b", "c"]) == ["b", "a", "c"]
    assert star_order("SELECT ?z ?a WHERE { ?a ?p ?z }", ["z", "a"]) == ["z", "a"]
    assert star_order("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", ["n"]) == ["n"]


def test_a_parameter_need_not_be_in_the_select_list(invoke, tmp_path):
    """Seven relationships are of kind cloud-services: `grep -c "kg:kind kg:CloudServicesPurchase"`
    finds two in data/article.trig and five in data/context.trig. The count does not select
    ?kind, which Oxigraph's substitution would need."""
    q = write(tmp_path, "count.rq", "# param ?kind iri  the relationship kind\n"
              "SELECT (COUNT(?r) AS ?n) WHERE { ?r a kg:Relationship ; kg:kind ?kind }\n")
    res = invoke("query", q, "--param", "kind=kg:CloudServicesPurchase", "--format", "csv")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "n\n7\n"
    label = write(tmp_path, "label.rq", "# param ?name string  an English label\n"
                  "SELECT ?s WHERE { ?s rdfs:label ?l FILTER(STR(?l) = ?name) }\n")
    res = invoke("query", label, "--param", "name=Oracle", "--format", "csv")
    assert res.stdout == f"s\n{K}Oracle\n"


def test_query_list_needs_no_query_name(invoke):
    res = invoke("query", "--list", "--format", "csv")
    assert res.exit_code == 0
    assert sorted(line.split(",")[0] for line in res.stdout.splitlines()[1:]) == QUERIES
    res = invoke("query")
    assert res.exit_code == 2 and "--list" in res.stderr


@pytest.mark.slow
def test_the_endpoint_predeclares_prefixes_names_unknown_ones_keeps_select_star_order_and_answers_at_query(kg_store):
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from kg.server import ServerConfig, running_server

    def get(url, query):
        req = urllib.request.Request(f"{url}?" + urllib.parse.urlencode({"query": query}),
                                     headers={"Accept": "text/csv"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    config = ServerConfig(port=0, workers=1, timeout=20, max_rows=1000, quiet=True)
    with running_server(kg_store, config) as base:
        text = 'SELECT ?s WHERE { ?s schema:tickerSymbol "ORCL" }'
        assert get(base + "/query", text) == (200, f"s\r\n{K}Oracle\r\n")
        assert get(base + "/sparql", text) == (200, f"s\r\n{K}Oracle\r\n")
        status, body = get(base + "/sparql", "SELECT ?s WHERE { ?s x:p ?o }")
        assert status == 400
        assert json.loads(body)["message"].startswith("bad SPARQL: unknown prefix `x:` at line 1; known: kg, kgr,")
        status, body = get(base + "/sparql", "SELECT * WHERE { ?s ?p ?o FILTER(?s = kgr:Oracle && ?p = schema:tickerSymbol) }")
        assert (status, body) == (200, f"s,p,o\r\n{K}Oracle,https://schema.org/tickerSymbol,ORCL\r\n")
