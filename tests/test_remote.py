"""kg.remote, kg.push and `kg push`: query rewriting, paging, HTTP auth, and real stores.

The tests marked ``stores`` run against the Oxigraph server and Virtuoso that
``.ci/stores/start.sh`` starts; they read the URLs from KG_TEST_OXIGRAPH_URL and
KG_TEST_VIRTUOSO_URL (Virtuoso's credentials from KG_TEST_VIRTUOSO_USER/PASSWORD, default
dba/dba). Without those variables they are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest

from kg.errors import QueryError
from kg.queries import list_queries, values_block
from kg.remote import (HttpClient, RemoteError, RemoteStore, UnionDefaultGraphError, bind_values, paged,
                       projected_variables, terms_from_json)
from kg.vocab import DERIVED_GRAPH, GRAPH, KG, KGR, SRC

DATA = Path(__file__).resolve().parent / "data"

#: How each store started by .ci/stores/start.sh is reached: its base URL's variable and paths.
STORES = {
    "oxigraph": {"url": "KG_TEST_OXIGRAPH_URL", "query": "/query", "update": "/update", "store": "/store"},
    "virtuoso": {"url": "KG_TEST_VIRTUOSO_URL", "query": "/sparql", "update": "/sparql-auth",
                 "store": "/sparql-graph-crud-auth", "user": "KG_TEST_VIRTUOSO_USER",
                 "password": "KG_TEST_VIRTUOSO_PASSWORD"},
}


# -- helpers shared with tests/test_parity.py -------------------------------------------------
def store_urls(name: str) -> dict:
    """Endpoints and credentials of a running test store, or skip (fail under CI) without it."""
    conf = STORES[name]
    base = os.environ.get(conf["url"])
    if not base:
        message = f"{conf['url']} is not set: start the stores with `eval \"$(.ci/stores/start.sh)\"`"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/run must do this under CI)")
        pytest.skip(message)
    base = base.rstrip("/")
    user = os.environ.get(conf.get("user", ""), "dba") if "user" in conf else None
    password = os.environ.get(conf.get("password", ""), "dba") if "password" in conf else None
    return {"endpoint": base + conf["query"], "update_endpoint": base + conf["update"],
            "graph_store": base + conf["store"], "user": user, "password": password}


def remote_store(name: str, **kwargs) -> RemoteStore:
    urls = store_urls(name)
    return RemoteStore(urls["endpoint"], update_endpoint=urls["update_endpoint"], graph_store=urls["graph_store"],
                       user=urls["user"], password=urls["password"], **kwargs)


def reset_store(remote: RemoteStore) -> None:
    """Drop every project graph (and staging graph) the store holds."""
    for g in remote.graphs():
        remote.update(f"DROP SILENT GRAPH {ox.NamedNode(g)}")


def push_fresh(remote: RemoteStore, data=(), **kwargs):
    """Empty the store's project graphs, then push the bundled graph and ``data``."""
    from kg.push import push_store
    from kg.store import load_store

    reset_store(remote)
    return push_store(load_store(data), remote, **kwargs)


def graph_digest(remote: RemoteStore) -> dict[str, int]:
    return {g: remote.graph_size(g) for g in remote.graphs()}


# -- query text ---------------------------------------------------------------------------------
PARAM_VALUES = {
    ("entity", None): KGR.OpenAI, ("layer", None): KG.ArticleLayer, ("iri", "section"): KG.SectionTruth2,
    ("iri", "kind"): KG.Prediction, ("iri", "type"): KG.Company, ("iri", "source"): SRC.article,
    ("decimal", None): 1, ("integer", None): 1, ("string", None): "x",
}


def bindings_for(query) -> dict:
    out = {}
    for p in query.params:
        value = PARAM_VALUES.get((p.type, p.name), PARAM_VALUES.get((p.type, None)))
        out[p.name] = ox.NamedNode(value) if isinstance(value, str) and value.startswith("http") else value
    return out


@pytest.mark.parametrize("name", [n for n, q in list_queries().items() if q.params])
def test_values_block_gives_what_substitution_gives(kg_store, name):
    """Binding by a VALUES block inside WHERE = Oxigraph's substitution, for every named query."""
    query = list_queries()[name]
    bindings = bindings_for(query)
    from kg.store import to_term

    blocks = [values_block(k, [to_term(v)]) for k, v in bindings.items()]
    expected = kg_store.select(query.text, bindings)
    got = kg_store.select(bind_values(query.text, blocks))
    assert Counter(map(repr, got)) == Counter(map(repr, expected))


