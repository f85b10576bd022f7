"""The analysis model's parameters, read from data/model/model.trig through named queries.

The model graph is read from the loaded store when it holds <https://w3id.org/ai-capital-kg/graph/model>
(once the loader loads data/model/), else from a small store of its own, so that loading the
parameters never changes the user's dataset.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

from kg.analysis.debtrank import DEFAULT_METHOD
from kg.errors import InputError
from kg.vocab import BASE, GRAPH, ONTOLOGY_GRAPH, StrictNamespace

__all__ = ["KGM", "MODEL_GRAPH", "Model", "Scenario", "Term", "load_model", "read_weights", "model_path", "model_files",
           "channel_key"]

#: Terms of the analysis model (declared in ontology/model.ttl).
KGM = StrictNamespace(BASE + "model#", """
    Model StatusFactor QualitativeWeight SizeMetric Parameter Scenario MembershipChannel ContractTerm
    status factor channel kind weight metric rank name value order future shock severity method
    include onlyChannel scale gain actor low high asOf relationship start end years basis ChannelStage stage
    nonEconomic
""")
MODEL_GRAPH = GRAPH + "model"


def channel_key(key: str | None, concept: str | None) -> str:
    """A channel's notation (``funding``), or its local name without ``Channel`` lower-cased."""
    if key:
        return str(key)
    local = (concept or "").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return local.removesuffix("Channel").lower()


@dataclass(frozen=True)
class Scenario:
    """One parameterised run: a shock, which channels carry it, and what changes."""

    iri: str
    order: int
    label: str
    comment: str
    future: str | None
    shock: str
    severity: float
    method: str = DEFAULT_METHOD
    include: tuple[str, ...] = ()
    only_channels: tuple[str, ...] = ()
    scale: tuple[tuple[str, float], ...] = ()
    gains: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Term:
    """When a relationship's payments run (data/model/terms.trig): ``start`` and ``end`` dates
    (or None), ``years`` (None: the default term), the range of years the bands sample, and
    ``basis`` ("stated" or "assumed")."""

    iri: str
    start: object = None
    end: object = None
    years: float | None = None
    low: float | None = None
    high: float | None = None
    basis: str = "assumed"
    comment: str = ""


@dataclass
class Model:
    """Status factors, qualitative weights, size metrics, scalar parameters and scenarios.

    ``weights`` maps a channel notation (``"api"``) to the weight used where the graph gives no
    amount; ``kind_weights`` maps ``(channel, kind local name)`` to an override.
    """

    status_factor: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    kind_weights: dict[tuple[str, str], float] = field(default_factory=dict)
    size_metrics: list[str] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)
    #: (low, high) of a parameter, a weight (``("weight", channel, kind)``) or a status factor
    #: (``("status", notation)``), where the model gives one.
    ranges: dict = field(default_factory=dict)
    terms: dict[str, Term] = field(default_factory=dict)
    as_of: object = None
    #: channel → the article's domino stage its losses belong to (kgm:ChannelStage)
    stages: dict[str, int] = field(default_factory=dict)
    #: actors whose claims the model does not treat as economic (kgm:nonEconomic), with no channel
    non_economic: set = field(default_factory=set)

    def factor(self, status: str | None) -> float:
        """How much a relationship of this status counts (1 when it has none)."""
        if status is None:
            return 1.0
        return self.status_factor.get(status, 1.0)

    def weight(self, channel: str, kind: str | None = None) -> float:
        if kind and (channel, kind) in self.kind_weights:
            return self.kind_weights[(channel, kind)]
        return self.weights.get(channel, 0.0)

    def param(self, name: str, default: float | None = None) -> float:
        """A scalar parameter of data/model/model.trig (a missing one is an error unless a
        caller passes the value of an older model file as ``default``)."""
        if name not in self.params:
            if default is None:
                raise InputError(f"{model_path()}: the model has no parameter {name!r}")
            return float(default)
        return float(self.params[name])

    def param_range(self, name: str) -> tuple[float, float]:
        """The range the bands sample for a parameter (its value twice when it is fixed)."""
        v = self.param(name)
        return self.ranges.get(("param", name), (v, v))

    def weight_range(self, channel: str, kind: str | None = None) -> tuple[float, float]:
        w = self.weight(channel, kind)
        if kind and ("weight", channel, kind) in self.ranges:
            return self.ranges[("weight", channel, kind)]
        return self.ranges.get(("weight", channel, None), (w, w))

    def factor_range(self, status: str | None) -> tuple[float, float]:
        f = self.factor(status)
        return self.ranges.get(("status", status), (f, f))

    def with_weights(self, overrides: dict[tuple[str, str | None], float]) -> "Model":
        """A copy with qualitative weights overridden (``(channel, kind or None) → weight``)."""
        weights, kinds = dict(self.weights), dict(self.kind_weights)
        for (channel, kind), w in overrides.items():
            if kind:
                kinds[(channel, kind)] = w
            else:
                weights[channel] = w
        return replace(self, weights=weights, kind_weights=kinds)


def model_path() -> Path:
    from kg.resources import data_dir

    return data_dir() / "model" / "model.trig"


def model_files() -> list[Path]:
    """Every file of data/model/ (model.trig first: parameters, then terms.trig)."""
    return sorted(model_path().parent.glob("*.trig"), key=lambda p: (p.name != "model.trig", p.name))


def _model_store(kg):
    """The store holding the model graph: ``kg`` itself when it has it, else a small store of
    the ontology and data/model/*.trig (kept apart so that the user's dataset is untouched)."""
    if kg is not None and MODEL_GRAPH in kg.graphs():
        return kg
    from kg.resources import ontology_dir
    from kg.store import ONTOLOGY_FILES, KGStore

    store = KGStore()
    for name in ONTOLOGY_FILES + ("model.ttl",):
        store.load_file(ontology_dir() / name, bundled=True, graph=ONTOLOGY_GRAPH)
    for path in model_files():
        store.load_file(path, bundled=True)
    return store


