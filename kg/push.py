"""``kg push``: write the bundled graph and the user's files into a remote SPARQL store.

Each named graph is replaced as a whole with a SPARQL 1.1 Graph Store HTTP Protocol ``PUT``
(so a second push changes nothing), as N-Triples: a user's N-Triples file as it is on disk,
every other graph serialised by Oxigraph. Where the store has no Graph Store endpoint, each graph is
written with batched ``INSERT DATA`` into a staging graph that is then ``MOVE``-d over the old one.

One thread writes, one graph at a time (two PUTs at once that bring the same new IRIs left
Virtuoso 7 waiting on its own locks for good), while the calling thread loads the user's files,
derives the shortcut triples and serialises the next graph. Counts are checked afterwards. A
failure stops the push and says which graphs were replaced and which were left as they were.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence
from urllib.parse import urlencode

import pyoxigraph as ox

from kg.errors import InputError, KGError, ParseError
from kg.remote import RemoteError, RemoteStore
from kg.store import LoadedFile, count_triples, rdf_format, user_graph_iri
from kg.vocab import DERIVED_GRAPH, GRAPH, ONTOLOGY_GRAPH

__all__ = ["DEFAULT_BATCH", "GraphWrite", "PushError", "insert_batches", "push_store"]

#: Triples per INSERT DATA request (Virtuoso refuses requests of more than about 1,500).
DEFAULT_BATCH = 1000
#: Graphs of at least this many triples get a line of progress before and after they are written.
LARGE = 10_000
#: Where a graph is staged when it is written with INSERT DATA (then moved over the old one).
STAGING = GRAPH + "staging/"
#: Bodies are N-Triples. Turtle was a quarter of the bytes and a fresh Virtuoso 7 loaded it
#: 25 % faster, but about one large Turtle PUT in two then never answered (Virtuoso waiting on
#: its own locks); N-Triples never did (docs/benchmarks-stores.md).
_NT = "application/n-triples"
_LEFT = "was left as it was before the push"
_BLANK_DERIVED = f"ASK {{ GRAPH <{DERIVED_GRAPH}> {{ ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }} }}"


class PushError(KGError):
    """A push stopped part-way; the message says exactly what the store now holds."""


@dataclass
class GraphWrite:
    """One named graph written by a push."""

    graph: str
    triples: int
    method: str  # "put", "insert" or "rule" (derived on the server)
    seconds: float
    verified: int | None = None


@dataclass
class _Plan:
    graphs: list[str]
    derive_remotely: bool
    others: list[str] = field(default_factory=list)


def push_store(kg, remote: RemoteStore, *, graphs: Sequence[str] = (), files: Sequence[str | Path] = (),
               batch_size: int = DEFAULT_BATCH, progress: Callable[[str], None] | None = None) -> list[GraphWrite]:
    """Write the named graphs of the loaded store ``kg`` to ``remote``; returns one entry per graph.

    Parameters
    ----------
    kg : a :class:`kg.store.KGStore` (from :func:`kg.store.load_store`); when its derived graph
        is not up to date (``kg.derived`` false, as after ``load_store(derive=False)``), it is
        derived here while the other graphs upload.
    remote : the target; needs ``remote.graph_store`` (preferred) or ``remote.update_endpoint``.
    graphs : only these named graphs (default: every graph of ``kg``).
    files : user files still to load into ``kg`` (``kg push --no-validate``). When all are
        N-Triples, they go to the store as they are while they are parsed here (otherwise they
        are loaded first); a file that cannot be parsed here stops the push, and the message
        says whether the store had taken it.
    batch_size : triples per ``INSERT DATA`` request when there is no Graph Store endpoint.
    progress : called with one line of progress at a time.

    The derived graph (shortcut triples) is written from the local load when the store holds no
    project graphs but the pushed ones; when it holds others (a team sharing one store) or only
    some graphs are pushed, the derivation rule is run on the server instead, over everything.

    Raises
    ------
    PushError
        when a request fails or a count does not match; the message lists the graphs replaced,
        the graph that failed (left as it was) and the graphs not written.
    """
    if not (remote.graph_store or remote.update_endpoint):
        raise PushError("kg push needs --graph-store (SPARQL 1.1 Graph Store endpoint) or --update-endpoint")
    files = [Path(f) for f in files]
    for path in files:  # a missing file or an unknown type is refused before anything is written
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if path.suffix.lower() != ".csv":
            rdf_format(path)
    if files and (graphs or not remote.graph_store or any(p.suffix.lower() != ".nt" for p in files)):
        # Load first, as a validated push does: nothing to overlap, or a file whose graphs are
        # only known once parsed (a dataset names its own), and the plan needs every graph.
        from kg.loading import load_user_files

        load_user_files(kg, files)  # in two phases, as load_store does: the same graphs in any order
        files = []
    push = _Push(kg, remote, graphs, files, progress)
    push.run(batch_size)
    if push.plan.derive_remotely:
        start = time.perf_counter()
        push.say(f"  {DERIVED_GRAPH}: rebuilding it on the server…")
        try:
            _derive_remotely(remote)
        except (RemoteError, KGError) as exc:
            state = "was dropped and may be incomplete (the rule did not finish)"
            raise PushError(_failure([(DERIVED_GRAPH, exc, state)], push.done,
                                     push.plan.graphs + [DERIVED_GRAPH])) from None
        push.done.append(GraphWrite(DERIVED_GRAPH, 0, "rule", time.perf_counter() - start))
    _verify(remote, push.done, push.sizes, push.say, {f.graphs[0]: f for f in kg.files if f.partial})
    return push.done


class _Push:
    """One push: the plan, what is written, the writing thread."""

    def __init__(self, kg, remote: RemoteStore, only: Sequence[str], files: list[Path], progress):
        self.kg, self.remote, self.files = kg, remote, files
        self.say = _serialised(progress)
        # The graphs N-Triples files get are known before parsing them (``files`` holds only those).
        self.targets: dict[Path, str] = {}
        taken = kg._taken_graphs()
        for path in files:
            self.targets[path] = user_graph_iri(path, taken)
            taken.add(self.targets[path])
        # Graph → N-Triples file sent as it is, and the quads kg adds beside it.
        self.raw: dict[str, Path] = {g: p for p, g in self.targets.items()}
        for f in kg.files:
            if f.format == "n-triples" and not f.bundled and len(f.graphs) == 1 and Path(f.path).is_file():
                self.raw[f.graphs[0]] = Path(f.path)
        pending = list(self.raw) + ([DERIVED_GRAPH] if not kg.derived else [])
        self.plan = _plan(kg, remote, only, pending)
        loaded = set(kg.graphs())
        self.sizes = kg.graph_sizes([g for g in self.plan.graphs if g in loaded])
        self.done: list[GraphWrite] = []
        self.failed: list[tuple[str, Exception, str]] = []
        self._bodies: dict = {}  # graph → its N-Triples, serialised ahead while the writer is busy
        self._stop = threading.Event()
        self._lock = threading.Lock()
        known = sum(self.sizes.values())  # the files still to parse are not counted yet
        later = [f"{p.name} ({p.stat().st_size / 1e6:,.0f} MB)" for p in self.targets]
        if not kg.derived and DERIVED_GRAPH in self.plan.graphs:
            later.append("the derived graph")
        self.say(f"pushing {len(self.plan.graphs)} graph(s), {known:,} triples"
                 + (f" and {', '.join(later)} (read as they upload)" if later else "")
                 + f", to {remote.graph_store or remote.update_endpoint}")
        if self.plan.others:
            self.say(f"the store also holds {len(self.plan.others)} other project graph(s): "
                     "the derived graph is rebuilt on the server")
        if kg.derived and DERIVED_GRAPH in self.plan.graphs:
            self._leave_blank_nodes_to_the_store()
            self._raise()

    # -- the order of work --------------------------------------------------------------------------
    def run(self, batch_size: int) -> None:
        graphs = self.plan.graphs
        if self.remote.graph_store and graphs:
            # The first graph alone: it shows whether the store speaks the Graph Store Protocol.
            if graphs[0] == DERIVED_GRAPH:
                self._derive()  # may leave the derived graph to the server (its blank nodes)
                self._raise()
            first = self._write(graphs[0]) if graphs else True
            if self.failed:
                self._raise()
            if first is not False:
                try:
                    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-push") as writer:
                        self._overlapped(writer, graphs[1:])
                finally:
                    for body in self._bodies.values():  # not sent: the push stopped before
                        body.close()
                self._raise()
                return
        self._load()
        self._derive()
        self._raise()
        for graph in list(self.plan.graphs):
            if not any(w.graph == graph for w in self.done):
                self._write(graph, lambda g: self._insert(g, batch_size))
                self._raise()

    def _overlapped(self, writer: ThreadPoolExecutor, graphs: list[str]) -> None:
        """Files sent as they are first (they need no parsing here), then the graphs already
        loaded, then, once the files are loaded, their graphs, and once derived, the derived graph."""
        futures = [writer.submit(self._write, g) for g in graphs if g in self.raw]
        ready = [g for g in graphs if g in self.sizes and g not in self.raw and g != DERIVED_GRAPH]
        futures += [writer.submit(self._write, g) for g in ready]
        try:
            self._load(whole=False)
        except KGError as exc:
            self._stop.set()
            for f in futures:
                f.result()
            raise PushError(_unparsed(exc, [w.graph for w in self.done], self.raw, self.failed)) from None
        for graph in self.raw:
            added = next((f.added for f in self.kg.files if f.graphs == [graph]), [])
            if added and graph in graphs:
                futures.append(writer.submit(self._write, graph, lambda g, q=added: self._post(g, q),
                                             "was replaced by the file, without the source node kg adds to it"))
        futures += [writer.submit(self._write, g) for g in graphs
                    if g not in self.raw and g not in ready and g != DERIVED_GRAPH]
        if DERIVED_GRAPH in graphs and not self._stop.is_set():
            self._derive()  # while the writer is busy, and the derived graph's body too
            if DERIVED_GRAPH in self.plan.graphs and not self._stop.is_set():
                self._bodies[DERIVED_GRAPH] = self._dump(DERIVED_GRAPH)
                futures.append(writer.submit(self._write, DERIVED_GRAPH))
        for f in futures:
            f.result()

    def _load(self, *, whole: bool = True) -> None:
        """Load the files still to load; ``whole=False`` while they upload as they are: only
        the triples the derivation rule reads, the others counted (:meth:`KGStore.load_rule_input`)."""
        counted = {}
        for path in self.files:
            graph = self.targets[path]
            if whole:
                self.kg.load_file(path, graph=graph)
                counted.update(self.kg.graph_sizes([graph]))
            else:
                counted[graph] = self.kg.load_rule_input(path, graph).quads
        self.files = []
        with self._lock:
            self.sizes.update({g: n for g, n in counted.items() if g in self.plan.graphs})

    def _derive(self) -> None:
        if self.kg.derived or DERIVED_GRAPH not in self.plan.graphs:
            return
        start = time.perf_counter()
        self.kg.derive()
        n = self.kg.graph_sizes([DERIVED_GRAPH])[DERIVED_GRAPH]
        with self._lock:
            self.sizes[DERIVED_GRAPH] = n
        self.say(f"  {DERIVED_GRAPH}: {n:,} triples derived ({time.perf_counter() - start:.1f} s)")
        self._leave_blank_nodes_to_the_store()

    def _leave_blank_nodes_to_the_store(self) -> None:
        """A store gives the blank nodes of each request their own identity: sent apart from the
        graphs they come from, derived triples about blank nodes (a relationship node written
        without an IRI, say) would name other nodes. Then the store runs the rule itself."""
        if self.kg.ask(_BLANK_DERIVED):
            with self._lock:
                if not self.remote.update_endpoint:
                    self._stop.set()
                    self.failed.append((DERIVED_GRAPH, KGError(
                        "it links blank nodes of the data (a relationship node without an IRI?), which only "
                        "the store can derive from: that needs --update-endpoint"), _LEFT))
                    return
                self.plan.graphs.remove(DERIVED_GRAPH)
                self.plan.derive_remotely = True
            self.say(f"  {DERIVED_GRAPH}: it links blank nodes of the data, so the store derives it itself")

    # -- one write ----------------------------------------------------------------------------------
    def _write(self, graph: str, how=None, state: str = _LEFT) -> bool | None:
        """Write one graph (``how``: PUT by default); records the result, or the failure and
        ``state`` (what became of the graph), never raises."""
        if self._stop.is_set():
            return None
        raw = how is None and graph in self.raw
        how = how or self._put
        start = time.perf_counter()
        size = self.sizes.get(graph)
        if raw:
            shown = f"{self.raw[graph].name} ({self.raw[graph].stat().st_size / 1e6:,.0f} MB, as it is)"
        else:
            shown = f"{size or 0:,} triples"
        large = raw or (how == self._put and (size or 0) >= LARGE)
        if large:
            self.say(f"  {graph}: writing {shown}…")
        try:
            method = how(graph)
        except (RemoteError, KGError) as exc:
            self._stop.set()
            with self._lock:
                self.failed.append((graph, exc, state))
            return None
        if method is False:
            return False
        seconds = time.perf_counter() - start
        with self._lock:
            earlier = next((w for w in self.done if w.graph == graph), None)
            if earlier is not None:  # the source node added to a graph sent as a file
                earlier.seconds += seconds
                return True
            self.done.append(GraphWrite(graph, size or 0, method, seconds))
        if large or len(self.plan.graphs) <= 3:
            self.say(f"  {graph}: {shown} ({method}, {seconds:.1f} s)")
        return True

    def _raise(self) -> None:
        if self.failed:
            planned = self.plan.graphs + ([DERIVED_GRAPH] if self.plan.derive_remotely else [])
            raise PushError(_failure(self.failed, self.done, planned))

    def _url(self, graph: str) -> str:
        base = self.remote.graph_store
        return base + ("&" if "?" in base else "?") + urlencode({"graph": graph})

    def _put(self, graph: str):
        """Replace ``graph`` with one PUT; ``False`` when the store has no usable Graph Store endpoint."""
        url = self._url(graph)
        if graph in self.raw:
            path = self.raw[graph]
            with path.open("rb") as body:
                status, answer = self._send("PUT", url, body, _NT, path.stat().st_size / 150)
        else:
            with self._bodies.pop(graph, None) or self._dump(graph) as body:
                status, answer = self._send("PUT", url, body, _NT, self.sizes.get(graph, 0))
        if status in (404, 405, 501) and not self.done:
            return False  # no Graph Store Protocol here: fall back to INSERT DATA for every graph
        _check(status, answer, "PUT", self.remote.graph_store)
        return "put"

    def _dump(self, graph: str):
        """``graph`` as N-Triples in a temporary file (deleted when closed)."""
        body = tempfile.TemporaryFile()
        try:
            self.kg.store.dump(body, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
        except BaseException:
            body.close()
            raise
        return body

    def _post(self, graph: str, quads: list) -> str:
        """Add the quads kg put beside a file sent as it is (GSP ``POST`` merges)."""
        body = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
        status, answer = self._send("POST", self._url(graph), body, _NT, len(quads))
        _check(status, answer, "POST", self.remote.graph_store)
        return "put"

    def _send(self, method: str, url: str, body, ctype: str, triples: float):
        # Only the writing thread makes requests while it writes: the store's one connection serves.
        http = self.remote.http
        _challenge(http, url)
        # A store answers once it has written the whole graph: allow 1 s per 1,000 triples.
        timeout = max(http.timeout, triples / 1000)
        status, _, answer = http.request(method, url, body=body, headers={"Content-Type": ctype},
                                               timeout=timeout)
        return status, answer

    def _insert(self, graph: str, batch_size: int) -> str:
        _insert(self.kg, self.remote, graph, batch_size, self.say, self.sizes[graph])
        return "insert"


def _unparsed(exc: Exception, written: list[str], raw: dict[str, Path], failed) -> str:
    """The message when a file sent as it is then fails to parse here."""
    taken = [g for g in written if g in raw]
    lines = [str(exc), "push stopped: nothing more was written"]
    for graph, refusal, state in failed:
        lines.append(f"the store refused {graph} too ({refusal}); {graph} {state}")
    if taken:
        lines.append(f"the store took {', '.join(taken)} from {', '.join(raw[g].name for g in taken)} as sent "
                     "(its own parser accepted the file); the derived graph was not updated")
    others = [g for g in written if g not in raw]
    lines.append(f"replaced before the error ({len(others)}): {', '.join(others) or 'none'}")
    lines.append("fix the file and run `kg push` again; it replaces whole graphs")
    return "\n".join(lines)


def _check(status: int, answer: bytes, method: str, where: str) -> None:
    if not 200 <= status < 300:
        message = " ".join(answer.decode("utf-8", errors="replace").split())[:300]
        raise RemoteError(f"{method} {where} answered {status}: {message}")


def _serialised(progress: Callable[[str], None] | None) -> Callable[[str], None]:
    if progress is None:
        return lambda line: None
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            progress(line)

    return say


def _plan(kg, remote: RemoteStore, only: Sequence[str], pending: Sequence[str] = ()) -> _Plan:
    """``pending``: graphs not loaded yet (files parsed during the push, the derived graph)."""
    local = sorted(set(kg.graphs()) | set(pending))
    unknown = sorted(set(only) - set(local))
    if unknown:
        raise PushError(f"no such graph in the local load: {', '.join(unknown)}; the graphs are: {', '.join(local)}")
    chosen = [g for g in local if not only or g in only]
    remote_graphs = set(remote.graphs())
    others = sorted(remote_graphs - set(local) - {DERIVED_GRAPH} - {g for g in remote_graphs if g.startswith(STAGING)})
    derive_remotely = bool(others) or (bool(only) and DERIVED_GRAPH not in only)
    if derive_remotely:
        chosen = [g for g in chosen if g != DERIVED_GRAPH]
        if not remote.update_endpoint:
            why = "the store holds other project graphs" if others else "only some graphs are pushed"
            raise PushError(f"{why}, so the derived graph must be rebuilt on the server, which needs --update-endpoint")
    # The ontology first (queries need it), the derived graph last (it follows from the others).
    chosen.sort(key=lambda g: (g != ONTOLOGY_GRAPH, g == DERIVED_GRAPH, g))
    return _Plan(chosen, derive_remotely, others)


def _triples(kg, graph: str):
    for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        yield ox.Triple(q.subject, q.predicate, q.object)


def _challenge(http, url: str) -> None:
    """Meet the server's authentication challenge with an empty request, so the body is sent once."""
    if http.user is not None and not http.has_challenge(url):
        http.request("HEAD", url)