@pytest.mark.parametrize("name", [n for n, q in list_queries().items() if q.form == "SELECT"])
def test_pages_add_up_to_the_whole_result(kg_store, name):
    """Paging with the made-total ORDER BY loses and repeats no row (pages of 7 rows)."""
    text = list_queries()[name].text
    whole = kg_store.select(text)
    names, rows, offset = projected_variables(text), [], 0
    while True:
        page = kg_store.select(paged(text, names, 7, offset))
        rows += page
        offset += len(page)
        if len(page) < 7:
            break
    assert Counter(map(repr, rows)) == Counter(map(repr, whole))


def test_bind_values_ignores_braces_in_strings_comments_and_iris():
    text = 'PREFIX x: <http://e/#a> # a } comment\nSELECT ?a WHERE { ?a ?p "}{" . FILTER(?p != <http://e/#x>) }\nORDER BY ?a'
    out = bind_values(text, ['VALUES ?a { <http://e/1> }'])
    assert out.index("VALUES ?a") < out.index('"}{"') and out.index("VALUES ?a") > out.index("WHERE {")
    assert out.rstrip().endswith("ORDER BY ?a")
    assert ox.Store().query(out) is not None


def test_bind_values_in_construct_goes_into_the_where_pattern():
    out = bind_values("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", ["VALUES ?s { <http://e/1> }"])
    assert out.startswith("CONSTRUCT { ?s ?p ?o } WHERE { VALUES ?s { <http://e/1> }\n ?s ?p ?o }")


def test_bind_values_refuses_short_construct():
    with pytest.raises(QueryError):
        bind_values("CONSTRUCT WHERE { ?s ?p ?o }", ["VALUES ?s { <http://e/1> }"])


def test_projected_variables():
    assert projected_variables("SELECT DISTINCT ?a (COUNT(*) AS ?n) ?b WHERE { }") == ["a", "n", "b"]
    assert projected_variables("SELECT * WHERE { ?s ?p ?o }") is None
    assert projected_variables("ASK { ?s ?p ?o }") is None


def test_paged_keeps_a_query_with_its_own_limit():
    text = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5"
    assert paged(text, ["s"], 100, 0) == text


def test_paged_makes_the_order_total_without_repeating_a_key():
    """Virtuoso returned wrong rows when a sort key appeared twice (regression)."""
    out = paged("SELECT ?a ?b WHERE { ?a ?p ?b } ORDER BY ?b", ["a", "b"], 10, 20)
    assert re.search(r"ORDER BY \?b \?a LIMIT 10 OFFSET 20\s*$", out)


def test_paged_sorts_on_at_most_twenty_keys():
    """Virtuoso refuses ORDER BY with more than 20 keys (SQ186) (regression)."""
    names = [f"v{i}" for i in range(25)]
    out = paged(f"SELECT {' '.join('?' + n for n in names)} WHERE {{ }}", names, 10, 0)
    assert len(re.findall(r"\?v\d+", out.split("ORDER BY")[1])) == 20


def test_terms_from_json_reads_virtuoso_and_oxigraph_forms():
    assert terms_from_json({"type": "typed-literal", "datatype": str(ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer").value),
                            "value": "3"}) == ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert terms_from_json({"type": "literal", "xml:lang": "zh-Hant", "value": "微軟"}) == ox.Literal("微軟", language="zh-hant")
    assert isinstance(terms_from_json({"type": "bnode", "value": "nodeID://b10001"}), ox.BlankNode)
    assert terms_from_json({"type": "uri", "value": "http://e/1"}) == ox.NamedNode("http://e/1")
    assert terms_from_json(None) is None


def test_blank_node_bindings_are_refused():
    remote = RemoteStore("http://127.0.0.1:9/query", check_union=False)
    with pytest.raises(QueryError, match="blank node"):
        remote._bound("SELECT ?s WHERE { ?s ?p ?o }", {"s": ox.BlankNode("b")})


def test_unreachable_endpoint_says_so():
    with _free_port() as port:
        remote = RemoteStore(f"http://127.0.0.1:{port}/query", timeout=2)
        with pytest.raises(RemoteError, match="cannot reach"):
            remote.select("SELECT * WHERE { ?s ?p ?o }")


# -- HTTP authentication against a small local server -------------------------------------------
class _Fake(BaseHTTPRequestHandler):
    """Digest (or Basic) protected; records each request; answers PUT, GET (SPARQL JSON), POST."""

    protocol_version = "HTTP/1.1"
    scheme = "Digest"
    log: list = []
    fail_put_at: int | None = None
    puts = 0
    counts: dict = {}  # graph → the triple count it answers for a graph named in a count query

    def log_message(self, *args):
        pass

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if self.scheme == "Basic":
            return header == "Basic ZGJhOmRiYQ=="  # dba:dba
        f = dict(re.findall(r'(\w+)="?([^",]*)"?', header))
        if not f:
            return False
        h = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
        ha1, ha2 = h(f"dba:test:dba"), h(f"{self.command}:{f['uri']}")
        return f["response"] == h(f"{ha1}:{f['nonce']}:{f['nc']}:{f['cnonce']}:auth:{ha2}") and f["uri"] == self.path

    def _answer(self, status, body=b"", ctype="text/plain"):
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="test"' if self.scheme == "Basic" else
                             'Digest realm="test", nonce="abc", qop="auth", algorithm="MD5", opaque="xyz"')
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length) if length else b""
        type(self).log.append((self.command, self.path, len(body), "Authorization" in self.headers))
        if not self._authorised():
            return self._answer(401)
        if self.command == "PUT":
            type(self).puts += 1
            if self.fail_put_at is not None and type(self).puts >= self.fail_put_at:
                return self._answer(500, b"disk full")
            return self._answer(201)
        if self.path.startswith("/query"):
            query = parse_qs(urlsplit(self.path).query if self.command == "GET" else body.decode())["query"][0]
            rows = [{"g": {"type": "uri", "value": g}, "n": {"type": "literal", "value": str(self.counts[g])}}
                    for g in re.findall(r"BIND\(<([^>]+)> AS \?g\)", query) if g in self.counts]
            return self._answer(200, json.dumps({"head": {"vars": ["g", "n"]}, "results": {"bindings": rows}}).encode(),
                                "application/sparql-results+json")
        return self._answer(200)

    do_GET = do_PUT = do_POST = do_HEAD = _handle


