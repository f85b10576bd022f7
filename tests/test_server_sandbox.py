"""No outbound request, whatever the query text: the workers' network sandbox against a counting
listener; CORS only for named origins; the query page's links and every page's CSP.

The listener is the oracle: a TCP socket on 127.0.0.1 that counts every connection it accepts. The
queries hide ``SERVICE``/``LOAD`` from kg's tokenizer (the issue's ``FILTER(?a<?b)#>'''`` trick:
the tokenizer reads an IRI and a long string where Oxigraph reads ``?a < ?b`` and two comments),
and each is first shown to be live: on a server started with ``--allow-host 127.0.0.1`` (no
sandbox) it does reach the listener.
"""

from __future__ import annotations

import errno
import html.parser
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.server import ServerConfig, running_server
from kg.server.app import DATA_CSP, PAGE_CSP, App, Request
from kg.server.lexer import analyse
from test_server import fetch

pytestmark = pytest.mark.slow
TOKEN = "sandbox-test-token"
HEAD = "BIND(1 AS ?a) BIND(2 AS ?b)"


def hide(clause: str, quote_: str = "'''") -> str:
    """``clause`` where kg's tokenizer sees a string and Oxigraph sees SPARQL (the issue's case)."""
    return f"FILTER(?a<?b)#>{quote_}\n {clause}\n #{quote_}\n"


class Listener:
    """Counts TCP connections on 127.0.0.1; answers each with one SPARQL JSON solution."""

    REPLY = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://listener/x"}}]}}'

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.count = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(self.REPLY) + self.REPLY)
                except OSError:
                    pass

    def settled(self) -> int:
        """The count once any connection in flight has been accepted."""
        time.sleep(0.1)
        return self.count

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    """The sandboxed server's target: no test may ever see it count a connection."""
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def control():
    """The target of the same texts sent to the unsandboxed server, or run in this process."""
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def sandboxed(kg_store):
    """The default server, updates allowed (for LOAD): the workers are sandboxed."""
    config = ServerConfig(port=0, workers=1, timeout=20, quiet=True, allow_update=True, update_token=TOKEN)
    with running_server(kg_store, config) as url:
        yield url


@pytest.fixture(scope="module")
def open_server(kg_store):
    """``--allow-host 127.0.0.1``: no sandbox, so a live SERVICE reaches the listener."""
    config = ServerConfig(port=0, workers=1, timeout=20, quiet=True, allow_update=True, update_token=TOKEN,
                          allow_hosts=("127.0.0.1",))
    with running_server(kg_store, config) as url:
        yield url


def send(base, text, form, update=False):
    """(status, headers, body) of ``text`` sent in one of the protocol's request forms."""
    key = "update" if update else "query"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    if form == "get":
        return fetch(f"{base}/sparql?" + urlencode({key: text}))
    if form == "form":
        return fetch(base + "/sparql", "POST", urlencode({key: text}),
                     {"Content-Type": "application/x-www-form-urlencoded", **auth})
    ctype = "application/sparql-update" if update else "application/sparql-query"
    return fetch(base + "/sparql", "POST", text.encode("utf-8"), {"Content-Type": ctype, **auth})


