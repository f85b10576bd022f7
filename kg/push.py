"""``kg push``: write the bundled graph and the user's files into a remote SPARQL store.

Each named graph the local load holds is replaced as a whole with a SPARQL 1.1 Graph Store
HTTP Protocol ``PUT`` (so a second push changes nothing), or, where the store has no Graph Store
endpoint, written with batched ``INSERT DATA`` into a staging graph that is then ``MOVE``-d over
the old one. Counts are checked afterwards. A failure stops the push and says which graphs were
replaced and which were left as they were.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence
from urllib.parse import urlencode

import pyoxigraph as ox

from kg.errors import KGError
from kg.remote import RemoteError, RemoteStore
from kg.vocab import DERIVED_GRAPH, GRAPH, ONTOLOGY_GRAPH

__all__ = ["PushError", "GraphWrite", "push_store", "insert_batches", "DEFAULT_BATCH"]

#: Triples per INSERT DATA request (Virtuoso refuses requests of more than about 1,500).
DEFAULT_BATCH = 1000
#: Graphs of at least this many triples get a line of progress before and after they are written.
LARGE = 10_000
#: Where a graph is staged when it is written with INSERT DATA (then moved over the old one).
STAGING = GRAPH + "staging/"
_NT = "application/n-triples"


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


def push_store(kg, remote: RemoteStore, *, graphs: Sequence[str] = (), batch_size: int = DEFAULT_BATCH,
               progress: Callable[[str], None] | None = None) -> list[GraphWrite]:
    """Write the named graphs of the loaded store ``kg`` to ``remote``; returns one entry per graph.

    Parameters
    ----------
    kg : a :class:`kg.store.KGStore` (from :func:`kg.store.load_store`).
    remote : the target; needs ``remote.graph_store`` (preferred) or ``remote.update_endpoint``.
    graphs : only these named graphs (default: every graph of ``kg``).
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
    say = progress or (lambda line: None)
    if not (remote.graph_store or remote.update_endpoint):
        raise PushError("kg push needs --graph-store (SPARQL 1.1 Graph Store endpoint) or --update-endpoint")
    plan = _plan(kg, remote, graphs)
    sizes = {g: _size(kg, g) for g in plan.graphs}
    total = sum(sizes.values())
    say(f"pushing {len(plan.graphs)} graph(s), {total:,} triples, to {remote.graph_store or remote.update_endpoint}")
    if plan.others:
        say(f"the store also holds {len(plan.others)} other project graph(s): the derived graph is rebuilt on the server")
    done: list[GraphWrite] = []
    put_ok = bool(remote.graph_store)
    written = 0
    for graph in plan.graphs:
        start = time.perf_counter()
        if sizes[graph] >= LARGE:
            say(f"  {graph}: writing {sizes[graph]:,} triples…")
        try:
            method = "insert"
            if put_ok:
                put_ok = _put(kg, remote, graph, sizes[graph])
                method = "put"
            if not put_ok:
                method = "insert"
                _insert(kg, remote, graph, batch_size, say, sizes[graph])
        except (RemoteError, KGError) as exc:
            raise PushError(_failure(graph, exc, done, plan.graphs)) from None
        done.append(GraphWrite(graph, sizes[graph], method, time.perf_counter() - start))
        written += sizes[graph]
        if sizes[graph] >= LARGE or len(plan.graphs) <= 3:
            say(f"  {graph}: {sizes[graph]:,} triples ({method}, {done[-1].seconds:.1f} s); "
                f"{written:,} of {total:,} written")
    if plan.derive_remotely:
        start = time.perf_counter()
        say(f"  {DERIVED_GRAPH}: rebuilding it on the server…")
        try:
            _derive_remotely(remote)
        except (RemoteError, KGError) as exc:
            raise PushError(_failure(DERIVED_GRAPH, exc, done, plan.graphs + [DERIVED_GRAPH], rule=True)) from None
        done.append(GraphWrite(DERIVED_GRAPH, 0, "rule", time.perf_counter() - start))
    _verify(remote, done, sizes, say)
    return done


def _plan(kg, remote: RemoteStore, only: Sequence[str]) -> _Plan:
    local = kg.graphs()
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


def _size(kg, graph: str) -> int:
    return sum(1 for _ in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def _triples(kg, graph: str):
    for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        yield ox.Triple(q.subject, q.predicate, q.object)


def _put(kg, remote: RemoteStore, graph: str, size: int) -> bool:
    """Replace ``graph`` with one PUT; ``False`` when the store has no usable Graph Store endpoint."""
    url = remote.graph_store + ("&" if "?" in remote.graph_store else "?") + urlencode({"graph": graph})
    with tempfile.TemporaryFile() as body:
        kg.store.dump(body, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
        _challenge(remote, url)
        # A store answers a PUT once it has written the whole graph: allow 1 s per 1,000 triples.
        timeout = max(remote.http.timeout, size / 1000)
        status, _, answer = remote.http.request("PUT", url, body=body, headers={"Content-Type": _NT}, timeout=timeout)
    if status in (404, 405, 501) and graph == ONTOLOGY_GRAPH:
        return False  # no Graph Store Protocol here: fall back to INSERT DATA for every graph
    if not 200 <= status < 300:
        message = " ".join(answer.decode("utf-8", errors="replace").split())[:300]
        raise RemoteError(f"PUT {remote.graph_store} answered {status}: {message}")
    return True


def _challenge(remote: RemoteStore, url: str) -> None:
    """Meet the server's authentication challenge with an empty request, so the body is sent once."""
    if remote.http.user is not None and not remote.http.has_challenge(url):
        remote.http.request("HEAD", url)


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


def _verify(remote: RemoteStore, done: list[GraphWrite], sizes: dict[str, int], say) -> None:
    wrong = []
    for w in done:
        w.verified = remote.graph_size(w.graph)
        if w.method != "rule" and w.verified != sizes[w.graph]:
            wrong.append(f"{w.graph}: wrote {sizes[w.graph]:,} triples, the store holds {w.verified:,}")
        if w.method == "rule":
            w.triples = w.verified
    if wrong:
        raise PushError("counts differ after the push:\n" + "\n".join(wrong))
    say(f"verified: {sum(w.verified or 0 for w in done):,} triples in {len(done)} graph(s)")


def _failure(graph: str, exc: Exception, done: list[GraphWrite], planned: list[str], rule: bool = False) -> str:
    replaced = [w.graph for w in done]
    left = [g for g in planned if g not in replaced and g != graph]
    state = ("was dropped and may be incomplete (the rule did not finish)" if rule
             else "was left as it was before the push")
    lines = [f"push stopped at {graph}: {exc}", f"{graph} {state}"]
    lines.append(f"replaced ({len(replaced)}): {', '.join(replaced) or 'none'}")
    lines.append(f"not written ({len(left)}): {', '.join(left) or 'none'}")
    lines.append("run `kg push` again to finish; it replaces whole graphs, so repeating it is safe")
    return "\n".join(lines)
