"""Read the documented CSV format for relationships (one row per relationship) into quads."""

from __future__ import annotations

import csv
import datetime
import difflib
import re
import urllib.parse
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterator

import pyoxigraph as ox

from kg.errors import InputError
from kg.vocab import DCTERMS, KG, KGR, RDF, RDFS, REL, SCHEMA, SRC, XSD

__all__ = ["csv_to_quads", "text_lines", "check_header", "checked_rows", "CSV_COLUMNS", "REQUIRED_COLUMNS", "KINDS", "QUALIFIERS", "STATUSES"]

#: Columns of the relationship CSV (docs/cli.md documents them); ``from`` and ``to`` are the
#: parties in the direction of the kind's shortcut (investor → investee, customer → supplier,
#: licensee → licensor, payer → payee, dependent → provider, acquirer → acquiree,
#: substitute → incumbent, subject → analogue).
CSV_COLUMNS = ("from", "to", "kind", "amount", "currency", "qualifier", "date", "source_title", "source_url",
               "status", "label") + ("id", "same_deal_as", "part_of")  # the last three: kg.restatements
REQUIRED_COLUMNS = ("from", "to", "kind", "source_title")

KINDS = {
    "equity-investment": KG.EquityInvestment, "funding-commitment": KG.FundingCommitment, "stake": KG.Stake,
    "warrant": KG.Warrant, "cloud-services": KG.CloudServicesPurchase, "compute-contract": KG.ComputeContract,
    "capacity-purchase": KG.CapacityPurchase, "chip-supply": KG.ChipSupply, "manufacturing": KG.Manufacturing,
    "licence": KG.TechnologyLicence, "revenue-share": KG.RevenueShare, "api-dependence": KG.APIDependence,
    "acquisition": KG.Acquisition, "competition": KG.Competition, "analogy": KG.HistoricalAnalogy,
}
#: kind → (from-role, to-role), as declared by kg:fromRole / kg:toRole in ontology/concepts.ttl.
ROLES = {
    KG.EquityInvestment: (KG.investor, KG.investee), KG.FundingCommitment: (KG.investor, KG.investee),
    KG.Stake: (KG.investor, KG.investee), KG.Warrant: (KG.investor, KG.investee),
    KG.CloudServicesPurchase: (KG.customer, KG.supplier), KG.ComputeContract: (KG.customer, KG.supplier),
    KG.CapacityPurchase: (KG.customer, KG.supplier), KG.ChipSupply: (KG.customer, KG.supplier),
    KG.Manufacturing: (KG.customer, KG.supplier), KG.TechnologyLicence: (KG.licensee, KG.licensor),
    KG.RevenueShare: (KG.payer, KG.payee), KG.APIDependence: (KG.dependent, KG.provider),
    KG.Acquisition: (KG.acquirer, KG.acquiree), KG.Competition: (KG.substitute, KG.incumbent),
    KG.HistoricalAnalogy: (KG.subject, KG.analogue),
}
QUALIFIERS = {"exact": KG.Exact, "about": KG.About, "up-to": KG.UpTo, "at-least": KG.AtLeast,
              "reported": KG.Reported, "as-high-as": KG.AsHighAs, "range": KG.Range}
STATUSES = {"in-force": KG.InForce, "committed": KG.Committed, "intended": KG.Intended,
            "hypothetical": KG.Hypothetical, "historical": KG.Historical, "ended": KG.Ended}

_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
#: The longest field, in bytes of UTF-8 (Python's csv module refuses longer fields by default too).
MAX_FIELD_BYTES = 128 * 1024
#: The longest physical line read at once (32 fields at their longest), so that a file without
#: line breaks is never read whole.
MAX_LINE_BYTES = 4 * 1024 * 1024
#: Amounts are below this (in currency units): a bound far above any deal (world GDP is about
#: 10^14 USD) that keeps every amount a finite float for the analyses and pages.
MAX_AMOUNT = Decimal(10) ** 18
#: Characters that plain text never holds (C0 controls but tab and line breaks, and DEL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: An http(s) URL without the characters an IRI may not hold (RFC 3987: space, "<>{}|\\^`).
_URL = re.compile(r"https?://[^\s\"<>{}|\\^`\x00-\x1f\x7f]+")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _pick(table: dict, value: str, what: str, where: str) -> str:
    key = value.strip().casefold().replace("_", "-").replace(" ", "-")
    if key in table:
        return table[key]
    near = difflib.get_close_matches(key, list(table), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(near)}?" if near else f"; expected one of {', '.join(table)}"
    raise InputError(f"{where}: unknown {what} {value!r}{hint}")


