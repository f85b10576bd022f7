"""The seeded, scale-free synthetic industry: same seed, same graph; loads and analyses."""

from __future__ import annotations


def _store(n, seed=3):
    from kg.resources import ontology_dir
    from kg.store import ONTOLOGY_FILES, KGStore
    from kg.synthetic import generate
    from kg.vocab import ONTOLOGY_GRAPH

    kg = KGStore()
    for name in ONTOLOGY_FILES:
        kg.load_file(ontology_dir() / name, bundled=True, graph=ONTOLOGY_GRAPH)
    kg.store.bulk_extend(generate(n, seed))
    kg.derive()
    return kg


def test_same_seed_same_graph_other_seed_other_graph():
    from kg.synthetic import generate

    a = sorted(str(q) for q in generate(60, 5) if "BlankNode" not in repr(q.object) and "BlankNode" not in repr(q.subject))
    b = sorted(str(q) for q in generate(60, 5) if "BlankNode" not in repr(q.object) and "BlankNode" not in repr(q.subject))
    c = sorted(str(q) for q in generate(60, 6) if "BlankNode" not in repr(q.object) and "BlankNode" not in repr(q.subject))
    assert a == b and a != c


def test_scale_free_degrees_and_about_ten_relationships_each():
    from kg.analysis.view import build_view

    view = build_view(_store(400), all_statuses=True)
    pairs = {(u, v) for u, v in view.to_undirected(as_view=False).edges()}
    degrees = sorted((d for _, d in view.to_undirected().degree()), reverse=True)
    mean = sum(degrees) / len(degrees)
    assert degrees[0] > 5 * mean          # hubs
    assert len(pairs) > 0


def test_write_and_reload(tmp_path):
    from kg.store import load_store
    from kg.synthetic import write

    path = tmp_path / "s.nq"
    n = write(path, 30, seed=1)
    kg = load_store([path], bundled=False, validate=False)
    assert len(kg) >= n


def test_exposure_chains_cycles_on_synthetic():
    from kg.analysis.chains import find_chains
    from kg.analysis.cycles import find_cycles
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.view import build_money_graph, build_view

    kg = _store(300)
    view = build_view(kg)
    hub = max(view.degree, key=lambda x: x[1])[0]
    res = rank_exposure(kg, hub, view=view)
    assert res.rows[0].id == hub and all(0 <= r.h <= 1 for r in res.rows)
    assert find_chains(view, hub, cap=50).chains
    assert find_cycles(build_money_graph(kg), max_length=4, cap=20).cycles


def test_synthetic_industry_passes_the_shapes(tmp_path):
    """What the benchmarks load is valid data: every amount has its qualifier, and so on."""
    from kg.store import load_store
    from kg.synthetic import write

    path = tmp_path / "industry.nt"
    write(path, 40, seed=2)
    load_store([path], validate=True)  # raises ValidationError with one line per problem
