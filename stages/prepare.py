"""Stage prepare: validate the raw spending file, impute missing values, describe the data."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stages.choices import IMPUTE_STRATEGIES, one_of
from stages.dataset import DOT_GROUPED, LABEL_CODES, NUMBER_RULE, dot_grouped_message, header_delimiter, is_missing, number_advice, parse_number, unknown_advice
from stages.names import percent, ratio_shown, times

MAX_LISTED = 10


class DataValidationError(ValueError):
    """Raw data that cannot be used; the message names the file, the column and the rows."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        shown = problems[:MAX_LISTED]
        more = f"\n  … and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        super().__init__(f"{source}: invalid data\n  " + "\n  ".join(shown) + more)


def read_raw_text(text: str, source: str) -> pd.DataFrame:
    """Parse CSV text into a frame of strings (no type guessing), rejecting empty input; the separator (``,``,
    ``;`` or tab) is the header's, as the API reads it."""
    if not text.strip():
        raise DataValidationError(source, ["the file is empty (expected a header and data rows)"])
    delimiter = header_delimiter(text.lstrip().partition("\n")[0])
    problems = duplicate_columns(text, delimiter) or ragged_rows(text, delimiter)
    if problems:
        raise DataValidationError(source, problems)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise DataValidationError(source, [f"not a readable CSV file: {exc}"]) from None
    if frame.empty:
        raise DataValidationError(source, ["the file has a header but no data rows"])
    frame.columns = [_clean_name(str(c)) for c in frame.columns]
    return frame


def _clean_name(name: str) -> str:
    return name.strip().lstrip("\ufeff")


def duplicate_columns(text: str, delimiter: str = ",") -> list[str]:
    """Column names the header gives more than once (pandas would rename the second ``Milk`` to ``Milk.1``, and
    the pipeline would read only the first)."""
    header = next((fields for fields in csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True) if fields), [])
    names = [_clean_name(n) for n in header]
    return [
        f"the header: column {n} appears {names.count(n)} times (columns {', '.join(str(i + 1) for i, m in enumerate(names) if m == n)}); keep one"
        for n in dict.fromkeys(names)
        if n and names.count(n) > 1  # unnamed columns (a spreadsheet's trailing empty cells) are ignored anyway
    ]


def ragged_rows(text: str, delimiter: str = ",") -> list[str]:
    """Data rows whose number of fields differs from the header's (pandas would pad or shift them silently)."""
    rows = (fields for fields in csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True) if fields)
    header = next(rows, [])
    return [
        f"row {i}: has {len(fields)} field(s), the header has {len(header)}"
        for i, fields in enumerate(rows, start=1)
        if len(fields) != len(header)
    ]


