"""Facts about the UCI Wholesale customers data set, shared by the pipeline and the API (no heavy imports)."""

from __future__ import annotations

import hashlib
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


def md5_of(path: Path) -> str:
    """md5 of a file, as DVC records it in dvc.lock."""
    return hashlib.md5(Path(path).read_bytes()).hexdigest()
