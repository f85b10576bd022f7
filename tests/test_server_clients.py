"""Real, independent clients against ``kg serve`` on loopback: each runs a SELECT with a property
path and an aggregate and must get exactly the rows the in-process query gives.

A client is skipped only when it is missing and CI is not set; under CI a missing client fails
(.ci/run installs them: SPARQLWrapper from PyPI, curl, roqet from Debian's rasqal-utils, and
Comunica from npm).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from w3c_protocol import REPO, KGServe

pytestmark = pytest.mark.slow
IN_CI = bool(os.environ.get("CI"))
QUERY = """PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?kind (COUNT(?rel) AS ?n)
WHERE { ?rel a kg:Relationship ; kg:kind/skos:notation ?kind }
GROUP BY ?kind
ORDER BY ?kind"""


def require(found, what: str):
    """The client, or skip (outside CI) / fail (in CI) when it is missing."""
    if found:
        return found
    if IN_CI:
        pytest.fail(f"{what} is missing under CI; .ci/run must install it")
    pytest.skip(f"{what} is not installed")


def comunica() -> str | None:
    candidates = [os.environ.get("KG_COMUNICA"), shutil.which("comunica-sparql"),
                  Path.home() / ".cache/kg-ci/comunica/node_modules/.bin/comunica-sparql",
                  REPO / ".ci/node_modules/.bin/comunica-sparql"]
    return next((str(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="module")
def endpoint():
    with KGServe() as server:
        yield server.endpoint


@pytest.fixture(scope="module")
def expected(kg_store):
    rows = [(r["kind"], r["n"]) for r in kg_store.select(QUERY)]
    assert len(rows) > 5 and all(isinstance(n, int) for _, n in rows)
    return rows


def test_sparqlwrapper(endpoint, expected):
    try:
        from SPARQLWrapper import JSON, SPARQLWrapper
    except ImportError:
        require(None, "SPARQLWrapper (pip install SPARQLWrapper)")
    client = SPARQLWrapper(endpoint)
    client.setQuery(QUERY)
    client.setReturnFormat(JSON)
    bindings = client.query().convert()["results"]["bindings"]
    assert [(b["kind"]["value"], int(b["n"]["value"])) for b in bindings] == expected


def test_rdflib_sparqlstore(endpoint, expected):
    from rdflib import Graph
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(SPARQLStore(endpoint))
    assert [(str(row.kind), int(row.n)) for row in graph.query(QUERY)] == expected


def test_curl(endpoint, expected):
    curl = require(shutil.which("curl"), "curl (apt-get install curl)")
    out = subprocess.run([curl, "-sS", "--fail", "-H", "Accept: text/csv", "--data-urlencode", f"query={QUERY}",
                          endpoint], capture_output=True, text=True, timeout=60, check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["kind", "n"]
    assert [(k, int(n)) for k, n in rows[1:]] == expected


def test_comunica(endpoint, expected):
    binary = require(comunica(), "Comunica (npm install @comunica/query-sparql@4.5.0)")
    out = subprocess.run([binary, f"sparql@{endpoint}", "-q", QUERY, "-t", "application/sparql-results+json"],
                         capture_output=True, text=True, timeout=180, check=True).stdout
    bindings = json.loads(out)["results"]["bindings"]
    assert [(b["kind"]["value"], int(b["n"]["value"])) for b in bindings] == expected


def test_roqet(endpoint, expected):
    roqet = require(shutil.which("roqet"), "roqet (apt-get install rasqal-utils)")
    out = subprocess.run([roqet, "-q", "-i", "sparql11-query", "-p", endpoint, "-e", QUERY, "-r", "csv"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["kind", "n"]
    assert [(k, int(n)) for k, n in rows[1:]] == expected
