"""Validating and segmenting many customers at once, with one result or one error per row, in input order.

Validity is defined once, by :class:`api.schemas.CustomerIn`. The checks here are a vectorised fast path:
rows that are plainly valid (numbers in range, known fields, known labels) are accepted column by column;
every other row goes through ``CustomerIn`` itself, so a row in a batch gets exactly the verdict and the
messages it would get alone at ``POST /api/segment``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from api.fields import ALIASES, ALLOWED_FIELDS, FEATURES, LABEL_LOOKUP, LABELS, MAX_SPEND, FieldError, label_name
from stages.segmenter import Assignment, Segmenter

if TYPE_CHECKING:
    from api.schemas import CustomerIn

#: Rows scored per call of ``Segmenter.assign``: small enough to stay in cache, large enough to amortise numpy calls.
SCORE_CHUNK = 8192
_ABSENT = object()
_BAD = object()
_NUMBER_TYPES = frozenset({int, float})
_ALLOWED = frozenset(ALLOWED_FIELDS)
_ALIAS_OF = {canonical: alias for alias, canonical in ALIASES.items()}


def check_one(payload: Any, row: int | None = None) -> CustomerIn | list[FieldError]:
    """Validate one customer with the pydantic model: the model, or the errors naming field and row."""
    # Imported on first use: the command-line scorer loads pydantic only when a row fails the fast checks.
    from pydantic import ValidationError

    from api.schemas import CustomerIn, field_errors

    try:
        return CustomerIn.model_validate(payload)
    except ValidationError as exc:
        return field_errors(exc, row)


@dataclass
class Checked:
    """Many customers after validation: spending (NaN = impute) and label names for the good rows, errors for the rest."""

    rows: NDArray[np.int64]
    X: NDArray[np.float64]
    channel: Sequence[str | None] | pa.Array
    region: Sequence[str | None] | pa.Array
    errors: dict[int, list[FieldError]] = field(default_factory=dict)
    #: Column names as the input wrote them, by field, where they differ (a CSV header's ``Delicatessen``).
    written: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> NDArray[np.bool_]:
        """True for the rows without errors."""
        mask = np.ones(len(self.rows), dtype=bool)
        mask[list(self.errors)] = False
        return mask


def _in_range(col: NDArray[np.float64]) -> NDArray[np.bool_]:
    # NaN compares false, and ±Infinity falls outside, so this also rejects non-finite numbers.
    return (col >= 0) & (col <= MAX_SPEND)


def _label_or_bad(label: str, value: Any) -> Any:
    try:
        return label_name(label, value)
    except ValueError:
        return _BAD


def _label_cells(label: str, arr: pa.Array) -> tuple[pa.Array, NDArray[np.bool_]]:
    """Label names of text cells, vectorised like :func:`label_name` (trimmed, any case); and which cells are bad."""
    lookup = {k: v for k, v in LABEL_LOOKUP[label].items() if isinstance(k, str)}
    index = pc.index_in(pc.utf8_lower(pc.utf8_trim_whitespace(arr)), value_set=pa.array(list(lookup)))
    names = pc.take(pa.array(list(lookup.values())), index)
    bad = np.asarray(pc.and_(arr.is_valid(), index.is_null()).to_numpy(zero_copy_only=False), dtype=bool)
    return names, bad


def as_list(values: Any) -> list[Any]:
    """Label names as a Python list (from an arrow array or any sequence)."""
    return values.to_pylist() if isinstance(values, pa.Array) else list(values)


def _settle(checked: Checked, suspect: NDArray[np.bool_], payload_of: Any) -> Checked:
    """Send suspect rows through the pydantic model: keep its values when it accepts, its errors when not."""
    if suspect.any():
        checked.channel, checked.region = as_list(checked.channel), as_list(checked.region)
    for i in np.flatnonzero(suspect):
        result = check_one(payload_of(int(i)), int(checked.rows[i]))
        if not isinstance(result, list):
            checked.X[i] = result.spending()
            checked.channel[i], checked.region[i] = result.Channel, result.Region
        else:
            checked.errors[int(i)] = result
    return checked


def check_records(records: Sequence[Any], first_row: int = 1) -> Checked:
    """Validate JSON rows (dicts as parsed from a JSON array), vectorised per column."""
    n = len(records)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    suspect = np.zeros(n, dtype=bool)
    dicts: list[Mapping[str, Any]] = []
    for i, r in enumerate(records):
        if type(r) is dict and _ALLOWED.issuperset(r) and not any(a in r and c in r for a, c in ALIASES.items()):
            dicts.append(r)
        else:
            suspect[i] = True
            dicts.append({})
    X = np.full((n, len(FEATURES)), np.nan)
    for j, f in enumerate(FEATURES):
        alias = _ALIAS_OF.get(f)
        vals = [d.get(f, d.get(alias, _ABSENT)) for d in dicts] if alias else [d.get(f, _ABSENT) for d in dicts]
        present = np.fromiter((v is not _ABSENT for v in vals), dtype=bool, count=n)
        numeric = np.fromiter((type(v) in _NUMBER_TYPES for v in vals), dtype=bool, count=n)
        suspect |= present & ~numeric
        try:
            col = np.array([v if ok else math.nan for v, ok in zip(vals, numeric)], dtype=np.float64)
        except OverflowError:  # an integer beyond float range: only the model can word that row's error
            col = np.array([v if ok and abs(v) < 1e308 else math.nan for v, ok in zip(vals, numeric)], dtype=np.float64)
        suspect |= present & numeric & ~_in_range(col)
        X[:, j] = col
    suspect |= np.isnan(X).all(axis=1)
    labels = {}
    for label in LABELS:
        names = [None if (v := d.get(label)) is None else _label_or_bad(label, v) for d in dicts]
        suspect |= np.fromiter((v is _BAD for v in names), dtype=bool, count=n)
        labels[label] = names
    checked = Checked(rows=rows, X=X, channel=labels["Channel"], region=labels["Region"])
    return _settle(checked, suspect, lambda i: records[i])


def _cell_value(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def check_cells(cells: Mapping[str, pa.Array], rows: NDArray[np.int64]) -> Checked:
    """Validate CSV cells (string columns named as the model's fields, null = empty cell), vectorised per column."""
    n = len(rows)
    suspect = np.zeros(n, dtype=bool)
    X = np.full((n, len(FEATURES)), np.nan)
    for j, f in enumerate(FEATURES):
        arr = cells[f]
        present = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        try:
            col = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = [None if v is None else _cell_value(v) for v in arr.to_pylist()]
            numeric = np.fromiter((type(v) is float for v in values), dtype=bool, count=n)
            suspect |= present & ~numeric
            col = np.array([v if ok else math.nan for v, ok in zip(values, numeric)], dtype=np.float64)
        col = np.asarray(col, dtype=np.float64)
        suspect |= present & ~_in_range(col)
        X[:, j] = np.where(present, col, np.nan)
    suspect |= np.isnan(X).all(axis=1)
    labels: dict[str, Any] = {}
    for label in LABELS:
        if label not in cells:
            labels[label] = pa.nulls(n, pa.string())
            continue
        names, bad = _label_cells(label, cells[label])
        suspect |= bad
        labels[label] = names
    checked = Checked(rows=rows, X=X, channel=labels["Channel"], region=labels["Region"])

    def payload(i: int) -> dict[str, Any]:
        out = {}
        for name, arr in cells.items():
            v = arr[i].as_py()
            if v is not None:
                out[name] = _cell_value(v) if name in FEATURES else v
        return out

    return _settle(checked, suspect, payload)


def assign(segmenter: Segmenter, X: NDArray[np.float64]) -> Assignment:
    """``Segmenter.assign`` in cache-sized chunks (same results; about 10 % faster on large inputs, measured)."""
    if len(X) <= SCORE_CHUNK:
        return segmenter.assign(X)
    parts = [segmenter.assign(X[i : i + SCORE_CHUNK]) for i in range(0, len(X), SCORE_CHUNK)]
    return Assignment(*(np.concatenate([getattr(p, a) for p in parts]) for a in ("segment", "distances", "confidence", "map_xy")))


@dataclass
class Scored:
    """Checked rows with the segment of each good row (arrays over the good rows only)."""

    checked: Checked
    ok: NDArray[np.bool_]
    assignment: Assignment
    imputed: NDArray[np.bool_]


NO_IMPUTE = "missing, and the served model has no imputation values (params data.impute is error): give every category"


def score(segmenter: Segmenter, checked: Checked) -> Scored:
    """Segment the good rows of a checked batch."""
    if segmenter.impute is None:
        for i in np.flatnonzero(checked.ok & np.isnan(checked.X).any(axis=1)):
            missing = [f for f, v in zip(FEATURES, checked.X[i]) if np.isnan(v)]
            checked.errors[int(i)] = [FieldError(field=checked.written.get(f, f), row=int(checked.rows[i]), message=NO_IMPUTE) for f in missing]
    ok = checked.ok
    X = checked.X[ok]
    return Scored(checked, ok, assign(segmenter, X), np.isnan(X))


_BITS = 1 << np.arange(len(FEATURES))


def _imputed_tables(written: Mapping[str, str]) -> tuple[list[list[str]], pa.Array]:
    """Imputed categories for each of the 64 patterns of missing cells, as lists and as CSV text, named as the
    input writes them (``written``: field → name, e.g. a CSV header's ``Delicatessen``)."""
    return _imputed_tables_for(tuple(sorted(written.items())))


@functools.lru_cache(maxsize=8)
def _imputed_tables_for(written: tuple[tuple[str, str], ...]) -> tuple[list[list[str]], pa.Array]:
    spelled = dict(written)
    lists = [[spelled.get(f, f) for j, f in enumerate(FEATURES) if code & (1 << j)] for code in range(1 << len(FEATURES))]
    return lists, pa.array([";".join(names) for names in lists], pa.string())


def imputed_codes(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Each row's pattern of imputed categories as a number from 0 to 63."""
    return mask.astype(np.int64) @ _BITS


def imputed_names(mask: NDArray[np.bool_], written: Mapping[str, str] | None = None) -> list[list[str]]:
    """Names of the imputed categories of each row (as the input writes them)."""
    lists, _ = _imputed_tables(written or {})
    return [lists[c] for c in imputed_codes(mask).tolist()]


def json_results(scored: Scored, names: list[str]) -> list[dict[str, Any]]:
    """One result object per row (``BatchRowOk`` or ``BatchRowError``), in input order."""
    a = scored.assignment
    k = len(names)
    segs = a.segment.tolist()
    conf = a.confidence.tolist()
    xy = a.map_xy.tolist()
    dist = a.distances.tolist()
    imputed = imputed_names(scored.imputed, scored.checked.written)
    ok_rows = scored.checked.rows[scored.ok].tolist()
    results: list[dict[str, Any] | None] = [None] * len(scored.checked.rows)
    positions = np.flatnonzero(scored.ok).tolist()
    for p, row, s, c, (x, y), d, imp in zip(positions, ok_rows, segs, conf, xy, dist, imputed):
        results[p] = {
            "row": row,
            "ok": True,
            "segment": s,
            "persona_name": names[s],
            "confidence": c,
            "position": {"x": x, "y": y},
            "distances": [{"segment": j, "name": names[j], "distance": d[j]} for j in range(k)],
            "imputed": imp,
        }
    for i, errs in scored.checked.errors.items():
        results[i] = {"row": int(scored.checked.rows[i]), "ok": False, "errors": [e.as_dict() for e in errs]}
    return results  # type: ignore[return-value]


def counts(scored: Scored, k: int) -> dict[str, int]:
    """Customers per segment id."""
    return {str(s): int(c) for s, c in enumerate(np.bincount(scored.assignment.segment, minlength=k))}


def error_text(errors: list[FieldError]) -> str:
    """The errors of one row as one CSV cell (fields with the same problem listed together)."""
    by_message: dict[str, list[str]] = {}
    for e in errors:
        by_message.setdefault(e.message, []).append(e.field)
    return "; ".join(f"{', '.join(fields)}: {message}" for message, fields in by_message.items())


RESULT_COLUMNS = ("segment", "persona", "confidence", "imputed", "error")


def result_columns(scored: Scored, names: list[str]) -> dict[str, pa.Array]:
    """The result columns of a CSV answer, one value per input row (empty where it does not apply)."""
    n = len(scored.checked.rows)
    ok = scored.ok
    a = scored.assignment
    segment = np.zeros(n, dtype=np.int64)
    segment[ok] = a.segment
    confidence = np.zeros(n)
    confidence[ok] = np.round(a.confidence, 4)
    codes = np.zeros(n, dtype=np.int64)
    codes[ok] = imputed_codes(scored.imputed)
    error = np.full(n, None, dtype=object)
    for i, errs in scored.checked.errors.items():
        error[i] = error_text(errs)
    valid = pa.array(ok)
    seg_arr = pa.array(segment, mask=~ok)
    return {
        "segment": seg_arr,
        "persona": pc.if_else(valid, pc.take(pa.array(names), pc.fill_null(seg_arr, 0)), pa.scalar(None, pa.string())),
        "confidence": pa.array(confidence, mask=~ok),
        "imputed": pc.if_else(valid, pc.take(_imputed_tables(scored.checked.written)[1], pa.array(codes)), pa.scalar(None, pa.string())),
        "error": pa.array(error, type=pa.string()),
    }


def echo_columns(checked: Checked) -> dict[str, pa.Array]:
    """The input of JSON rows as CSV columns (spending as understood, labels by name; empty for bad rows)."""
    ok = checked.ok
    cols: dict[str, pa.Array] = {}
    for j, f in enumerate(FEATURES):
        cols[f] = pa.array(checked.X[:, j], mask=~ok | np.isnan(checked.X[:, j]))
    bad = set(checked.errors)
    cols["Channel"] = pa.array([None if i in bad else v for i, v in enumerate(as_list(checked.channel))], type=pa.string())
    cols["Region"] = pa.array([None if i in bad else v for i, v in enumerate(as_list(checked.region))], type=pa.string())
    return cols