def _insert(kg, remote: RemoteStore, graph: str, batch_size: int, say, size: int) -> None:
    """Write ``graph`` into a staging graph in batches of INSERT DATA, then move it over ``graph``."""
    staging = STAGING + hashlib.sha1(graph.encode("utf-8")).hexdigest()[:16]
    target = ox.NamedNode(staging)
    remote.update(f"DROP SILENT GRAPH {target}")
    written, last_report = 0, time.perf_counter()
    try:
        for batch in insert_batches(_triples(kg, graph), batch_size):
            body = " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in batch)
            if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in batch):
                # Virtuoso refuses blank nodes in INSERT DATA; a template makes them afresh, once.
                remote.update(f"INSERT {{ GRAPH {target} {{ {body} }} }} WHERE {{ }}")
            else:
                remote.update(f"INSERT DATA {{ GRAPH {target} {{ {body} }} }}")
            written += len(batch)
            if time.perf_counter() - last_report > 5:
                say(f"  {graph}: {written:,} of {size:,} triples staged")
                last_report = time.perf_counter()
        remote.update(f"MOVE SILENT GRAPH {target} TO GRAPH {ox.NamedNode(graph)}")
    except (RemoteError, KGError):
        try:
            remote.update(f"DROP SILENT GRAPH {target}")
        except (RemoteError, KGError):
            pass
        raise


