"""The W3C SPARQL 1.1 Protocol test suite against ``kg serve`` on loopback.

All 34 tests pass with updates enabled on a scratch store; read-only, the query and bad-request
tests pass as written and every update test is answered 403. The suite lives in
../shared/w3c/sparql11-protocol beside the repository; these tests skip only when it is absent.
"""

from __future__ import annotations

import pytest

from w3c_protocol import SUITE, Endpoint, KGServe, graph_data_trig, load_manifest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SUITE / "manifest.ttl").exists(), reason=f"W3C protocol suite not found at {SUITE}: set KG_SHARED_DIR to a folder holding w3c/sparql11-protocol"),
]
TESTS = load_manifest() if (SUITE / "manifest.ttl").exists() else []
TOKEN = "w3c-protocol-test-token"


def test_manifest_has_the_34_tests():
    assert len(TESTS) == 34
    assert sum(t.is_update for t in TESTS) == 7


@pytest.fixture(scope="module")
def with_updates():
    with KGServe("--no-bundled", "--allow-update", env={"KG_UPDATE_TOKEN": TOKEN}) as server:
        yield Endpoint(server.endpoint, token=TOKEN)


@pytest.fixture(scope="module")
def read_only(tmp_path_factory):
    data = tmp_path_factory.mktemp("w3c") / "graphs.trig"
    data.write_text(graph_data_trig(TESTS), encoding="utf-8")
    with KGServe("--data", str(data), global_args=("--no-validate",)) as server:
        yield Endpoint(server.endpoint)


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.name)
def test_protocol_with_updates(with_updates, test):
    passed, reason, _ = with_updates.run(test)
    assert passed, f"{test.title}: {reason}"


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.name)
def test_protocol_read_only(read_only, test):
    if test.is_update:
        req = test.requests[0]
        path = read_only.query_path + req.path[len("/sparql/"):]
        status, ctype, body = read_only.send(req.method, path, dict(req.headers), req.body)
        assert status == 403, body
        assert ctype == "application/json" and b'"status": 403' in body
    else:
        passed, reason, _ = read_only.run(test, preload=False)
        assert passed, f"{test.title}: {reason}"
