"""The project's namespaces and IRI scheme, defined in one place."""

from __future__ import annotations

__all__ = [
    "BASE", "KG", "KGR", "SRC", "REL", "CLAIM", "PARA", "FIG", "GRAPH", "STD",
    "RDF", "RDFS", "OWL", "XSD", "SKOS", "PROV", "DCTERMS", "SCHEMA", "SH", "WD",
    "PREFIXES", "ONTOLOGY_GRAPH", "ENTITIES_GRAPH", "DERIVED_GRAPH", "ARTICLE_GRAPH",
    "USER_GRAPH_BASE", "StrictNamespace", "OpenNamespace",
]

#: The one base IRI of the project. Every IRI the project mints starts with it.
BASE = "https://w3id.org/ai-capital-kg/"


class OpenNamespace:
    """An IRI prefix; ``NS.term`` and ``NS["term"]`` give the full IRI as a plain string.

    Not a ``str`` subclass on purpose: ``DCTERMS.title`` must be the IRI, not ``str.title``.
    """

    __slots__ = ("_iri",)

    def __init__(self, iri: str):
        self._iri = iri

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._iri + name

    def __getitem__(self, name: str) -> str:
        return self._iri + name

    def __str__(self) -> str:
        return self._iri

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._iri!r})"

    def __add__(self, other: str) -> str:
        return self._iri + other

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._iri)


class StrictNamespace(OpenNamespace):
    """A namespace that fails on a term it does not declare (like rdflib's ``DefinedNamespace``
    with ``_fail = True``), without importing rdflib on the command line's start-up path."""

    __slots__ = ("_terms",)

    def __init__(self, iri: str, terms: str):
        super().__init__(iri)
        self._terms = frozenset(terms.split())

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._terms:
            raise AttributeError(f"term {name!r} is not declared in the {self._iri} vocabulary")
        return self._iri + name

    def __getitem__(self, name: str) -> str:
        return self.__getattr__(name)

    @property
    def terms(self) -> frozenset[str]:
        return self._terms


#: The TBox vocabulary (ontology/ai-capital-kg.ttl and ontology/concepts.ttl).
#: tests/test_vocab.py fails when this list and the ontology disagree.
KG = StrictNamespace(BASE + "ontology#", """
    APIDependence About Acquisition AcquisitionChannel Actor ActorGroup Analogy AnalogyChannel
    ApiChannel ArticleLayer ArticleSectionScheme AsHighAs AtLeast BodyParagraph BulletParagraph
    CapacityPurchase Certain ChannelScheme ChipSupply Claim ClaimKindScheme
    CloudServicesPurchase Committed Company Competition CompetitionChannel ComputeContract
    Conditional ContextDealsOpenAI ContextDealsWinners ContextLayer ContextSectionScheme
    ContextSizes ContextSupplyChain DominoScenario DominoStage EffectScheme Ended EquityChannel
    EquityInvestment Estimate Exact Fact FeedbackLoop FinancialFigure Foreseeable FundingChannel
    FundingCommitment FundingRound Future OperatingIncome OperatingLoss NetLoss CashBurn TotalAssets TotalLiabilities ComputeCommitments RevenueRunRate HeadingParagraph HedgeScheme HighlyLikely Historical
    HistoricalAnalogy Hypothetical ImpactAssessment InForce Intended LayerScheme LicenceChannel
    LoopStep Loser Manufacturing MarketValue MetadataParagraph MetricScheme Mixed Negative
    Opinion Paragraph ParagraphKindScheme Platform Positive Possible Prediction Product
    QualifierScheme Question Range Recommendation Relationship RelationshipKind
    RelationshipKindScheme RelativeWinner ReferenceLayer RemainingPerformanceObligations Reported Revenue
    RevenueChannel RevenueShare Scenario SectionConclusion SectionIntro SectionTruth1
    SectionTruth2 SectionTruth3 SectionTruth4 Source Stake StatusScheme StockholdersEquity
    SupplyChannel TechnologyLicence TitleParagraph Unstated UpTo UserLayer UserSection Valuation
    VerdictScheme Warrant Will about acquiree acquirer acquires affects amount amountText
    analogue assessedActor buysFrom capacityGW channel cites claimKind comparedTo consequence
    customer dependent dependsOnAPI excerpt figureOf fromRole hasMember hasStage hasStep hedge
    hedgeText inParagraph inScenario incumbent investee investor investsIn kind layer leadsTo
    licensee licensesFrom licensor lineNumber longTermEffect longTermText mayWinCustomersFrom
    mechanism memberOf metric moneyFromRole moneyToRole namedGraph nextStage operatedBy order
    paragraphKind party payee payer paysTo period provider qualifier quantity rationale
    relatedTo sameDealAs section sharesRevenueWith shockedActor shortTermEffect shortTermText
    shortcut status subject substitute supplier supports text toRole verdict via wikidata
    BasisScheme BiggestLoser BiggestWinner CapitalReallocation ConditionalScenario HardwareSupply
    Interpretation ModelServicesPurchase RightOfFirstRefusal SharePriceDecline ShareSale
    SuperlativeScheme boundsBasis capitalDestination capitalOrigin condition drawsCapitalFrom grantor
    grantsRightOfFirstRefusalTo rightHolder superlative
""")

KGR = OpenNamespace(BASE + "resource/")          # actors and structural nodes
SRC = OpenNamespace(BASE + "resource/source/")   # sources
REL = OpenNamespace(BASE + "resource/rel/")      # qualified relationships
CLAIM = OpenNamespace(BASE + "resource/claim/")  # claims
PARA = OpenNamespace(BASE + "resource/paragraph/")  # paragraphs of sources
FIG = OpenNamespace(BASE + "resource/figure/")   # financial figures
GRAPH = OpenNamespace(BASE + "graph/")           # named graphs

ONTOLOGY_GRAPH = GRAPH + "ontology"
ENTITIES_GRAPH = GRAPH + "entities"
DERIVED_GRAPH = GRAPH + "derived"
ARTICLE_GRAPH = GRAPH + "article"
USER_GRAPH_BASE = GRAPH + "user/"

RDF = OpenNamespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = OpenNamespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = OpenNamespace("http://www.w3.org/2002/07/owl#")
XSD = OpenNamespace("http://www.w3.org/2001/XMLSchema#")
SKOS = OpenNamespace("http://www.w3.org/2004/02/skos/core#")
PROV = OpenNamespace("http://www.w3.org/ns/prov#")
DCTERMS = OpenNamespace("http://purl.org/dc/terms/")
SCHEMA = OpenNamespace("https://schema.org/")
SH = OpenNamespace("http://www.w3.org/ns/shacl#")
WD = OpenNamespace("http://www.wikidata.org/entity/")

#: Prefixes used in exports, docs and the query page.
PREFIXES = {
    "kg": str(KG), "kgr": str(KGR), "src": str(SRC), "rel": str(REL), "claim": str(CLAIM),
    "para": str(PARA), "fig": str(FIG), "rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL),
    "xsd": str(XSD), "skos": str(SKOS), "prov": str(PROV), "dcterms": str(DCTERMS),
    "schema": str(SCHEMA), "sh": str(SH), "wd": str(WD),
}

#: Namespaces whose terms the project may use without declaring them.
STD = (str(RDF), str(RDFS), str(OWL), str(XSD), str(SKOS), str(PROV), str(DCTERMS), str(SCHEMA), str(SH))