def load_model(kg=None, weights_file: str | Path | None = None) -> Model:
    """The model's parameters (cached on ``kg``), with ``weights_file`` overriding the weights.

    Examples
    --------
    >>> m = load_model()
    >>> m.weight("api"), m.factor("hypothetical")
    (0.5, 0.0)
    """
    cached = getattr(kg, "_analysis_model", None) if kg is not None else None
    if cached is None:
        cached = _read_model(_model_store(kg))
        if kg is not None:
            try:
                kg._analysis_model = cached
            except AttributeError:
                pass
    if not weights_file:
        return cached
    overrides = read_weights(weights_file)
    unknown = sorted({c for c, _ in overrides} - set(cached.weights))
    if unknown:
        raise InputError(f"{weights_file}: unknown channel(s) {', '.join(unknown)}; "
                         f"expected one of {', '.join(sorted(cached.weights))}")
    return cached.with_weights(overrides)


def _read_model(store) -> Model:
    from kg.queries import load_query

    model = Model()
    metrics: list[tuple[float, str]] = []
    for r in store.select(load_query("analysis-model").text):
        what = r["what"]
        if what == "as-of":
            model.as_of = _date(r["value"])
            continue
        if what == "non-economic":
            model.non_economic.add(r["concept"])
            continue
        if what == "stage":
            model.stages[channel_key(r["key"], r["concept"])] = int(float(r["value"]))
            continue
        value = float(r["value"])
        rng = (float(r["low"]), float(r["high"])) if r.get("low") is not None and r.get("high") is not None else None
        if what == "status":
            model.status_factor[r["key"]] = value
            key = ("status", r["key"])
        elif what == "weight":
            channel = channel_key(r["key"], r["concept"])
            kind = r["kind"].rsplit("#", 1)[-1] if r["kind"] else None
            if kind:
                model.kind_weights[(channel, kind)] = value
            else:
                model.weights[channel] = value
            key = ("weight", channel, kind)
        elif what == "size-metric":
            metrics.append((value, r["key"]))
            key = None
        else:
            model.params[r["key"]] = value
            key = ("param", r["key"])
        if rng and key:
            model.ranges[key] = rng
    model.size_metrics = [m for _, m in sorted(metrics)]
    model.scenarios = _read_scenarios(store)
    model.terms = _read_terms(store)
    return model


def _date(value):
    """An xsd:date (or gYear) literal's value as a ``datetime.date``."""
    import datetime as dt

    if isinstance(value, dt.date):
        return value
    text = str(value)
    if len(text) == 4:
        return dt.date(int(text), 1, 1)
    return dt.date.fromisoformat(text[:10])


def _read_terms(store) -> dict[str, Term]:
    from kg.queries import load_query

    out: dict[str, Term] = {}
    for r in store.select(load_query("analysis-model-terms").text):
        num = lambda k: float(r[k]) if r.get(k) is not None else None  # noqa: E731
        out[r["rel"]] = Term(r["term"], _date(r["start"]) if r.get("start") else None,
                             _date(r["end"]) if r.get("end") else None, num("years"), num("low"), num("high"),
                             r.get("basis") or "assumed", r.get("comment") or "")
    return out


def _read_scenarios(store) -> list[Scenario]:
    from kg.queries import load_query

    found: dict[str, dict] = {}
    for r in store.select(load_query("analysis-scenarios").text):
        s = found.setdefault(r["scenario"], {
            "iri": r["scenario"], "order": int(r["order"]), "label": r["label"] or r["scenario"],
            "comment": r["comment"] or "", "future": r["future"], "shock": r["shock"],
            "severity": float(r["severity"]), "method": r["method"] or DEFAULT_METHOD,
            "include": [], "only_channels": [], "scale": [], "gains": [],
        })
        setting, target = r["setting"], r["target"]
        if setting == "include":
            s["include"].append(target)
        elif setting == "only":
            s["only_channels"].append(channel_key(r["targetKey"], target))
        elif setting == "scale":
            key = channel_key(r["targetKey"], target)
            s["scale"].append((key, float(r["factor"])) if not r.get("actor") else (key, float(r["factor"]), r["actor"]))
        elif setting == "gain":
            s["gains"].append((target, float(r["factor"])))
    out = []
    for s in found.values():
        out.append(Scenario(**{k: tuple(sorted(set(v))) if isinstance(v, list) else v for k, v in s.items()}))
    return sorted(out, key=lambda s: s.order)


def read_weights(path: str | Path | None) -> dict[tuple[str, str | None], float]:
    """Read a user's weights file: CSV with columns ``channel,kind,weight`` (``kind`` may be
    empty; a kind is its local name, e.g. ``Stake``). Weights must lie in [0, 1]."""
    if not path:
        return {}
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    out: dict[tuple[str, str | None], float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"channel", "weight"} <= {f.strip() for f in reader.fieldnames}:
            raise InputError(f"{path}: expected a CSV header with columns channel,kind,weight")
        for n, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            try:
                w = float(row["weight"])
            except ValueError:
                raise InputError(f"{path}:{n}: weight {row['weight']!r} is not a number") from None
            if not 0.0 <= w <= 1.0:
                raise InputError(f"{path}:{n}: weight {w} is outside [0, 1]")
            if not row["channel"]:
                raise InputError(f"{path}:{n}: empty channel")
            out[(row["channel"], row.get("kind") or None)] = w
    return out