SERVICE = "SERVICE <@U/x> { ?s ?p ?o }"
ESCAPED = r"SERVICE <@U/\u0078> { ?s ?p ?o }"  # \u0078 is x: Oxigraph reads the same IRI
#: (name, query with @U for the listener's URL, hidden from the tokenizer?, SILENT? (None: neither
#: refused nor SILENT))
QUERIES = [
    ("issue", f"SELECT * {{ {HEAD} {hide(SERVICE)}}}", True, False),
    ("double-quoted", f"SELECT * {{ {HEAD} {hide(SERVICE, chr(34) * 3)}}}", True, False),
    ("numbers", f"SELECT * {{ FILTER(1<2)#>'''\n {SERVICE}\n #'''\n}}", True, False),
    ("lower-case", f"select * {{ {HEAD} {hide('service <@U/x> { ?s ?p ?o }')}}}", True, False),
    ("silent", f"SELECT * {{ {HEAD} {hide('SERVICE SILENT <@U/x> { ?s ?p ?o }')}}}", True, True),
    ("prefixed-name", f"PREFIX r: <@U/> SELECT * {{ {HEAD} {hide('SERVICE r:x { ?s ?p ?o }')}}}", True, False),
    ("unicode-escape-in-iri", f"SELECT * {{ {HEAD} {hide(ESCAPED)}}}", True, False),
    ("optional", f"SELECT * {{ {HEAD} OPTIONAL {{ {hide(SERVICE)}}} }}", True, False),
    ("union", f"SELECT * {{ {{ {HEAD} }} UNION {{ {HEAD} {hide(SERVICE)}}} }}", True, False),
    ("subquery", f"SELECT * {{ {{ SELECT * {{ {HEAD} {hide(SERVICE)}}} }} }}", True, False),
    # Oxigraph counts a failed SERVICE inside EXISTS as a match (its error is not raised): 200
    ("exists", f"ASK {{ {HEAD} {hide('FILTER EXISTS { ' + SERVICE + ' }')}}}", True, None),
    ("construct", f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {HEAD} {hide(SERVICE)}}}", True, False),
    # the same constructs in plain sight: the tokenizer refuses them first, with their line
    ("plain", f"SELECT * {{ {SERVICE} }}", False, False),
    ("plain-silent-lower-case", "select * { service silent <@U/x> { ?s ?p ?o } }", False, True),
    ("plain-prefixed", f"PREFIX r: <@U/> SELECT * {{ SERVICE r:x {{ ?s ?p ?o }} }}", False, False),
    ("comment-before-iri", "SELECT * # a comment\n{ SERVICE<@U/x>{?s ?p ?o} }", False, False),
]
FORMS = ["get", "form", "direct"]


def _text(template, url):
    return template.replace("@U", url)


@pytest.mark.parametrize("name, template, hidden, silent", QUERIES, ids=[q[0] for q in QUERIES])
def test_each_query_is_a_live_outbound_request_without_the_sandbox(open_server, control, name, template,
                                                                     hidden, silent):
    """The control: with --allow-host the same text does reach a listener."""
    before = control.settled()
    status, _, body = send(open_server, _text(template, control.url), "get")
    assert control.settled() > before, body
    assert status == 200, body


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name, template, hidden, silent", QUERIES, ids=[q[0] for q in QUERIES])
def test_no_query_reaches_the_listener(sandboxed, listener, name, template, hidden, silent, form):
    text = _text(template, listener.url)
    # a hidden SERVICE is invisible to kg's tokenizer: only the sandbox stands in its way
    assert (analyse(text).of("SERVICE") == []) is hidden
    before = listener.settled()
    status, _, body = send(sandboxed, text, form)
    assert listener.settled() == before == 0
    if silent is None:
        assert status == 200, body
        return
    if silent and hidden:  # a failed SERVICE SILENT is one empty solution (SPARQL 1.1 Federated Query 4):
        # the BINDs' row, with no ?s from the listener's answer
        assert status == 200 and [set(b) for b in json.loads(body)["results"]["bindings"]] == [{"a", "b"}], body
        return
    assert status == 400, body
    data = json.loads(body)
    assert data["error"] == "outbound request refused"
    assert data["message"].startswith("SERVICE ") and "refused" in data["message"]


def test_the_issues_reproducer_is_refused_naming_service(sandboxed, listener):
    text = ("SELECT * { BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)#>'''\n SERVICE <@U/x> { ?s ?p ?o }\n #'''\n}"
            .replace("@U", listener.url))
    status, _, body = send(sandboxed, text, "form")
    assert status == 400
    assert json.loads(body)["message"].startswith("SERVICE is refused by this endpoint: it makes no outbound requests")
    assert listener.settled() == 0


UPDATES = [
    ("load", "INSERT { } WHERE { " + HEAD + " " + hide("} ; LOAD <@U/data.ttl> ;"), True),
    ("load-silent-into-lower-case",
     "INSERT { } WHERE { " + HEAD + " " + hide("} ; load silent <@U/d.ttl> into graph <http://g/> ;"), True),
    ("service-in-where", f"INSERT {{ GRAPH <http://g/> {{ ?s ?p ?o }} }} WHERE {{ {HEAD} {hide(SERVICE)}}}", True),
    ("plain-load", "LOAD <@U/data.ttl>", False),
]