def csv_to_quads(path: Path, graph: str, resolve: Callable[[str], str | None] | None = None) -> list[ox.Quad]:
    """The relationships of a CSV file as quads in ``graph``.

    ``resolve(name)`` maps a party's name to a known entity IRI (or ``None``); unknown parties
    become new actors under ``kgr:user/`` labelled with the name as written.
    Raises :class:`InputError` naming the file and line of the first bad row.
    """
    path = Path(path)
    g = _n(graph)
    slug = graph.rsplit("/", 1)[-1]
    quads: list[ox.Quad] = []
    add = lambda s, p, o: quads.append(ox.Quad(s, _n(p), o, g))  # noqa: E731
    sources: dict[tuple[str, str], ox.NamedNode] = {}
    actors: dict[str, ox.NamedNode] = {}
    file_source = _n(f"{SRC}user-{slug}")
    add(file_source, RDF.type, _n(KG.Source))
    add(file_source, DCTERMS.title, ox.Literal(path.name))
    add(file_source, KG.layer, _n(KG.UserLayer))
    add(file_source, KG.namedGraph, g)
    with _rows(path) as rows:
        for index, (line, row) in enumerate(rows, start=1):
            where = f"{path}:{line}"
            if not any(row.values()):
                continue
            for col in REQUIRED_COLUMNS:
                if not row.get(col):
                    raise InputError(f"{where}: column {col!r} is empty")
            kind = _pick(KINDS, row["kind"], "kind", where)
            from_role, to_role = ROLES[kind]
            rel = _n(f"{REL}{slug}-{index}")
            add(rel, RDF.type, _n(KG.Relationship))
            add(rel, KG.kind, _n(kind))
            for role, name in ((from_role, row["from"]), (to_role, row["to"])):
                add(rel, role, _actor(name, resolve, actors, add))
            label = row.get("label") or f"{row['from']} {row['kind']} {row['to']}"
            add(rel, RDFS.label, ox.Literal(label, language="en"))
            if row.get("amount"):
                _amount(rel, row, where, add)
            if row.get("status"):
                add(rel, KG.status, _n(_pick(STATUSES, row["status"], "status", where)))
            if row.get("date"):
                dtype = _date(row["date"], where)
                add(rel, DCTERMS.date, ox.Literal(row["date"], datatype=_n(dtype)))
            key = (row["source_title"], row.get("source_url", ""))
            if key not in sources:
                src = _n(f"{SRC}{slug}-{len(sources) + 1}")
                sources[key] = src
                add(src, RDF.type, _n(KG.Source))
                add(src, DCTERMS.title, ox.Literal(key[0]))
                add(src, KG.layer, _n(KG.UserLayer))
                add(file_source, DCTERMS.references, src)
                if key[1]:
                    add(src, SCHEMA.url, _source_url(key[1], where))
            add(rel, DCTERMS.source, sources[key])
    return quads


@contextmanager
def _rows(path: Path) -> Iterator[Iterator[tuple[int, dict[str, str]]]]:
    """The data rows of ``path`` as ``(line, {column: stripped value})``, after checking the
    header; raises :class:`InputError` naming the file and line of the first unusable byte,
    field or row (not UTF-8, binary, a field over :data:`MAX_FIELD_BYTES`, more fields than
    columns, a column named twice, broken quoting)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    with handle:
        yield _parse_rows(path, handle)


def _parse_rows(path: Path, handle) -> Iterator[tuple[int, dict[str, str]]]:
    return checked_rows(path, handle, CSV_COLUMNS, REQUIRED_COLUMNS, "columns are")


def checked_rows(path: Path, handle, known, required, what: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a CSV file whose header :func:`check_header` accepts, every field checked
    (size, control characters), no extra fields, quoting strict; errors name FILE:LINE."""
    reader = csv.reader(text_lines(path, handle), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        check_header(path, header, known, required, what)
        for fields in reader:
            where = f"{path}:{reader.line_num}"
            for column, value in zip(header, fields):
                _check_field(value, column, where)
            extra = [v for v in fields[len(header):] if v.strip()]
            if extra:
                raise InputError(f"{where}: {len(fields)} fields but the header names {len(header)} columns "
                                 f"(first extra field {_short(extra[0])})")
            yield reader.line_num, {c: v.strip() for c, v in zip(header, fields)}
    except csv.Error as exc:
        message = str(exc)
        if "field limit" in message:
            message = f"a field is longer than {MAX_FIELD_BYTES // 1024} KiB"
        raise InputError(f"{path}:{reader.line_num}: malformed CSV: {message}") from None


def text_lines(path: Path, handle) -> Iterator[str]:
    """The lines of a binary file as UTF-8 text (a leading byte-order mark dropped), each line
    read with a bound so that a file without line breaks is not read whole into memory."""
    line = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        line += 1
        if len(raw) > MAX_LINE_BYTES:
            raise InputError(f"{path}:{line}: line longer than {MAX_LINE_BYTES >> 20} MiB (is this a CSV file?)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte "
                             f"{exc.start + 1} of the line); save the file as UTF-8") from None
        if "\x00" in text:
            raise InputError(f"{path}:{line}: a NUL byte: this is a binary file, not CSV text")
        yield text[1:] if line == 1 and text.startswith("\ufeff") else text


def check_header(path: Path, header: list[str], known, required, what: str) -> None:
    """Refuse an empty header, a column without a name, twice or unknown, or a required one missing
    (``what`` introduces the list of known columns in the message)."""
    columns = ", ".join(known)
    if not header:
        raise InputError(f"{path}:1: no header row; {what} {columns}")
    for i, name in enumerate(header):
        _check_field(name, f"#{i + 1}", f"{path}:1")
        if not name:
            raise InputError(f"{path}:1: column {i + 1} of the header has no name; {what} {columns}")
        if name in header[:i]:
            raise InputError(f"{path}:1: column {name!r} appears twice (columns {header.index(name) + 1} and {i + 1})")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"{path}:1: missing column(s) {', '.join(missing)}; {what} {columns}")
    unknown = [c for c in header if c not in known]
    if unknown:
        raise InputError(f"{path}:1: unknown column(s) {', '.join(unknown)}; {what} {columns}")