def insert_batches(triples: Iterable[ox.Triple], size: int) -> Iterable[list[ox.Triple]]:
    """Split ``triples`` into lists of at most ``size``, keeping the triples that share a blank
    node in one list (each INSERT DATA request has its own blank nodes); a group larger than
    ``size`` gets a list of its own."""
    plain: list[ox.Triple] = []
    parent: dict[str, str] = {}

    def find(b: str) -> str:
        while parent.setdefault(b, b) != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    with_blanks: list[tuple[ox.Triple, list[str]]] = []
    for t in triples:
        blanks = [x.value for x in (t.subject, t.object) if isinstance(x, ox.BlankNode)]
        if not blanks:
            plain.append(t)
            if len(plain) == size:
                yield plain
                plain = []
            continue
        for b in blanks[1:]:
            parent[find(b)] = find(blanks[0])
        with_blanks.append((t, blanks))
    groups: dict[str, list[ox.Triple]] = {}
    for t, blanks in with_blanks:
        groups.setdefault(find(blanks[0]), []).append(t)
    batch = plain
    for group in groups.values():
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def _derive_remotely(remote: RemoteStore) -> None:
    from kg.resources import ontology_dir

    remote.update(f"DROP SILENT GRAPH {ox.NamedNode(DERIVED_GRAPH)}")
    remote.update((ontology_dir() / "rules" / "derive.ru").read_text(encoding="utf-8"))