@pytest.mark.parametrize("form", ["form", "direct"])
@pytest.mark.parametrize("name, template, hidden", UPDATES, ids=[u[0] for u in UPDATES])
def test_no_update_reaches_the_listener(sandboxed, open_server, listener, control, name, template, hidden, form):
    text = _text(template, listener.url)
    assert (analyse(text).of("LOAD", "SERVICE") == []) is hidden
    before = control.settled()
    send(open_server, _text(template, control.url), form, update=True)  # the control: a live request
    assert control.settled() > before
    status, _, body = send(sandboxed, text, form, update=True)
    assert listener.settled() == 0
    if "silent" in name:  # LOAD SILENT: the failure is ignored and nothing is loaded
        assert status == 204, body
        return
    assert status == 400, body
    data = json.loads(body)
    assert data["error"] == "outbound request refused" and "refused" in data["message"]
    assert data["message"].split()[0] in ("LOAD", "SERVICE")


def test_named_query_parameters_are_bound_not_fetched(sandboxed, listener):
    """An IRI parameter is a value: no request whatever it names."""
    for path in ("/queries/entities?type=", "/queries/claims?kind=", "/queries/claims-about?about=Oracle&kind="):
        status, _, body = fetch(sandboxed + path + quote(listener.url + "/x", safe=""))
        assert status == 200, body
    assert listener.settled() == 0


# -- files: Oxigraph opens none, and nothing of them comes back -----------------------------------
class FifoWatch:
    """A FIFO that tells whether any process opened it for reading while it was watched.

    Opening a FIFO for writing without blocking succeeds only while it has a reader, so a
    thread that tries that in a loop sees any read of the path, even one that reads nothing.
    """

    def __init__(self, path: Path):
        self.path = path
        os.mkfifo(path)
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                assert exc.errno == errno.ENXIO
                time.sleep(0.001)
                continue
            self.opened = True
            os.close(fd)  # the reader gets end of file
            return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        time.sleep(0.1)
        self._stop.set()
        self._thread.join(5)


FILE_QUERIES = [
    ("from-hidden", "SELECT ((1<2)#>'''\n AS ?x) ?o FROM <@F> #'''\n WHERE { ?s ?p ?o }"),
    ("from-named-hidden", "SELECT ((1<2)#>'''\n AS ?x) ?o FROM NAMED <@F> #'''\n WHERE { GRAPH ?g { ?s ?p ?o } }"),
    ("service-hidden", f"SELECT * {{ {HEAD} {hide('SERVICE <@F> { ?s ?p ?o }')}}}"),
]


@pytest.mark.parametrize("name, template", FILE_QUERIES, ids=[q[0] for q in FILE_QUERIES])
def test_from_and_service_read_no_file(sandboxed, tmp_path, name, template):
    fifo = tmp_path / "secret.nt"
    with FifoWatch(fifo) as watch:
        status, _, body = send(sandboxed, template.replace("@F", fifo.as_uri()), "get")
    assert not watch.opened
    if name.startswith("from"):  # FROM only selects graphs of the store (this one is hidden from the
        # tokenizer, so the server asks for the union default graph, which Oxigraph then uses)
        assert status == 200, body
    else:
        assert status == 400 and json.loads(body)["error"] == "outbound request refused", body


def test_load_of_a_file_reads_nothing_and_loads_nothing(sandboxed, tmp_path):
    secret = tmp_path / "secret.nt"
    secret.write_text('<http://leak/s> <http://leak/p> "the secret" .\n', encoding="utf-8")
    fifo = tmp_path / "fifo.nt"
    with FifoWatch(fifo) as watch:
        for target in (secret, fifo):
            text = "INSERT { } WHERE { " + HEAD + " " + hide(f"}} ; LOAD <{target.as_uri()}> ;")
            status, _, body = send(sandboxed, text, "direct", update=True)
            assert status == 400 and json.loads(body)["message"].startswith("LOAD or SERVICE is refused"), body
    assert not watch.opened
    status, _, body = send(sandboxed, 'ASK { GRAPH ?g { ?s ?p "the secret" } }', "get")
    assert json.loads(body)["boolean"] is False


