"""Conversion of non-USD amounts for the analysis: an explicit table of rates (``--fx FILE``), never a guess.

The analysis sums and compares amounts in US dollars. An amount in another currency is
converted with the rate the user states (with its date and source), or it is an error: it is
never summed with US dollars as if it were one, nor silently dropped.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kg.errors import InputError

__all__ = ["FxRate", "read_fx", "usd_amount", "FX_COLUMNS"]

FX_COLUMNS = ("currency", "usd_per_unit", "date", "source")


@dataclass(frozen=True)
class FxRate:
    """US dollars per one unit of ``currency``, as stated on ``date`` by ``source``."""

    currency: str
    usd_per_unit: Decimal
    date: str
    source: str

    @property
    def basis(self) -> str:
        return f"{self.currency} at {self.usd_per_unit} USD per {self.currency} ({self.date}, {self.source})"


def read_fx(path: str | Path) -> dict[str, FxRate]:
    """The rates of an FX file (columns ``currency,usd_per_unit,date,source``), by currency.

    Raises :class:`InputError` naming the file and line of a bad row.
    """
    from kg.csvdata import text_lines  # UTF-8 checked line by line, binary refused, lines bounded

    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(text_lines(path, handle), strict=True)
        try:
            return _read_rates(path, reader)
        except csv.Error as exc:
            raise InputError(f"{path}:{reader.reader.line_num}: malformed CSV: {exc}") from None


def _read_rates(path: Path, reader) -> dict[str, FxRate]:
    """The rates of the rows ``reader`` reads from an FX file, each row checked."""
    rates: dict[str, FxRate] = {}
    header = [(h or "").strip() for h in reader.fieldnames or []]
    if sorted(header) != sorted(FX_COLUMNS):
        raise InputError(f"{path}:1: the columns of an FX file are {','.join(FX_COLUMNS)}, got {','.join(header)}")
    for raw in reader:
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items()}
        where = f"{path}:{reader.line_num}"
        if not any(row.values()):
            continue
        empty = [c for c in FX_COLUMNS if not row.get(c)]
        if empty:
            raise InputError(f"{where}: column {empty[0]!r} is empty (a rate needs its date and source)")
        cur = row["currency"].upper()
        if not re.fullmatch(r"[A-Z]{3}", cur) or cur == "USD":
            raise InputError(f"{where}: currency {row['currency']!r} is not a three-letter ISO 4217 code other than USD")
        try:
            rate = Decimal(row["usd_per_unit"].replace(",", ""))
        except InvalidOperation:
            rate = Decimal("NaN")
        if not rate.is_finite() or rate <= 0:
            raise InputError(f"{where}: usd_per_unit {row['usd_per_unit']!r} is not a positive number")
        if cur in rates:
            raise InputError(f"{where}: a second rate for {cur}; give one rate per currency")
        rates[cur] = FxRate(cur, rate, row["date"], row["source"])
    return rates


def usd_amount(kg, what: str, value: str | None, currency: str | None) -> tuple[float | None, str | None]:
    """``(amount in USD, basis of the conversion or None)`` of an amount of ``what`` (an IRI).

    A USD amount is itself; another currency is converted with ``kg.fx`` (the ``--fx`` table);
    one without a rate raises :class:`InputError` naming the relationship or figure.
    """
    if value is None or currency is None:
        return None, None
    amount = float(value)
    if not math.isfinite(amount):
        return None, None
    if currency == "USD":
        return amount, None
    rate = (getattr(kg, "fx", None) or {}).get(currency)
    if rate is None:
        raise InputError(f"<{what}> states {value} {currency}, which cannot be summed with US dollars; pass "
                         f"--fx FILE with a {currency} rate (columns {','.join(FX_COLUMNS)}), or state it in USD")
    return amount * float(rate.usd_per_unit), rate.basis