def _check_field(value: str, column: str, where: str) -> None:
    if len(value) > MAX_FIELD_BYTES // 4 and len(value.encode("utf-8")) > MAX_FIELD_BYTES:
        raise InputError(f"{where}: column {column!r} is longer than {MAX_FIELD_BYTES // 1024} KiB")
    bad = _CONTROL.search(value)
    if bad:
        raise InputError(f"{where}: column {column!r} holds the control character U+{ord(bad.group()):04X} "
                         "(is this a binary file?)")


def _short(value: str, width: int = 40) -> str:
    value = value.strip()
    return repr(value if len(value) <= width else value[:width] + "…")


def _date(text: str, where: str) -> str:
    """The XSD datatype of a ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` date that exists."""
    if not _DATE.fullmatch(text):
        raise InputError(f"{where}: date {_short(text)} is not YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in text.split("-")]
    try:
        datetime.date(parts[0], *(parts[1:] + [1, 1])[:2])
    except ValueError as exc:
        raise InputError(f"{where}: date {text!r} does not exist ({exc})") from None
    return {1: XSD.gYear, 2: XSD.gYearMonth, 3: XSD.date}[len(parts)]


def _source_url(url: str, where: str) -> ox.NamedNode:
    """An http(s) URL as an IRI node, refused unless it is one that Oxigraph and every RDF
    syntax accept as written."""
    try:
        if not _URL.fullmatch(url) or not urllib.parse.urlsplit(url).hostname:
            raise ValueError
        return _n(url)
    except ValueError:
        raise InputError(f"{where}: source_url {_short(url)} is not an http(s) URL (percent-encode spaces, "
                         "quotes and braces)") from None


def _actor(name: str, resolve, actors: dict, add) -> ox.NamedNode:
    iri = resolve(name) if resolve else None
    if iri:
        return _n(iri)
    if name not in actors:
        node = _n(KGR + "user/" + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "actor"))
        actors[name] = node
        add(node, RDF.type, _n(KG.Company))
        add(node, RDFS.label, ox.Literal(name, language="en"))
        add(node, RDFS.label, ox.Literal(name, language="zh-Hant"))
    return actors[name]


def _amount(rel, row: dict, where: str, add) -> None:
    try:
        value = Decimal(row["amount"].replace(",", "").replace("_", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise InputError(f"{where}: amount {_short(row['amount'])} is not a number "
                         "(write 300000000000, not US$300B)")
    if value < 0:
        raise InputError(f"{where}: amount must not be negative")
    if value >= MAX_AMOUNT:
        raise InputError(f"{where}: amount {_short(row['amount'])} is not below 10^18 (is it in currency units?)")
    value = value.copy_abs()  # -0 becomes 0
    currency = (row.get("currency") or "USD").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InputError(f"{where}: currency {row.get('currency')!r} is not a three-letter ISO 4217 code")
    amount = ox.BlankNode()
    add(rel, KG.amount, amount)
    add(amount, RDF.type, _n(SCHEMA.MonetaryAmount))
    add(amount, SCHEMA.value, ox.Literal(format(value, "f"), datatype=_n(XSD.decimal)))
    add(amount, SCHEMA.currency, ox.Literal(currency))
    qualifiers = [q for q in re.split(r"[;|]", row.get("qualifier") or "exact") if q.strip()]
    for q in qualifiers:
        add(amount, KG.qualifier, _n(_pick(QUALIFIERS, q, "qualifier", where)))