# -- the property: any mix of comments, strings and IRIs ------------------------------------------
_JUNK = st.text(alphabet="<>'\"#{}?ab .\\", max_size=10)
_OUTBOUND = st.sampled_from(["SERVICE <@U/x> { ?s ?p ?o }", "service silent <@U/x> { ?s ?p ?o }",
                             "SERVICE r:x { ?s ?p ?o }", "SeRvIcE <@U/\\u0078> {}"])
_NOISE = st.one_of(
    st.sampled_from([
        "FILTER(?a<?b)", "FILTER('''#>''' != \"<\")", "FILTER(?a != <http://e/'''>)", "FILTER(\"#\" != '>')",
        "\n", " ", "#\n", "FILTER(?a<?b)#>\n",
        "}", "{", "'''", '"""', "<?b)#>",  # stray tokens: most texts with them are not SPARQL
    ]),
    _JUNK.map(lambda j: "#" + j + "\n"),
    _JUNK.filter(lambda j: "'" not in j and "\\" not in j).map(lambda j: f"FILTER('{j}' != \"\")"),
)


def _nest(inner):
    """Group patterns around ``inner``, and the issue's shape with its parts varied: an opener where
    the tokenizer may start an IRI, a quote it may take for a string, the pattern on its own line,
    and a comment that may close the string."""
    block = st.lists(inner, min_size=1, max_size=3).map(" ".join)
    return st.one_of(
        block.map(lambda b: f"OPTIONAL {{ {b} }}"),
        block.map(lambda b: f"{{ SELECT * {{ {b} }} }}"),
        st.tuples(block, block).map(lambda ab: f"{{ {ab[0]} }} UNION {{ {ab[1]} }}"),
        block.map(lambda b: f"FILTER EXISTS {{ {b} }}"),
        st.builds(lambda opener, q1, b, q2: f"{opener}{q1}\n {b}\n #{q2}\n",
                  st.sampled_from(["FILTER(?a<?b)#>", "FILTER(1<2)#>", "FILTER(?a<?b)", "#>", ""]),
                  st.sampled_from(["'''", '"""', "'", ""]), block, st.sampled_from(["'''", '"""', "'", ""])),
    )


_PATTERN = st.recursive(st.one_of(_OUTBOUND, _NOISE), _nest, max_leaves=6)
#: The issue's shape itself around any pattern: the tokenizer sees an IRI and a long string.
_HIDDEN = st.builds(lambda opener, q, b: f"{opener}{q}\n {b}\n #{q}\n",
                    st.sampled_from(["FILTER(?a<?b)#>", "FILTER(1<2)#>"]), st.sampled_from(["'''", '"""']), _PATTERN)
_PROLOGUE = st.sampled_from(["", "PREFIX r: <@U/> ", "BASE <@U/> PREFIX r: <x/> "])
_FROM = st.sampled_from(["", "FROM <@U/g> ", "FROM NAMED <@U/g> ", "FROM r:g "])


def _control(text: str) -> None:
    """Run ``text`` in this (unsandboxed) process: the oracle for whether it really reaches out."""
    try:
        result = ox.Store().query(text, use_default_graph_as_union=True)
        if not isinstance(result, ox.QueryBoolean):
            list(result)
    except Exception:  # a syntax error or the listener's reply
        pass


def test_no_mix_of_comments_strings_and_iris_reaches_the_listener(sandboxed, listener, control):
    """Property: whatever the text, the sandboxed server makes no connection; a text that does
    reach out when run in this process (a second listener counts it) is refused, or is SILENT."""
    live = []

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(_PROLOGUE, _FROM, st.lists(st.one_of(_PATTERN, _HIDDEN), min_size=1, max_size=4),
           st.sampled_from(FORMS))
    def check(prologue, from_, pieces, form):
        body = f"{prologue}SELECT * {from_}WHERE {{ {HEAD} {''.join(pieces)}\n}}"
        # No waiting needed: the listener counts a connection before it answers, and the engine
        # waits for the answer.
        before = control.count
        _control(body.replace("@U", control.url))
        reaches = control.count > before
        status, _, answer = send(sandboxed, body.replace("@U", listener.url), form)
        assert listener.count == 0, body
        if reaches:
            live.append(not analyse(body).of("SERVICE"))  # hidden from the tokenizer?
            # refused (by the sandbox, or earlier by the tokenizer), or a failure SPARQL ignores
            assert status == 400 or (status == 200 and ("silent" in body.lower() or "exists" in body.lower())), (
                body, answer)

    check()
    assert listener.settled() == 0
    # the generator does make live outbound requests, and some that the tokenizer does not see
    assert len(live) >= 20 and sum(live) >= 5, (len(live), sum(live))  # the generator does make live outbound requests


