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


def _readings(grouped: str, separator: str) -> str:
    """What digits grouped in threes by ``separator`` (``12.669``, ``1,200``, ``1.234.567``) could mean and what to
    write for each: ``For 12,669, write 12669; for 12.669, write 12.6690`` (one group), or the thousands alone."""
    thousands = int(grouped.replace(separator, ""))
    if grouped.count(separator) > 1:
        return f"for {thousands:,}, write {thousands}"
    plain = repr(float(grouped.replace(separator, "."))).removesuffix(".0")
    decimal = f"{plain}0" if DOT_GROUPED.fullmatch(plain) else plain  # 12.669 is still ambiguous: 12.6690
    return f"for {thousands:,}, write {thousands}; for {plain}, write {decimal}"


def dot_grouped_message(text: str) -> str:
    """The error for a cell that :data:`DOT_GROUPED` matches: what it could mean and what to write for each."""
    s = text.strip()
    if s.count(".") > 1:
        return f"'{s}' is not a number (a point is a decimal point here): {_readings(s, '.')}"
    thousands = int(s.replace(".", ""))
    plain = repr(float(s)).removesuffix(".0")
    readings = _readings(s, ".")
    return f"'{s}' is ambiguous: {thousands:,} or {plain}? {readings[0].upper()}{readings[1:]}"


#: How a data file marks a value that is not known, for the pipeline's raw data and the API's CSV cells alike: an empty
#: cell, or ``NA`` in any case (as R's ``write.csv`` writes one), white space around it aside. A spending so marked is
#: imputed (and reported so); ``NaN`` and the infinities are no such mark, but numbers that are not finite, refused with
#: :func:`unknown_advice`, as the marks of :data:`MISSING_MARK` are. A JSON value is never one: a field is left out.
#: Spelled out whole, as the API's CSV reader (pyarrow's ``null_values``) is given them; :func:`is_missing` for a cell.
MISSING_CELLS = ("", "NA", "na", "Na", "nA")


def is_missing(cell: str) -> bool:
    """Whether a data file's cell marks a value that is not known: one of :data:`MISSING_CELLS`, white space around it
    aside (as :func:`parse_number` reads a number)."""
    return cell.strip() in MISSING_CELLS


def unknown_advice(empty: str = "leave the cell empty") -> str:
    """What to do about an amount that is not known, told for a mark of :data:`MISSING_MARK` and for NaN; ``empty`` in
    the reader's medium (the API's JSON: "leave the field out")."""
    return f"{empty} when the amount is not known"


#: Marks that spreadsheets and people write for an amount not known (``n/a``, ``#N/A``, ``-``, ``?``), refused in a file
#: as in JSON; ``NA`` is one in JSON only (a file's ``NA`` is one of :data:`MISSING_CELLS`).
MISSING_MARK = re.compile(r"(?:#?n/?a|null|none|nil|-+|[\u2013\u2014]|\?)", re.IGNORECASE)
#: A currency sign or code before or after an amount, with the spaces next to it.
CURRENCY = re.compile(r"^(?:[€$£]|eur)\s*|\s*(?:[€$£]|eur)$", re.IGNORECASE)
#: Digits grouped in threes by one kind of space or apostrophe (``12 669``, Swiss ``12'669``), then decimals.
SPACE_GROUPED = re.compile(r"[+-]?[0-9]{1,3}([ \u00a0\u202f'’])[0-9]{3}(?:\1[0-9]{3})*(?:[.,][0-9]+)?")
#: Thousands grouped by points and a decimal comma, as Portugal writes ``12.669,50``.
POINTS_AND_COMMA = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+")
#: Thousands grouped by commas (``12,669``, ``1,234,567.50``; ``0,669`` is a decimal comma).
COMMA_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?")
#: A decimal comma (``12,5``, ``12669,50``).
DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")
#: An amount in brackets: a negative one, as accounts write it.
BRACKETED = re.compile(r"\(\s*[^()]*[0-9][^()]*\)")
#: A percentage (``12%``, ``12,5 %``).
PERCENTAGE = re.compile(r"[^%]*[0-9][^%]*%")


def number_advice(text: str, write: str = "write", empty: str = "leave the cell empty") -> str | None:
    """What to write instead of ``text``, a spending that :func:`parse_number` refuses, when it reads as an amount
    written the way spreadsheets and people write them, to follow the words that refuse it: ``" (a decimal comma):
    write 12.5"``; None when it does not. ``write`` and ``empty`` are the words for the reader's medium (the staff
    page: "type", "leave the field empty"); ``tests/number_syntax.json`` holds the cases the page shares.

    Each reading is certain but one: a single group of three digits after a comma (``12,669``), which is as likely
    twelve thousand as twelve (a Portuguese decimal comma), gets both, as :func:`dot_grouped_message` words ``12.669``.
    """
    s = text.strip()
    if MISSING_MARK.fullmatch(s):
        return f": {unknown_advice(empty)}"
    notes = []
    bare = CURRENCY.sub("", s)
    if bare != s and bare:
        notes.append("a currency sign")
        s = bare
    if PERCENTAGE.fullmatch(s):
        return f": a percentage is not an amount; {write} the yearly spending itself"
    if BRACKETED.fullmatch(s):
        return ": an amount in brackets is a negative one; spending must be 0 or more"
    if s.startswith("-") and (NUMBER.fullmatch(s[1:]) or number_advice(s[1:], write, empty)):  # -12,669, -€12
        return ": a negative amount; spending must be 0 or more"
    if match := SPACE_GROUPED.fullmatch(s):
        notes.append("thousands grouped by " + ("spaces" if match.group(1) not in "'’" else "apostrophes"))
        s = s.replace(match.group(1), "")
    if POINTS_AND_COMMA.fullmatch(s):
        notes += ["thousands grouped by points", "a decimal comma"]
        s = s.replace(".", "").replace(",", ".")
    elif COMMA_GROUPED.fullmatch(s) and ("." in s or s.count(",") > 1):
        notes.append("thousands grouped by commas")
        s = s.replace(",", "")
    elif COMMA_GROUPED.fullmatch(s) or DOT_GROUPED.fullmatch(s):  # 12,669 (or €12.669): twelve thousand or twelve?
        said = f" ({', '.join(notes)})" if notes else ""
        return f"{said}: {_readings(s.lstrip('+'), ',' if ',' in s else '.')}".replace("write", write)
    elif DECIMAL_COMMA.fullmatch(s):
        notes.append("a decimal comma")
        s = s.replace(",", ".")
    if not notes or not NUMBER.fullmatch(s):
        return None
    return f" ({', '.join(notes)}): {write} {s}"  # never a point after 1-3 digits (DOT_GROUPED): tested


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