def read_raw(path: Path, source: str | None = None) -> pd.DataFrame:
    """Read the raw CSV as strings so that every bad cell can be reported, not guessed; errors name the file as
    ``source`` (the path as params.yaml writes it), else as ``path``."""
    source = source or str(path)
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = "the header" if line == 1 else f"row {line - 1}"
        raise DataValidationError(source, [f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as CSV UTF-8"]) from None
    return read_raw_text(text, source)


def _parse_number(cell: str) -> float | None:
    """A cell as a float (NaN and infinities included, for the caller to refuse); None for a value not known (an empty
    cell or ``NA``: :func:`stages.dataset.is_missing`); raises ValueError for text."""
    return None if is_missing(cell) else parse_number(cell)


def _not_a_number(cell: str, spending: bool) -> str:
    """The error for a cell that is no number: what to write instead when a spending reads as an amount written
    another way (``12,5``, ``€12669``, ``n/a``: :func:`stages.dataset.number_advice`), else the rule."""
    advice = number_advice(cell) if spending else None
    return f"{cell!r} is not a number{advice or f' ({NUMBER_RULE})'}"


def validate_raw(raw: pd.DataFrame, features: list[str], labels: list[str], source: str) -> pd.DataFrame:
    """Check columns, numbers, signs and label codes; return a numeric frame with ``row`` ids.

    ``row`` is the 1-based data row (the header is not counted), as in every error message.
    """
    problems: list[str] = []
    missing_cols = [c for c in [*features, *labels] if c not in raw.columns]
    if missing_cols:
        raise DataValidationError(
            source, [f"missing column(s) {', '.join(missing_cols)}; found {', '.join(map(str, raw.columns))}"]
        )
    out = pd.DataFrame({"row": np.arange(1, len(raw) + 1, dtype=np.int64)})
    for col in [*labels, *features]:
        values = np.full(len(raw), np.nan)
        for i, cell in enumerate(raw[col].tolist()):
            where = f"row {i + 1}, column {col}"
            grouped = col in features and isinstance(cell, str) and DOT_GROUPED.fullmatch(cell) is not None
            try:
                v = _parse_number(cell)
            except ValueError:
                problems.append(f"{where}: {dot_grouped_message(cell) if grouped else _not_a_number(cell, col in features)}")
                continue
            if grouped:  # 12.669: twelve thousand or twelve?
                problems.append(f"{where}: {dot_grouped_message(cell)}")
                continue
            if v is None:
                if col in labels:
                    problems.append(f"{where}: missing; every customer needs a {col} code")
                continue
            if not math.isfinite(v):  # NaN is no missing mark here: a file writes an amount not known as empty or NA
                advice = f": {unknown_advice()}" if col in features else ""
                problems.append(f"{where}: {cell!r} is not a finite number{advice}")
            elif col in labels and col in LABEL_CODES and v not in LABEL_CODES[col]:
                codes = ", ".join(f"{k} = {n}" for k, n in LABEL_CODES[col].items())
                problems.append(f"{where}: {cell!r} is not a valid code ({codes})")
            elif v < 0:
                problems.append(f"{where}: {cell!r} is negative; spending must be 0 or more")
            else:
                values[i] = v
        out[col] = values
    for col in features:
        if out[col].isna().all() and not any(p.split(": ")[0].endswith(f"column {col}") for p in problems):
            problems.append(f"column {col}: has no values at all")
    if problems:
        raise DataValidationError(source, problems)
    return out


def impute_values(frame: pd.DataFrame, features: list[str], strategy: str) -> dict[str, float]:
    """The value used for a missing cell of each feature (median or mean of the observed values)."""
    if strategy not in IMPUTE_STRATEGIES:
        raise ValueError(f"data.impute: {one_of(IMPUTE_STRATEGIES)} (got {strategy!r})")
    if strategy == "error":
        return {}
    agg = frame[features].median() if strategy == "median" else frame[features].mean()
    return {c: float(agg[c]) for c in features}


def impute(frame: pd.DataFrame, features: list[str], strategy: str, source: str) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """Fill missing spending per ``strategy``; returns the frame and the rows imputed per column."""
    imputed = {c: frame.loc[frame[c].isna(), "row"].astype(int).tolist() for c in features}
    imputed = {c: rows for c, rows in imputed.items() if rows}
    if strategy == "error" and imputed:
        problems = [f"column {c}: missing value in row(s) {', '.join(map(str, rows))}" for c, rows in imputed.items()]
        raise DataValidationError(source, problems + ["(data.impute is 'error'; set it to median or mean to fill them)"])
    values = impute_values(frame, features, strategy)
    out = frame.copy()
    for c in imputed:
        out[c] = out[c].fillna(values[c])
    return out, imputed


def duplicate_groups(frame: pd.DataFrame, columns: list[str]) -> list[list[int]]:
    """Groups of rows that are identical on ``columns`` (each group lists its row ids)."""
    dup = frame[frame.duplicated(columns, keep=False)]
    if dup.empty:
        return []
    groups = dup.groupby(columns, sort=True)["row"].apply(lambda s: sorted(int(r) for r in s))
    return sorted(groups.tolist())


def canonical_order(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Sort rows by their values so that every later fit is independent of the file's row order."""
    return frame.sort_values([*columns, "row"], kind="mergesort").reset_index(drop=True)


def label_counts(values: pd.Series, label: str) -> dict[str, int]:
    """Customers per value of a label, by name in code order: every code the data set defines
    (:data:`~stages.dataset.LABEL_CODES`), 0 for one no customer has (a file without Lisbon customers), as a persona's
    mix lists them; a label without known codes lists the codes it has."""
    counts = values.dropna().astype(int).value_counts()
    names = LABEL_CODES.get(label) or {int(code): str(code) for code in sorted(counts.index)}
    return {name: int(counts.get(code, 0)) for code, name in names.items()}


@dataclass(frozen=True)
class Prepared:
    """Result of the prepare stage."""

    customers: pd.DataFrame
    report: dict[str, Any]


def prepare(raw: pd.DataFrame, features: list[str], labels: list[str], strategy: str, source: str) -> Prepared:
    """Validate, impute and order the raw frame; build the data report."""
    frame = validate_raw(raw, features, labels, source)
    missing = {c: int(frame[c].isna().sum()) for c in [*labels, *features]}
    values = impute_values(frame, features, strategy)
    frame, imputed = impute(frame, features, strategy, source)
    dups = duplicate_groups(frame, [*labels, *features])
    customers = canonical_order(frame, [*features, *labels])
    for c in labels:
        customers[c] = customers[c].astype("Int64")
    report: dict[str, Any] = {
        "source": source,
        "n_rows": int(len(customers)),
        "columns": [*labels, *features],
        "missing": missing,
        "impute": {"strategy": strategy, "values": values, "rows": imputed},
        "duplicates": {"n_groups": len(dups), "rows": dups},
        "labels": {c: label_counts(customers[c], c) for c in labels},
        "describe": {
            c: {k: float(v) for k, v in customers[c].describe().items()} for c in features
        },
    }
    return Prepared(customers, report)


def spread_text(customers: pd.DataFrame, features: list[str], factor: float = 10.0) -> str:
    """How skewed spending is, in words computed from the data: the categories whose mean is above their median (by
    how much, as every ratio is printed: :func:`stages.names.times`, and above as printed, so none reads "1.00×"),
    and how many customers spend ``factor`` times a category's median or more in at least one."""
    median, mean = customers[features].median(), customers[features].mean()
    ratios = {c: mean[c] / median[c] for c in features if median[c] > 0}
    above = [f"{c} {times(r)}" for c, r in ratios.items() if ratio_shown(r) > 1]
    if above:
        n = len(features)
        where = ("the one category" if n == 1 else f"{len(above)} of the {n} categories" if len(above) < n
                 else "both categories" if n == 2 else f"all {n} categories")
        text = f"The mean is above the median in {where} ({', '.join(above)}): spending is right-skewed."
    else:
        text = "The mean is above the median in no category: spending is not right-skewed here."
    positive = [c for c in features if median[c] > 0]
    big = int((customers[positive] >= factor * median[positive]).any(axis=1).sum()) if positive else 0
    text += (f" {big} of {len(customers)} customers ({percent(big / len(customers))}) spend {factor:g} times a category's "
             "median or more in at least one category. Analysis 2 (features) shows what the chosen transform does "
             "about that before any distance is computed.")
    return text