# -- the sandbox itself ---------------------------------------------------------------------------
@pytest.mark.parametrize("allow_hosts, mode", [((), "2"), (("127.0.0.1",), "0")])
def test_workers_run_under_a_seccomp_filter_unless_hosts_are_allowed(kg_store, allow_hosts, mode):
    """The kernel's word: /proc/PID/status of each worker says Seccomp: 2 (filter mode), or 0
    (none) with --allow-host."""
    from kg.server import create_server

    server, pool = create_server(kg_store, ServerConfig(port=0, workers=2, quiet=True, allow_hosts=allow_hosts))
    try:
        statuses = [Path(f"/proc/{w.proc.pid}/status").read_text() for w in pool._all]
    finally:
        server.server_close()
        pool.close()
    assert len(statuses) >= 2  # the two, and the pool's reserved worker for quick queries
    assert all(f"\nSeccomp:\t{mode}\n" in s for s in statuses)


def test_a_replaced_worker_is_sandboxed_too(sandboxed, listener):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    assert fetch(f"{sandboxed}/sparql?" + urlencode({"query": slow, "timeout": "1"}))[0] == 503
    text = _text(QUERIES[0][1], listener.url)
    for _ in range(50):  # the replacement starts in the background
        status, _, body = send(sandboxed, text, "get")
        if status != 503:
            break
        time.sleep(0.2)
    assert status == 400 and listener.settled() == 0, body


_PROBE = textwrap.dedent("""
    import ctypes, errno, socket, threading
    from kg.server.sandbox import install
    libc = ctypes.CDLL(None, use_errno=True)
    def err(nr, *args):
        r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        return 0 if r >= 0 else ctypes.get_errno()
    before = [err(41, 2, 1, 0), err(425, 1, 0)]
    install()
    after = {}
    for name, fam in (("inet", socket.AF_INET), ("inet6", socket.AF_INET6), ("unix", socket.AF_UNIX),
                      ("packet", socket.AF_PACKET), ("netlink", socket.AF_NETLINK)):
        try:
            socket.socket(fam, socket.SOCK_RAW if fam in (socket.AF_PACKET, socket.AF_NETLINK) else socket.SOCK_STREAM)
            after[name] = 0
        except OSError as e:
            after[name] = e.errno
    box = []
    t = threading.Thread(target=lambda: box.append(err(41, 2, 1, 0))); t.start(); t.join()
    after["thread"] = box[0]
    after["x32"] = err(41 | 0x40000000, 2, 1, 0)
    after["io_uring_setup"] = err(425, 1, 0)
    a, b = socket.socketpair(); a.sendall(b"ok"); after["socketpair"] = b.recv(2).decode()
    print(before, sorted(after.items()))
""")


@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.uname().machine == "x86_64"),
                    reason="the probe uses x86_64 system call numbers")