def _verify(remote: RemoteStore, done: list[GraphWrite], sizes: dict[str, int], say,
            lines_counted: dict[str, LoadedFile] | None = None) -> None:
    """Check the store's count of each graph written against ``sizes``. For a file whose triples
    were counted by line (``lines_counted``: graph → file), a difference (a triple repeated in
    the file, a line the store read otherwise) is settled by parsing the whole file."""
    counts = remote.graph_sizes([w.graph for w in done])
    wrong = []
    for w in done:
        w.verified = counts[w.graph]
        loaded = (lines_counted or {}).get(w.graph)
        if loaded is not None and w.verified != sizes[w.graph]:
            name = Path(loaded.path).name
            say(f"  {w.graph}: the store holds {w.verified:,} triples, {sizes[w.graph]:,} counted by line: "
                f"parsing {name} whole…")
            try:
                sizes[w.graph] = count_triples(Path(loaded.path), w.graph, loaded.added)
            except ParseError as exc:
                raise PushError("\n".join([
                    str(exc),
                    f"the store took {w.graph} from {name} as sent (its own parser accepted the file: "
                    f"{w.verified:,} triples) and every graph of the push was written",
                    "fix the file and run `kg push` again; it replaces whole graphs"])) from None
        w.triples = sizes.get(w.graph, w.triples)  # a file sent as it is was counted once loaded
        if w.method != "rule" and w.verified != sizes[w.graph]:
            wrong.append(f"{w.graph}: wrote {sizes[w.graph]:,} triples, the store holds {w.verified:,}")
        if w.method == "rule":
            w.triples = w.verified
    if wrong:
        raise PushError("counts differ after the push:\n" + "\n".join(wrong))
    say(f"verified: {sum(w.verified or 0 for w in done):,} triples in {len(done)} graph(s)")


def _failure(failed: list[tuple[str, Exception, str]], done: list[GraphWrite], planned: list[str]) -> str:
    """What the store holds after a failure: ``failed`` is (graph, error, what became of it)."""
    stopped = [g for g, _, _ in failed]
    replaced = [w.graph for w in done if w.graph not in stopped]
    left = [g for g in planned if g not in replaced and g not in stopped]
    lines = []
    for graph, exc, state in failed:
        lines += [f"push stopped at {graph}: {exc}", f"{graph} {state}"]
    lines.append(f"replaced ({len(replaced)}): {', '.join(replaced) or 'none'}")
    lines.append(f"not written ({len(left)}): {', '.join(left) or 'none'}")
    lines.append("run `kg push` again to finish; it replaces whole graphs, so repeating it is safe")
    return "\n".join(lines)
