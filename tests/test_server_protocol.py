"""The endpoint's parts without processes or sockets: protocol, negotiation, policy, results, routing."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from kg.server.app import App, Request, ServerConfig
from kg.server.errors import HTTPError
from kg.server.negotiate import GRAPH_FORMATS, RESULT_FORMATS, formats_for, negotiate
from kg.server.policy import check_references, check_token, host_allowed
from kg.server.protocol import read_operation
from kg.server.lexer import analyse
from kg.server.results import TooManyRows, write_results


# -- content negotiation -------------------------------------------------------------------
@pytest.mark.parametrize("accept, form, key", [
    (None, "SELECT", "json"),
    ("*/*", "CONSTRUCT", "turtle"),
    ("application/sparql-results+xml", "SELECT", "xml"),
    ("text/csv;q=0.4, text/tab-separated-values;q=0.9", "SELECT", "tsv"),
    ("application/json", "ASK", "json"),
    ("text/*", "SELECT", "csv"),
    ("application/ld+json", "DESCRIBE", "jsonld"),
    ("application/rdf+xml, text/turtle;q=0.5", "CONSTRUCT", "rdfxml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "SELECT", "xml"),
])
def test_accept_picks_the_format(accept, form, key):
    assert negotiate(accept, formats_for(form)).key == key


@pytest.mark.parametrize("accept, form", [
    ("text/turtle", "SELECT"), ("text/csv", "ASK"), ("application/sparql-results+json", "CONSTRUCT"),
    ("text/csv, */*;q=0", "ASK"),
])
def test_a_type_it_cannot_produce_is_406(accept, form):
    with pytest.raises(HTTPError) as err:
        negotiate(accept, formats_for(form))
    assert err.value.status == 406


def test_format_parameter_overrides_accept():
    assert negotiate("application/sparql-results+json", RESULT_FORMATS, "csv").key == "csv"
    assert negotiate(None, GRAPH_FORMATS, "nt").key == "ntriples"
    with pytest.raises(HTTPError):
        negotiate(None, RESULT_FORMATS, "turtle")


# -- reading protocol requests -------------------------------------------------------------
def test_post_form_merges_url_and_body_parameters():
    op = read_operation("POST", "default-graph-uri=http%3A%2F%2Fx%2Fg", "application/x-www-form-urlencoded",
                        b"query=ASK%20%7B%7D&named-graph-uri=http%3A%2F%2Fx%2Fh")
    assert (op.kind, op.text, op.default_graphs, op.named_graphs) == ("query", "ASK {}", ["http://x/g"], ["http://x/h"])


@pytest.mark.parametrize("method, qs, ctype, body, status", [
    ("POST", "", None, b"query=ASK%20%7B%7D", 415),
    ("POST", "", "text/plain", b"ASK {}", 415),
    ("POST", "", "application/sparql-query; charset=UTF-16", "ASK {}".encode("utf-16"), 415),
    ("POST", "", "application/sparql-query", b"ASK {\xff}", 400),
    ("GET", "query=ASK%7B%7D&query=ASK%7B%7D", None, b"", 400),
    ("GET", "update=CLEAR%20ALL", None, b"", 400),
    ("POST", "query=ASK%7B%7D", "application/sparql-update", b"CLEAR ALL", 400),
    ("GET", "query=ASK%7B%7D&default-graph-uri=not%20an%20iri", None, b"", 400),
    ("GET", "query=%FF", None, b"", 400),
])
def test_malformed_requests_are_4xx(method, qs, ctype, body, status):
    with pytest.raises(HTTPError) as err:
        read_operation(method, qs, ctype, body)
    assert err.value.status == status


# -- policy --------------------------------------------------------------------------------
@pytest.mark.parametrize("iri, allowed, ok", [
    ("http://example.org/sparql", ["example.org"], True),
    ("https://q.example.org/sparql", ["*.example.org"], True),
    ("https://example.org.evil/sparql", ["example.org"], False),
    ("file:///etc/passwd", ["*"], False),
    ("http://127.0.0.1:9/x", [], False),
])
def test_host_allow_list(iri, allowed, ok):
    assert host_allowed(iri, allowed) is ok


def test_from_must_name_a_graph_of_the_store():
    check_references(analyse("SELECT * FROM <http://x/g> {}"), graphs={"http://x/g"})
    with pytest.raises(HTTPError, match="names no graph"):
        check_references(analyse("SELECT * FROM <http://x/other> {}"), graphs={"http://x/g"})
    # a protocol dataset replaces FROM, which is then not used
    check_references(analyse("SELECT * FROM <http://x/other> {}"), graphs=set(), protocol_dataset=True)


def test_service_with_a_variable_endpoint_is_refused():
    with pytest.raises(HTTPError, match="variable"):
        check_references(analyse("SELECT * { SERVICE ?e {} }"), graphs=set(), allow_hosts=("example.org",))


@pytest.mark.parametrize("header, status", [
    (None, 401), ("Bearer nope", 403), ("Digest x", 401),
    ("Basic " + base64.b64encode(b"anyone:wrong").decode(), 403),
])
def test_update_token_is_checked(header, status):
    with pytest.raises(HTTPError) as err:
        check_token(header, "s3cret")
    assert err.value.status == status


def test_update_token_accepts_bearer_and_basic():
    check_token("Bearer s3cret", "s3cret")
    check_token("Basic " + base64.b64encode(b"anyone:s3cret").decode(), "s3cret")


# -- results -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store():
    s = ox.Store()
    ex = "http://example.org/"
    s.add(ox.Quad(ox.NamedNode(ex + "a"), ox.NamedNode(ex + "p"), ox.Literal("x, \"y\"\tz", language="en")))
    s.add(ox.Quad(ox.NamedNode(ex + "a"), ox.NamedNode(ex + "p"), ox.Literal("2", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))))
    s.add(ox.Quad(ox.BlankNode("b"), ox.NamedNode(ex + "p"), ox.Literal("plain")))
    return s


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_our_result_formats_read_back_as_oxigraph_reads_its_own(store, fmt):
    """Written here (to enforce the row limit), parsed by Oxigraph: the same solutions."""
    q = "SELECT ?s ?o ?missing WHERE { ?s ?p ?o } ORDER BY ?o"
    ours, n = write_results(store.query(q), fmt, 10)
    theirs = store.query(q).serialize(format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert n == 3
    if fmt == "csv":  # lossy: Oxigraph does not parse it, so compare the text
        assert ours == theirs
        return

    def parse(data):
        return [tuple(None if s[v] is None else str(s[v]) for v in ("s", "o", "missing"))
                for s in ox.parse_query_results(data, format=getattr(ox.QueryResultsFormat, fmt.upper()))]

    assert parse(ours) == parse(theirs)


def test_row_limit_raises_instead_of_cutting(store):
    with pytest.raises(TooManyRows) as err:
        write_results(store.query("SELECT * { ?s ?p ?o }"), "json", 2)
    assert err.value.status == 422 and err.value.extra["limit"] == 2
    body, n = write_results(store.query("SELECT * { ?s ?p ?o } LIMIT 2"), "json", 2)
    assert n == 2 and len(json.loads(body)["results"]["bindings"]) == 2
    with pytest.raises(TooManyRows):
        write_results(store.query("CONSTRUCT WHERE { ?s ?p ?o }"), "turtle", 2)


def test_csv_and_xml_are_well_formed(store):
    body, _ = write_results(store.query("SELECT ?o { ?s ?p ?o } ORDER BY ?o"), "csv", 10)
    assert list(csv.reader(io.StringIO(body.decode()))) == [["o"], ["2"], ["plain"], ['x, "y"\tz']]
    body, _ = write_results(store.query("SELECT ?o { ?s ?p ?o }"), "xml", 10)
    ET.fromstring(body)


# -- routing, with a pool that is a stub ---------------------------------------------------
class StubPool:
    """Records jobs; ``gate`` (if set) holds every job until released."""

    graphs = ["http://example.org/g"]

    def __init__(self):
        self.jobs, self.gate = [], None

    def run(self, job, timeout, client=""):
        self.jobs.append((job, timeout))
        if self.gate:
            self.gate.wait(5)
        return ("ok", "application/sparql-results+json", b'{"head":{},"boolean":true}', {"X-KG-Result-Rows": "1"})


def app(**config):
    pool = StubPool()
    return App(ServerConfig(**config), pool), pool


def request(path, query="", method="GET", headers=None, body=b"", client="10.0.0.1"):
    if method == "POST" and not body:  # a form post of the parameters
        query, body, headers = "", query.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    return Request(method, path, query, headers or {}, body, client)


def test_timeout_parameter_is_capped_at_the_servers():
    a, pool = app(timeout=10)
    a.handle(request("/sparql", "query=ASK%7B%7D&timeout=999"))
    a.handle(request("/sparql", "query=ASK%7B%7D&timeout=0.5"))
    assert [t for _, t in pool.jobs] == [10, 0.5]
    assert a.handle(request("/sparql", "query=ASK%7B%7D&timeout=-1")).status == 400


def test_more_requests_than_the_client_limit_get_429_with_retry_after():
    a, pool = app(client_limit=1)
    pool.gate = threading.Event()
    first = threading.Thread(target=a.handle, args=(request("/sparql", "query=ASK%7B%7D"),))
    first.start()
    while not pool.jobs:
        pass
    busy = a.handle(request("/sparql", "query=ASK%7B%7D"))
    other = threading.Thread(target=a.handle, args=(request("/sparql", "query=ASK%7B%7D", client="10.0.0.2"),))
    other.start()
    pool.gate.set()
    first.join()
    other.join()
    assert busy.status == 429 and busy.headers["Retry-After"] == "1"
    assert json.loads(busy.body)["status"] == 429
    assert len(pool.jobs) == 2  # the other client was not limited
    assert a.handle(request("/sparql", "query=ASK%7B%7D")).status == 200  # the slot was freed


def test_named_query_parameters_go_to_the_worker_as_values_not_text():
    a, pool = app()
    resp = a.handle(request("/queries/entity", "id=OpenAI%3E%20%7D%20UNION%20%7B%20%3Fs%20%3Fp%20%3Fo&format=csv"))
    assert resp.status == 200
    job = pool.jobs[0][0]
    assert job["params"] == {"id": "OpenAI> } UNION { ?s ?p ?o"} and job["format"] == "csv"
    assert "text" not in job


@pytest.mark.parametrize("path, query, method, status", [
    ("/nowhere", "", "GET", 404),
    ("/queries/entitty", "", "GET", 404),
    ("/queries/entity", "id=a&id=b", "GET", 400),
    ("/sparql", "query=ASK%7B%7D", "DELETE", 405),
    ("/sparql", "query=ASK%7B%7D", "OPTIONS", 204),
    ("/sparql", "update=CLEAR%20ALL", "POST", 403),
    ("/sparql", "query=SELECT%20*%20%7BSERVICE%20%3Chttp%3A%2F%2Fx%2F%3E%7B%7D%7D", "GET", 400),
])
def test_routes_answer_with_the_status_and_one_error_shape(path, query, method, status):
    a, _ = app()
    resp = a.handle(request(path, query, method))
    assert resp.status == status
    assert "Access-Control-Allow-Origin" not in resp.headers  # no --cors-origin: no other site reads it
    if status >= 400:
        assert resp.content_type == "application/json"
        body = json.loads(resp.body)
        assert body["status"] == status and set(body) >= {"status", "error", "message"}


def test_a_host_header_that_is_not_a_host_does_not_reach_the_description():
    a, _ = app()
    resp = a.handle(Request("GET", "/sparql", "", {"Host": "x> <y", "Accept": "text/turtle"}, b"", "c", "127.0.0.1:9"))
    assert resp.status == 200
    assert b"<http://127.0.0.1:9/sparql>" in resp.body