def test_the_filter_denies_sockets_and_io_uring_in_every_thread():
    """Before install(): socket(AF_INET) works (0) and io_uring_setup(1, NULL) fails with EFAULT
    (14: the NULL params). After: every family, another thread, the x32 ABI and io_uring get
    EACCES (13); an existing socket pair still works (the worker's line to the server)."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("[0, 14] [('inet', 13), ('inet6', 13), ('io_uring_setup', 13), ('netlink', 13), "
                                  "('packet', 13), ('socketpair', 'ok'), ('thread', 13), ('unix', 13), ('x32', 13)]")


def _run_bpf(prog, arch: int, nr: int) -> int:
    """What a seccomp filter returns for a system call: a small interpreter of the four
    instructions the filter uses (the kernel's semantics, Documentation/networking/filter.rst)."""
    data = {0: nr, 4: arch}
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == 0x20:  # ld [k]
            acc = data[k]
        elif code == 0x06:  # ret k
            return k
        elif code in (0x15, 0x35):  # jeq / jge k
            taken = acc == k if code == 0x15 else acc >= k
            pc += jt if taken else jf
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        pc += 1


ALLOW, DENY = 0x7FFF0000, 0x00050000 | errno.EACCES
I386, X86_64, AARCH64 = 0x40000003, 0xC000003E, 0xC00000B7


@pytest.mark.parametrize("machine, arch, nr, expected", [
    ("x86_64", X86_64, 41, DENY),  # socket
    ("x86_64", X86_64, 53, ALLOW),  # socketpair: the worker's line to the server is one
    ("x86_64", X86_64, 0, ALLOW), ("x86_64", X86_64, 42, ALLOW),  # read; connect (no new socket to use)
    ("x86_64", X86_64, 425, DENY), ("x86_64", X86_64, 426, DENY), ("x86_64", X86_64, 427, DENY),  # io_uring
    ("x86_64", X86_64, 0x40000000 | 41, DENY), ("x86_64", X86_64, 0x40000000, DENY),  # the x32 ABI
    ("x86_64", I386, 102, DENY), ("x86_64", I386, 3, DENY),  # i386: socketcall, and anything
    ("aarch64", AARCH64, 198, DENY), ("aarch64", AARCH64, 199, ALLOW),  # socket; socketpair
    ("aarch64", AARCH64, 63, ALLOW), ("aarch64", AARCH64, 41, ALLOW),  # read; pivot_root (not socket there)
    ("aarch64", AARCH64, 425, DENY), ("aarch64", AARCH64, 427, DENY),
    ("aarch64", 0x40000028, 281, DENY),  # 32-bit ARM (AUDIT_ARCH_ARM): socket, and anything
])
def test_the_filter_program_decides_by_architecture_and_number(machine, arch, nr, expected):
    """System call numbers from the kernel's tables (arch/x86/entry/syscalls/syscall_64.tbl,
    include/uapi/asm-generic/unistd.h); aarch64 cannot run here, so its program is interpreted."""
    from kg.server import sandbox

    audit_arch, _, denied, x32 = sandbox._ARCHES[machine]
    assert _run_bpf(sandbox._program(audit_arch, denied, x32), arch, nr) == expected


@pytest.mark.parametrize("platform_attr, value, says", [
    ("machine", "riscv64", "no seccomp filter for the riscv64 architecture"),
    ("platform", "darwin", "seccomp filters need Linux; this is darwin"),
])
def test_install_says_why_it_cannot(monkeypatch, platform_attr, value, says):
    from kg.server import sandbox

    if platform_attr == "machine":
        monkeypatch.setattr(sandbox.platform, "machine", lambda: value)
    else:
        monkeypatch.setattr(sandbox.sys, "platform", value)
    with pytest.raises(sandbox.SandboxError, match=says):
        sandbox.install()  # raises before it changes anything in this process


def _serve(tmp_path, *args, wait_for="kg serve: SPARQL endpoint"):
    """``kg serve`` with the sandbox made to fail in every process (a sitecustomize): its stderr."""
    (tmp_path / "sitecustomize.py").write_text(
        "import kg.server.sandbox as s\n"
        "def install():\n    raise s.SandboxError('seccomp is not available here (test)')\n"
        "s.install = install\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("kg")), "serve", "--port", "0", "--no-bundled", "--workers", "1",
                             *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if wait_for in line:
                break
    finally:
        proc.terminate()
        proc.wait(30)
    return proc.returncode, "".join(lines)


def test_the_server_refuses_to_start_without_its_sandbox(tmp_path):
    code, err = _serve(tmp_path)
    assert code == 1
    assert err.strip().splitlines() == [
        "Error: cannot start the query workers: seccomp is not available here (test). kg serve runs them without "
        "network access so that SERVICE and LOAD cannot reach other hosts, and does not serve without that; only "
        "--allow-host (which lets queries reach hosts) runs them unsandboxed"]


def test_with_allow_host_it_starts_without_the_sandbox(tmp_path):
    code, err = _serve(tmp_path, "--allow-host", "127.0.0.1")
    assert "kg serve: SPARQL endpoint http://127.0.0.1:" in err and "Traceback" not in err
    assert "warning: --allow-host runs the query workers without their network sandbox" in err


# -- CORS ------------------------------------------------------------------------------------------
class _Pool:
    graphs = ["http://g/"]

    def run(self, job, timeout, client=""):
        return ("ok", "application/sparql-results+json", b'{"head":{},"boolean":true}', {"X-KG-Result-Rows": "1"})


def _handle(path="/sparql", query="query=ASK%7B%7D", origin=None, method="GET", **config):
    headers = {"Origin": origin} if origin else {}
    return App(ServerConfig(**config), _Pool()).handle(Request(method, path, query, headers, b"", "10.0.0.1"))


@pytest.mark.parametrize("origins, origin, allowed, vary", [
    ((), "https://evil.example", None, "Accept"),
    ((), None, None, "Accept"),
    (("https://yasgui.example",), "https://yasgui.example", "https://yasgui.example", "Accept, Origin"),
    (("https://yasgui.example",), "https://evil.example", None, "Accept, Origin"),
    (("https://yasgui.example",), "https://yasgui.example.evil.example", None, "Accept, Origin"),
    (("https://yasgui.example",), "http://yasgui.example", None, "Accept, Origin"),
    (("https://yasgui.example",), "null", None, "Accept, Origin"),
    (("https://yasgui.example",), None, None, "Accept, Origin"),
    (("https://a.example", "http://localhost:8080"), "http://localhost:8080", "http://localhost:8080",
     "Accept, Origin"),
    (("*",), "https://any.example", "*", "Accept"),
])
def test_cors_echoes_only_a_listed_origin(origins, origin, allowed, vary):
    resp = _handle(origin=origin, cors_origins=origins)
    assert resp.status == 200
    assert resp.headers.get("Access-Control-Allow-Origin") == allowed
    assert resp.headers["Vary"] == vary
    assert ("Access-Control-Expose-Headers" in resp.headers) is (allowed is not None)


def test_a_preflight_from_an_unlisted_origin_is_not_allowed():
    ok = _handle(query="", origin="https://yasgui.example", method="OPTIONS", cors_origins=("https://yasgui.example",))
    assert ok.status == 204 and ok.headers["Access-Control-Allow-Origin"] == "https://yasgui.example"
    no = _handle(query="", origin="https://evil.example", method="OPTIONS", cors_origins=("https://yasgui.example",))
    assert no.status == 204 and "Access-Control-Allow-Origin" not in no.headers


@pytest.mark.parametrize("values, expected", [
    (["https://YASGUI.example/"], ("https://yasgui.example",)),
    (["http://localhost:8080", "*"], ("http://localhost:8080", "*")),
    (["http://[::1]:7000"], ("http://[::1]:7000",)),
])
def test_cors_origin_option_takes_origins_as_browsers_send_them(values, expected):
    from kg.cli_server import _origins

    assert _origins(None, None, values) == expected


@pytest.mark.parametrize("value", ["https://yasgui.example/path", "yasgui.example", "null", "ftp://x.example",
                                   "https://x.example?q", "https://"])
def test_a_cors_origin_that_is_not_an_origin_is_a_usage_error(runner, value):
    from kg.cli import cli

    result = runner.invoke(cli, ["serve", "--cors-origin", value])
    assert result.exit_code == 2
    assert "--cors-origin" in result.output and "is not an origin" in result.output


# -- the pages: CSP on every one, links only for http(s) ------------------------------------------
def test_every_response_has_a_content_security_policy():
    page = _handle("/", "")
    assert page.content_type.startswith("text/html") and page.headers["Content-Security-Policy"] == PAGE_CSP
    assert "script-src 'self';" in PAGE_CSP and "unsafe" not in PAGE_CSP and "frame-ancestors 'none'" in PAGE_CSP
    for path, query in (("/sparql", "query=ASK%7B%7D"), ("/queries", ""), ("/nowhere", ""), ("/static/query.js", "")):
        assert _handle(path, query).headers["Content-Security-Policy"] == DATA_CSP


class _MetaCSP(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.policies = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.policies.append(a["content"])


def test_the_graph_page_sends_its_own_policy_as_a_header(sandboxed):
    status, headers, body = fetch(sandboxed + "/viz?focus=Oracle&depth=1")
    assert status == 200
    parser = _MetaCSP()
    parser.feed(body.decode("utf-8"))
    assert len(parser.policies) == 1 and "script-src 'sha256-" in parser.policies[0]
    assert headers["content-security-policy"] == parser.policies[0] + "; frame-ancestors 'none'"


# -- in a browser ---------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def page(sandboxed):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context()  # the page's CSP in force
        pg = context.new_page()
        pg.kg_log = {"console": [], "errors": [], "dialogs": [], "requests": []}
        pg.on("console", lambda m: pg.kg_log["console"].append((m.type, m.text)))
        pg.on("pageerror", lambda e: pg.kg_log["errors"].append(str(e)))
        pg.on("dialog", lambda d: (pg.kg_log["dialogs"].append(d.message), d.dismiss()))
        pg.on("request", lambda r: pg.kg_log["requests"].append(r.url))
        yield pg
        browser.close()


CRAFTED = """SELECT ?js ?upper ?data ?file ?web ?plain WHERE {
  VALUES ?js { <javascript:alert(document.domain)> }
  BIND(IRI("JavaScript:alert(2)") AS ?upper)
  BIND(IRI("data:text/html,x") AS ?data)
  BIND(IRI("file:///etc/passwd") AS ?file)
  BIND(<https://example.org/a?b=1> AS ?web)
  BIND(<http://example.org/p> AS ?plain)
}"""


def test_a_crafted_link_shows_other_schemes_as_text_and_runs_nothing(page, sandboxed):
    resp = page.goto(f"{sandboxed}/?query=" + quote(CRAFTED))
    assert resp.headers["content-security-policy"] == PAGE_CSP
    page.wait_for_selector("#results table td")
    cells = page.locator("#results table tr").nth(1).locator("td")
    texts = [cells.nth(i).inner_text() for i in range(6)]
    assert texts == ["javascript:alert(document.domain)", "JavaScript:alert(2)", "data:text/html,x",
                     "file:///etc/passwd", "https://example.org/a?b=1", "http://example.org/p"]
    links = [cells.nth(i).locator("a") for i in range(6)]
    assert [ln.count() for ln in links] == [0, 0, 0, 0, 1, 1]
    assert [links[i].get_attribute("href") for i in (4, 5)] == ["https://example.org/a?b=1", "http://example.org/p"]
    url = page.url
    for i in range(4):
        cells.nth(i).click()
    time.sleep(0.3)
    assert page.url == url and page.kg_log["dialogs"] == [] and page.kg_log["errors"] == []


def test_the_query_page_works_under_its_policy(page, sandboxed):
    page.goto(sandboxed + "/")
    page.wait_for_selector("#examples button")
    assert page.locator("#examples button").count() == len(json.loads(fetch(sandboxed + "/queries")[2]))
    page.click("#run")
    page.wait_for_selector("#results table td")
    # an inline script is refused by the policy: it does not run
    try:
        page.add_script_tag(content="document.body.dataset.inline = 'ran'")
    except Exception:  # Playwright may report the refusal
        pass
    assert page.locator("body").get_attribute("data-inline") is None
    violations = [t for kind, t in page.kg_log["console"] if "Content Security Policy" in t]
    assert len(violations) == 1 and "inline script" in violations[0]  # that one, and no other
    assert page.kg_log["errors"] == [] and page.kg_log["dialogs"] == []
    assert all(u.startswith(sandboxed) for u in page.kg_log["requests"])


def test_the_graph_page_works_under_its_header_policy(page, sandboxed):
    page.kg_log["console"].clear()
    resp = page.goto(sandboxed + "/viz?focus=Oracle&depth=1")
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    page.wait_for_selector("body[data-stable=true]", timeout=60_000)
    assert [t for kind, t in page.kg_log["console"] if kind in ("error", "warning")] == []
    assert page.locator("#kind-list li").count() > 0