class _free_port:
    def __enter__(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc):
        return False


@pytest.fixture
def fake_server():
    _Fake.log, _Fake.puts, _Fake.fail_put_at, _Fake.scheme, _Fake.counts = [], 0, None, "Digest", {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_digest_auth_answers_the_challenge_then_sends_it_ahead(fake_server):
    client = HttpClient("dba", "dba", timeout=5)
    status, _, _ = client.request("PUT", fake_server + "/store?graph=g", body=b"x" * 10)
    assert status == 201
    status, _, _ = client.request("PUT", fake_server + "/store?graph=h", body=b"y" * 10)
    assert status == 201
    # The first request met the challenge; the third went with credentials at once.
    assert [(m, auth) for m, _, _, auth in _Fake.log] == [("PUT", False), ("PUT", True), ("PUT", True)]


def test_basic_auth(fake_server):
    _Fake.scheme = "Basic"
    assert HttpClient("dba", "dba", timeout=5).request("GET", fake_server + "/x")[0] == 200


def test_wrong_password_is_refused_once(fake_server):
    status, _, _ = HttpClient("dba", "wrong", timeout=5).request("GET", fake_server + "/x")
    assert status == 401 and len(_Fake.log) == 2


def test_push_sends_a_large_body_once(fake_server, kg_store):
    """The challenge is met with an empty HEAD first, so no graph is uploaded twice."""
    from kg.push import push_store

    remote = RemoteStore(fake_server + "/query", graph_store=fake_server + "/store", user="dba", password="dba",
                         check_union=False)
    remote.graph_sizes = lambda graphs: {g: n for g, n in kg_store.graph_sizes().items() if g in graphs}
    push_store(kg_store, remote)
    unauthorised_puts = [entry for entry in _Fake.log if entry[0] == "PUT" and not entry[3]]
    assert unauthorised_puts == []


def test_failed_push_says_exactly_what_was_written(fake_server, kg_store):
    from kg.push import PushError, push_store

    _Fake.fail_put_at = 3
    remote = RemoteStore(fake_server + "/query", graph_store=fake_server + "/store", user="dba", password="dba",
                         check_union=False)
    with pytest.raises(PushError) as info:
        push_store(kg_store, remote)
    message = str(info.value)
    graphs = kg_store.graphs()
    assert "replaced (2): https://w3id.org/ai-capital-kg/graph/ontology, " in message
    assert "was left as it was before the push" in message
    assert f"not written ({len(graphs) - 3})" in message


def test_insert_batches_keep_blank_node_groups_together():
    from kg.push import insert_batches

    e = lambda i: ox.NamedNode(f"http://e/{i}")  # noqa: E731
    b1, b2 = ox.BlankNode("b1"), ox.BlankNode("b2")
    triples = [ox.Triple(e(i), e(0), e(i + 1)) for i in range(5)]
    triples += [ox.Triple(e(9), e(1), b1), ox.Triple(b1, e(2), b2), ox.Triple(b2, e(3), e(4))]
    batches = list(insert_batches(triples, 2))
    assert sum(len(b) for b in batches) == 8
    holding = [b for b in batches if any(isinstance(t.object, ox.BlankNode) or isinstance(t.subject, ox.BlankNode) for t in b)]
    assert len(holding) == 1 and len(holding[0]) == 3


def test_push_needs_an_endpoint(invoke):
    result = invoke("--graph-store", "http://127.0.0.1:9/store", "push")
    assert result.exit_code == 2 and "--endpoint" in result.output


def test_push_needs_a_graph_store_or_update_endpoint(invoke):
    result = invoke("--endpoint", "http://127.0.0.1:9/query", "push")
    assert result.exit_code == 2 and "--graph-store or --update-endpoint" in result.output


def test_remote_store_refuses_data(invoke):
    result = invoke("--endpoint", "http://127.0.0.1:9/query", "--data", str(DATA / "mini.trig"), "info")
    assert result.exit_code == 2 and "kg push" in result.output


# -- against the real stores ------------------------------------------------------------------------
@pytest.fixture(params=list(STORES))
def store_name(request):
    return request.param


def test_push_twice_changes_nothing(store_name):
    remote = remote_store(store_name)
    first = push_fresh(remote)
    before = graph_digest(remote)
    from kg.push import push_store
    from kg.store import load_store

    second = push_store(load_store(), remote)
    assert graph_digest(remote) == before
    assert [w.verified for w in first] == [w.verified for w in second]
    assert sum(before.values()) == len(load_store()) == len(remote)


def test_graph_sizes_count_each_graph_and_zero_for_an_absent_one(store_name, kg_store, monkeypatch):
    """The counts kg push verifies with, read three graphs per query here (so several queries)."""
    import kg.remote

    remote = remote_store(store_name)
    push_fresh(remote)
    monkeypatch.setattr(kg.remote, "COUNTS_PER_QUERY", 3)
    absent = "https://example.org/not-in-the-store"
    graphs = kg_store.graphs() + [absent]
    expected = {g: sum(1 for _ in kg_store.store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
                for g in kg_store.graphs()}
    assert len(graphs) > 9 and min(expected.values()) > 0
    assert remote.graph_sizes(graphs) == {**expected, absent: 0}


def test_push_with_insert_data_when_there_is_no_graph_store(store_name, kg_store):
    """The fallback writes batches into a staging graph and moves it; blank nodes survive."""
    remote = remote_store(store_name)
    reset_store(remote)
    from kg.push import push_store

    fallback = RemoteStore(remote.endpoint, update_endpoint=remote.update_endpoint, user=remote.http.user,
                           password=remote.http.password)
    written = push_store(kg_store, fallback, batch_size=300)
    assert {w.method for w in written} == {"insert"}
    assert graph_digest(remote) == {g: len(list(kg_store.store.quads_for_pattern(None, None, None, ox.NamedNode(g))))
                                    for g in kg_store.graphs()}
    assert not [g for g in remote.graphs() if "/staging/" in g]


def test_commands_read_the_same_remotely(store_name, invoke):
    remote = remote_store(store_name)
    push_fresh(remote)
    for args in (("show", "OpenAI"), ("claims", "--about", "Oracle"), ("entities",), ("coverage",), ("info",)):
        here = invoke(*args, "--format", "json")
        there = invoke("--endpoint", remote.endpoint, *args, "--format", "json")
        assert there.exit_code == 0, there.output
        assert comparable(json.loads(there.stdout)) == comparable(json.loads(here.stdout)), args


def comparable(value):
    """A form of a command's JSON output that no store's free choices change: GROUP_CONCAT
    joins values in any order (strings become their sorted words), ties in ORDER BY come in any
    order (lists are sorted), Virtuoso gives booleans as 0/1, and an empty GROUP_CONCAT is ""
    on Virtuoso but unbound on Oxigraph."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k != "files"}
    if isinstance(value, list):
        return sorted((comparable(v) for v in value), key=repr)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if value == "":
        return None
    if isinstance(value, str):
        return tuple(sorted(w for w in re.split(r"[\s,;]+", value) if w)) or None
    return value


def test_large_results_are_read_in_pages(store_name, kg_store):
    remote = remote_store(store_name, page_size=40)
    push_fresh(remote)
    text = list_queries()["entity-names"].text
    rows = remote.select(text)
    assert len(rows) > 80 and remote.requests >= 3
    assert Counter(map(repr, rows)) == Counter(map(repr, kg_store.select(text)))


def test_export_reads_the_remote_quads(store_name, invoke):
    remote = remote_store(store_name)
    push_fresh(remote)
    here = invoke("export", "--format", "nquads")
    there = invoke("--endpoint", remote.endpoint, "export", "--format", "nquads")
    assert there.exit_code == 0
    normal = lambda out: sorted(re.sub(r"_:\S+", "_:b", line) for line in out.splitlines())  # noqa: E731
    assert normal(there.stdout) == normal(here.stdout)


def test_team_push_rebuilds_the_derived_graph_on_the_server(store_name, tmp_path):
    """A teammate's graph stays, and the derived graph covers both pushes."""
    from kg.push import push_store
    from kg.store import load_store

    remote = remote_store(store_name)
    mine = DATA / "deals.csv"
    push_fresh(remote, [mine])
    other = tmp_path / "theirs.trig"
    other.write_text((DATA / "mini.trig").read_text(encoding="utf-8"), encoding="utf-8")
    theirs = load_store([other])
    written = push_store(theirs, remote)
    assert written[-1].graph == DERIVED_GRAPH and written[-1].method == "rule"
    both = load_store([mine, other])
    assert graph_digest(remote) == {g: len(list(both.store.quads_for_pattern(None, None, None, ox.NamedNode(g))))
                                    for g in both.graphs()}


def oxigraph_binary() -> str | None:
    """The `oxigraph` server binary (the test extra's `oxigraph` package), found as
    .ci/stores/start.sh finds it: on PATH, else beside this interpreter's scripts (a venv's
    bin/, which is not on PATH when its python is run without activating it)."""
    import sys
    import sysconfig

    scripts = Path(sysconfig.get_path("scripts"))
    return shutil.which("oxigraph") or shutil.which("oxigraph", path=f"{scripts}{os.pathsep}{Path(sys.executable).parent}")


def test_default_graph_that_is_not_the_union_is_reported(tmp_path):
    """Oxigraph started without --union-default-graph: the first query says what to change."""
    store_urls("oxigraph")  # only where the stores are available
    binary = oxigraph_binary()
    if binary is None:
        pytest.fail("the oxigraph binary is missing (pip install -e '.[test]' installs it)")
    with _free_port() as port:
        proc = subprocess.Popen([binary, "serve", "--location", str(tmp_path), "--bind", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        remote = RemoteStore(base + "/query", graph_store=base + "/store", update_endpoint=base + "/update",
                             check_union=False)
        push_fresh(remote)
        remote = RemoteStore(base + "/query")
        with pytest.raises(UnionDefaultGraphError, match="--union-default-graph"):
            remote.select("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_deploy_doc_names_every_setting():
    """docs/deploy.md lists every environment variable and option kg's remote code reads."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    source = "".join((Path(__file__).resolve().parent.parent / "kg" / f).read_text(encoding="utf-8")
                     for f in ("remote.py", "push.py", "cli_remote.py", "cli.py"))
    names = set(re.findall(r"\bKG_[A-Z_]+\b", source)) - {"KG_TEST"}
    assert names and not [n for n in sorted(names) if n not in doc]
    for option in ("--endpoint", "--update-endpoint", "--graph-store", "--graph", "--batch-size"):
        assert option in doc


def test_virtuoso_row_limits_do_not_lose_rows(tmp_path, kg_store):
    """A Virtuoso that cuts every result at 50 rows (ResultSetMaxRows) and refuses to sort for
    more than 60 (MaxSortedTopRows, SR353): the pages still add up to the whole result."""
    store_urls("virtuoso")  # only where the stores are available
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.fail("virtuoso-t is missing (apt-get install virtuoso-opensource)")
    template = (Path(__file__).resolve().parent.parent / ".ci" / "stores" / "virtuoso.ini").read_text(encoding="utf-8")
    with _free_port() as http_port, _free_port() as sql_port:
        ini = (template.replace("@DIR@", str(tmp_path)).replace("@SQL_PORT@", str(sql_port))
               .replace("@HTTP_PORT@", str(http_port)).replace("@BUFFERS@", "20000").replace("@DIRTY@", "15000"))
    ini = re.sub(r"(?m)^ResultSetMaxRows\s*=.*$", "ResultSetMaxRows = 50", ini)
    ini = re.sub(r"(?m)^MaxSortedTopRows\s*=.*$", "MaxSortedTopRows = 60", ini)
    (tmp_path / "virtuoso.ini").write_text(ini, encoding="utf-8")
    proc = subprocess.Popen([binary, "+foreground", "+configfile", str(tmp_path / "virtuoso.ini")], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{http_port}"
        deadline = time.monotonic() + 90
        probe = RemoteStore(base + "/sparql", check_union=False, timeout=5)
        while True:
            try:
                probe.ask("ASK { }")
                break
            except RemoteError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        remote = RemoteStore(base + "/sparql", update_endpoint=base + "/sparql-auth",
                             graph_store=base + "/sparql-graph-crud-auth", user="dba", password="dba")
        push_fresh(remote)
        for name in ("entity-names", "viz-claims"):
            text = list_queries()[name].text
            rows = remote.select(text)
            assert len(rows) > 100
            assert Counter(map(repr, rows)) == Counter(map(repr, kg_store.select(text))), name
        assert remote._nested_pages
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_push_one_graph_rebuilds_the_derived_graph_on_the_server(store_name, runner):
    """`kg push --graph IRI` replaces that graph only; the derived graph is rebuilt remotely."""
    from kg.cli import cli
    from kg.vocab import ENTITIES_GRAPH

    remote = remote_store(store_name)
    push_fresh(remote)
    before = graph_digest(remote)
    env = {"KG_ENDPOINT_USER": remote.http.user, "KG_ENDPOINT_PASSWORD": remote.http.password}
    result = runner.invoke(cli, ["--endpoint", remote.endpoint, "--graph-store", remote.graph_store,
                                 "--update-endpoint", remote.update_endpoint, "push", "--graph", ENTITIES_GRAPH,
                                 "--format", "json"], env={k: v for k, v in env.items() if v})
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["graph"], r["method"]) for r in rows] == [(ENTITIES_GRAPH, "put"), (DERIVED_GRAPH, "rule")]
    assert graph_digest(remote) == before


def test_push_of_an_unknown_graph_is_refused(store_name, runner):
    from kg.cli import cli

    remote = remote_store(store_name)
    result = runner.invoke(cli, ["--endpoint", remote.endpoint, "--graph-store", remote.graph_store, "push",
                                 "--graph", "https://example.org/nothing"])
    assert result.exit_code == 1 and "no such graph in the local load" in result.output


def _ntriples_without_source(tmp_path: Path, name: str = "deals.nt") -> Path:
    """mini.trig's triples as a user's N-Triples file that names no source graph (so kg adds
    a source node beside the file's own triples), blank nodes included."""
    store = ox.Store()
    store.load(path=str(DATA / "mini.trig"), format=ox.RdfFormat.TRIG)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store
               if q.predicate != ox.NamedNode(KG.namedGraph)]
    path = tmp_path / name
    path.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    return path


@pytest.mark.parametrize("validate", [True, False])
def test_push_sends_an_ntriples_file_as_it_is(store_name, runner, tmp_path, validate):
    """The file goes to the store as it is (while kg parses it, unvalidated), then the source
    node kg adds; the store then holds exactly what the embedded load holds."""
    from kg.cli import cli
    from kg.store import load_store

    remote = remote_store(store_name)
    reset_store(remote)
    path = _ntriples_without_source(tmp_path)
    env = {"KG_ENDPOINT_USER": remote.http.user, "KG_ENDPOINT_PASSWORD": remote.http.password}
    args = ["--data", str(path)] + ([] if validate else ["--no-validate"])
    result = runner.invoke(cli, args + ["--endpoint", remote.endpoint, "--graph-store", remote.graph_store,
                                        "--update-endpoint", remote.update_endpoint, "push", "--format", "json"],
                           env={k: v for k, v in env.items() if v})
    assert result.exit_code == 0, result.output
    assert "deals.nt (0 MB, as it is)" in result.stderr
    local = load_store([path])
    user_graph = GRAPH + "user/deals"
    assert graph_digest(remote) == local.graph_sizes()
    # The file's own triples (2 blank amount nodes among them) and the 4 of the source node.
    assert local.graph_sizes()[user_graph] == len(path.read_text(encoding="utf-8").splitlines()) + 4
    assert remote.ask("ASK { GRAPH ?g { ?s <" + KG.namedGraph + "> ?g } }", {"g": ox.NamedNode(user_graph)})


def test_unvalidated_push_of_a_file_with_repeated_lines(store_name, runner, tmp_path):
    """kg counts the lines of a file pushed unvalidated; a file that repeats triples (here each
    one twice, between comments) then differs from the store's count, and kg parses the whole
    file to check it: the push succeeds with the store's count, which the embedded load has too."""
    from kg.cli import cli
    from kg.store import load_store

    remote = remote_store(store_name)
    reset_store(remote)
    lines = _ntriples_without_source(tmp_path).read_text(encoding="utf-8").splitlines()
    path = tmp_path / "twice.nt"
    path.write_text("# every triple twice\n" + "\n".join(lines + ["", "# again"] + lines) + "\n", encoding="utf-8")
    env = {"KG_ENDPOINT_USER": remote.http.user, "KG_ENDPOINT_PASSWORD": remote.http.password}
    result = runner.invoke(cli, ["--data", str(path), "--no-validate", "--endpoint", remote.endpoint,
                                 "--graph-store", remote.graph_store, "--update-endpoint", remote.update_endpoint,
                                 "push", "--format", "json"], env={k: v for k, v in env.items() if v})
    assert result.exit_code == 0, result.output
    user_graph = GRAPH + "user/twice"
    # mini.trig's 44 triples without its kg:namedGraph, twice; and kg's source node of 4.
    assert f"{user_graph}: the store holds 48 triples, 92 counted by line: parsing twice.nt whole…" in result.stderr
    rows = {row["graph"]: row for row in json.loads(result.stdout)}
    assert rows[user_graph]["triples"] == 48  # as the store counts them
    assert graph_digest(remote) == load_store([path], validate=False).graph_sizes()


BLANK_RELATIONSHIP = """@prefix kg: <https://w3id.org/ai-capital-kg/ontology#> .
@prefix kgr: <https://w3id.org/ai-capital-kg/resource/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix u: <https://example.org/u/> .
u:src a kg:Source ; dcterms:title "Notes" ; kg:layer kg:UserLayer .
[] a kg:Relationship ; kg:kind kg:ChipSupply ; kg:customer kgr:Oracle ; kg:supplier kgr:AMD ; dcterms:source u:src .
"""


@pytest.mark.parametrize("validate", [True, False])
def test_relationship_without_an_iri_is_derived_by_the_store(store_name, runner, tmp_path, validate):
    """A relationship written as a blank node: the derived kg:payer/kg:payee must name the
    node the store holds, which a separate PUT of the derived graph cannot (each request has
    its own blank nodes); kg leaves that graph to the store's own rule."""
    from kg.cli import cli
    from kg.store import load_store

    remote = remote_store(store_name)
    reset_store(remote)
    path = tmp_path / "blank.ttl"
    path.write_text(BLANK_RELATIONSHIP, encoding="utf-8")
    if not validate:  # as N-Triples, the file goes to the store as it is
        store = ox.Store()
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
        path = tmp_path / "blank.nt"
        path.write_bytes(ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in store),
                                      format=ox.RdfFormat.N_TRIPLES))
    env = {"KG_ENDPOINT_USER": remote.http.user, "KG_ENDPOINT_PASSWORD": remote.http.password}
    args = ["--data", str(path)] + ([] if validate else ["--no-validate"])
    args += ["--endpoint", remote.endpoint, "--graph-store", remote.graph_store]
    env = {k: v for k, v in env.items() if v}
    refused = runner.invoke(cli, args + ["push"], env=env)  # no --update-endpoint
    assert refused.exit_code == 1
    assert "it links blank nodes of the data" in refused.stderr and "needs --update-endpoint" in refused.stderr
    assert f"{DERIVED_GRAPH} was left as it was before the push" in refused.stderr
    result = runner.invoke(cli, args + ["--update-endpoint", remote.update_endpoint, "push"], env=env)
    assert result.exit_code == 0, result.output
    assert "the store derives it itself" in result.stderr
    paid = ("ASK { GRAPH ?g { ?rel <" + KG.customer + "> <" + KGR.Oracle + "> } "
            "GRAPH <" + DERIVED_GRAPH + "> { ?rel <" + KG.payer + "> <" + KGR.Oracle + "> ; <" + KG.payee + "> <"
            + KGR.AMD + "> } FILTER(isBlank(?rel)) }")
    assert remote.ask(paid)
    assert graph_digest(remote) == load_store([path], validate=False).graph_sizes()


def _file_with_a_bad_line(tmp_path: Path, predicate: str) -> Path:
    """mini.trig's triples as N-Triples with 50,000 good lines, then at line 50,004 a triple
    with ``predicate`` and no object (kg's parser and Oxigraph's refuse it)."""
    bad = tmp_path / "bad.nt"
    good = _ntriples_without_source(tmp_path).read_text(encoding="utf-8").splitlines()
    # 50,000 good lines first: kg reaches the bad one well after the upload has begun.
    filler = [f'<https://example.org/s{i}> <https://example.org/p> "x" .' for i in range(50_000)]
    bad.write_text("\n".join(good[:3] + filler + [f"<https://example.org/a> <{predicate}> ."] + good[3:]) + "\n",
                   encoding="utf-8")
    return bad


def test_file_that_fails_to_parse_after_the_store_took_it_is_reported(fake_server, tmp_path):
    """An unvalidated push sends an N-Triples file while kg reads from it the triples the
    derivation rule needs; when kg's parser refuses one of those lines, the message says the
    store took the file and nothing more was written."""
    from kg.push import PushError, push_store
    from kg.store import load_store

    bad = _file_with_a_bad_line(tmp_path, KG.kind)
    remote = RemoteStore(fake_server + "/query", graph_store=fake_server + "/store", user="dba", password="dba",
                         check_union=False)
    kg = load_store((), validate=False, derive=False)
    with pytest.raises(PushError) as info:
        push_store(kg, remote, files=[bad])
    message = str(info.value)
    assert "bad.nt:50004:" in message
    file_graph = "https://w3id.org/ai-capital-kg/graph/user/bad"
    assert f"the store took {file_graph} from bad.nt as sent" in message
    # The ontology goes first, then the file; bundled graphs the writer reached while kg parsed
    # are written too (how many depends on timing), the derived graph never. The message names
    # exactly the graphs the store was sent, in order.
    puts = [parse_qs(urlsplit(path).query)["graph"][0] for method, path, _, auth in _Fake.log
            if method == "PUT" and auth]
    assert puts[:2] == ["https://w3id.org/ai-capital-kg/graph/ontology", file_graph]
    assert DERIVED_GRAPH not in puts
    others = [g for g in puts if g != file_graph]
    assert f"replaced before the error ({len(others)}): {', '.join(others)}\n" in message


def test_bad_line_the_rule_does_not_read_is_found_by_the_count(fake_server, tmp_path):
    """A line whose predicate the derivation rule does not read is counted, not parsed, while
    the file uploads; a store that took it anyway holds another count than kg's, so kg parses
    the whole file and names the line. Every graph of the push was written by then."""
    from kg.push import PushError, push_store
    from kg.store import load_store

    bad = _file_with_a_bad_line(tmp_path, "https://example.org/b")
    file_graph = "https://w3id.org/ai-capital-kg/graph/user/bad"
    # mini.trig's 45 triples less its kg:namedGraph, 50,000 + the bad one; kg adds a source
    # node of 4 triples (rdf:type, kg:layer, kg:namedGraph, dcterms:title).
    lines = len(bad.read_text(encoding="utf-8").splitlines())
    assert lines == 44 + 50_001
    _Fake.counts = {file_graph: lines + 4 - 1}  # the store's parser made nothing of the bad line
    remote = RemoteStore(fake_server + "/query", graph_store=fake_server + "/store", user="dba", password="dba",
                         check_union=False)
    kg = load_store((), validate=False, derive=False)
    lines_seen = []
    with pytest.raises(PushError) as info:
        push_store(kg, remote, files=[bad], progress=lines_seen.append)
    message = str(info.value)
    assert message.splitlines()[0].startswith(f"{bad}:50004: ")
    assert f"the store took {file_graph} from bad.nt as sent (its own parser accepted the file: 50,048 triples)" \
        in message
    assert f"  {file_graph}: the store holds 50,048 triples, 50,049 counted by line: parsing bad.nt whole…" \
        in lines_seen
    puts = [parse_qs(urlsplit(path).query)["graph"][0] for method, path, _, auth in _Fake.log
            if method == "PUT" and auth]
    assert puts[:2] == ["https://w3id.org/ai-capital-kg/graph/ontology", file_graph] and puts[-1] == DERIVED_GRAPH


def test_unvalidated_push_of_mixed_files_writes_every_graph(store_name, runner, tmp_path):
    """--no-validate with a dataset, a CSV and an N-Triples file: every graph of the local load
    reaches the store (a dataset's graphs are known only once parsed, so all load first)."""
    from kg.cli import cli
    from kg.store import load_store

    remote = remote_store(store_name)
    reset_store(remote)
    files = [DATA / "mini.trig", DATA / "deals.csv", _ntriples_without_source(tmp_path)]
    env = {"KG_ENDPOINT_USER": remote.http.user, "KG_ENDPOINT_PASSWORD": remote.http.password}
    args = [a for f in files for a in ("--data", str(f))] + ["--no-validate"]
    result = runner.invoke(cli, args + ["--endpoint", remote.endpoint, "--graph-store", remote.graph_store,
                                        "--update-endpoint", remote.update_endpoint, "push"],
                           env={k: v for k, v in env.items() if v})
    assert result.exit_code == 0, result.output
    local = load_store(files, validate=False)  # the N-Triples copy repeats mini.trig's relationships
    assert {"https://example.org/graph/mini", GRAPH + "user/deals", GRAPH + "user/deals-2"} <= set(local.graphs())
    assert graph_digest(remote) == local.graph_sizes()
