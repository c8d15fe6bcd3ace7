"""Facts about the UCI Wholesale customers data set, shared by the pipeline and the API (no heavy imports)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

#: Codes and names of the external labels (UCI documentation of the data set).
LABEL_CODES: dict[str, dict[int, str]] = {
    "Channel": {1: "Horeca", 2: "Retail"},
    "Region": {1: "Lisbon", 2: "Oporto", 3: "Other"},
}
#: Spelled-out names accepted as aliases for the data set's own column names.
COLUMN_ALIASES = {"Delicatessen": "Delicassen"}
#: Plain-language names of the spending categories (the data set spells one "Delicassen").
CATEGORY_NAMES = {
    "Fresh": "fresh food",
    "Milk": "milk products",
    "Grocery": "groceries",
    "Frozen": "frozen food",
    "Detergents_Paper": "detergents and paper",
    "Delicassen": "delicatessen",
}

#: Separators a customers' CSV may use (spreadsheets in many locales write ";"), told apart by the header line.
CSV_DELIMITERS = (",", ";", "\t")


def header_delimiter(header: str) -> str:
    """The separator of a CSV file from its header line: the one of :data:`CSV_DELIMITERS` it holds most of (a
    comma on a tie)."""
    return max(CSV_DELIMITERS, key=header.count)


#: A number as a data file writes it, for the pipeline and the API alike: ASCII digits with an optional sign, decimal
#: point and exponent (``12669``, ``-5``, ``2.5``, ``.5``, ``1e3``), as pyarrow's reader takes them. Python's
#: ``float()`` reads more (``1_000``, full-width ``１２``, Arabic-Indic ``٣``), which no spreadsheet writes for a
#: number. Grouped digits (``12,669``) are refused too: in Portugal ``12,669`` is twelve and a bit. The staff page
#: reads grouped amounts as typed (``api/web/src/format.js``); ``tests/number_syntax.json`` holds the cases both share.
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Spellings of infinity and NaN: read as such, so that they are refused as not finite rather than as text.
NOT_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
#: How :data:`NUMBER` is put to someone whose text it refused.
NUMBER_RULE = "write digits, with a point for decimals and no thousands separators"


#: Digits grouped in threes by points (``1.200``, ``12.669``): thousands as Portugal and much of Europe write them (a
#: spreadsheet saving cells as shown), or a decimal point. Read as a number, ``12.669`` would be a customer a thousand
#: times smaller without a word, so the pipeline's raw data and the API's CSV cells refuse such a spending with both
#: readings, as the staff page asks about such an amount typed in its form (``DOT_GROUPED`` in
#: ``api/web/src/format.js``); ``tests/number_syntax.json`` lists the cases under "ambiguous".
DOT_GROUPED = re.compile(r"\s*\+?[1-9][0-9]{0,2}(?:\.[0-9]{3})+\s*")  # a negative one is refused as negative


def dot_grouped_message(text: str) -> str:
    """The error for a cell that :data:`DOT_GROUPED` matches: what it could mean and what to write for each."""
    s = text.strip()
    thousands = int(s.replace(".", ""))
    if s.count(".") > 1:
        return f"'{s}' is not a number (a point is a decimal point here): for {thousands:,}, write {thousands}"
    plain = repr(float(s)).removesuffix(".0")
    decimal = f"{plain}0" if DOT_GROUPED.fullmatch(plain) else plain  # 12.669 is still ambiguous: 12.6690
    return f"'{s}' is ambiguous: {thousands:,} or {plain}? For {thousands:,}, write {thousands}; for {plain}, write {decimal}"


def parse_number(text: str) -> float:
    """``text`` (white space around it ignored) as a float when it is a :data:`NUMBER`, or an infinity or NaN
    (:data:`NOT_FINITE`, for the caller to refuse as such); raises ValueError for anything else."""
    s = text.strip()
    if NUMBER.fullmatch(s) or NOT_FINITE.fullmatch(s):
        return float(s)
    raise ValueError(f"not a number: {text!r}")


def md5_of(path: Path) -> str:
    """md5 of a file, as DVC records it in dvc.lock."""
    return hashlib.md5(Path(path).read_bytes()).hexdigest()
