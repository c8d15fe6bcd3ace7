"""Validating and segmenting many customers at once, with one result or one error per row, in input order.

Validity is defined once, by :class:`api.schemas.CustomerIn`. The checks here are a vectorised fast path:
rows that are plainly valid (numbers in range, known fields, known labels) are accepted column by column;
every other row goes through ``CustomerIn`` itself, so a row in a batch gets exactly the verdict and the
messages it would get alone at ``POST /api/segment``; or, when its only problems are bad values (the usual bad
row), the model's own sentences for them, worded here without running it (:func:`_cell_errors`, tested to give the
same records).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from api.fields import ALIAS_OF, ALIASES, ALLOWED_FIELDS, FEATURES, LABEL_LOOKUP, LABELS, MAX_SPEND, FieldError, label_name, unknown_name
from stages.dataset import DOT_GROUPED, dot_grouped_message, is_missing, parse_number
from stages.segmenter import Assignment, Segmenter, nearest_distance

if TYPE_CHECKING:
    from api.schemas import CustomerIn

#: Rows scored per call of ``Segmenter.assign``: small enough to stay in cache, large enough to amortise numpy calls.
SCORE_CHUNK = 8192
_ABSENT = object()
_BAD = object()
_NUMBER_TYPES = frozenset({int, float})
_ALLOWED = frozenset(ALLOWED_FIELDS)
_ALIAS_NAMES = frozenset(ALIASES)
_GET_FEATURES = operator.itemgetter(*FEATURES)
#: Each label's names by integer code (JSON's usual spelling of Channel and Region).
_LABEL_BY_CODE = {label: {k: v for k, v in lookup.items() if type(k) is int} for label, lookup in LABEL_LOOKUP.items()}


class RepeatedKeys(dict[str, Any]):
    """A JSON object that names a key more than once. It holds the last value of each key (what JSON readers keep,
    silently) and, in ``repeated``, how many times each repeated key was given: :func:`check_one` refuses it."""

    def __init__(self, pairs: dict[str, Any], repeated: dict[str, int]) -> None:
        super().__init__(pairs)
        self.repeated = repeated


def json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of :func:`json.loads`: the object as a dict, a :class:`RepeatedKeys` if a key repeats."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    return RepeatedKeys(obj, {k: n for k, n in Counter(k for k, _ in pairs).items() if n > 1})


def keys_given_once(text: bytes, value: Any) -> bool:
    """Whether no object in ``value``, parsed from the JSON ``text``, gave a key twice (a reader keeps the last
    value); False also when a ``:`` inside a text leaves it unclear, for the caller to read ``text`` key by key.

    JSON text writes one ``:`` per key, so it holds no repeated key when its ``:`` are as many as the keys parsed.
    Those are counted without a Python loop over the values when the text has no ``{`` or ``[`` beyond the
    objects of one customer or one batch.
    """
    objects, lists = text.count(b"{"), text.count(b"[")
    if type(value) is dict and (objects, lists) == (1, 0):
        keys = len(value)
    elif type(value) is list and lists == 1 and objects == len(value) and set(map(type, value)) <= {dict}:
        keys = sum(map(len, value))
    else:
        keys, stack = 0, [value]  # nested objects and arrays (iteratively: no recursion limit)
        while stack:
            item = stack.pop()
            if type(item) is list:
                stack.extend(v for v in item if type(v) is dict or type(v) is list)
            elif type(item) is dict:
                keys += len(item)
                stack.extend(v for v in item.values() if type(v) is dict or type(v) is list)
    return text.count(b":") == keys


def check_one(payload: Any, row: int | None = None) -> CustomerIn | list[FieldError]:
    """Validate one customer with the pydantic model: the model, or the errors naming field and row."""
    # Imported on first use: the command-line scorer loads pydantic only when a row fails the fast checks.
    from pydantic import ValidationError

    from api.schemas import CustomerIn, field_errors

    repeated = payload.repeated.items() if isinstance(payload, RepeatedKeys) else ()
    # an unknown field given twice is named once, as unknown
    errors = [FieldError(field=k, row=row, message=f"given {n} times; give each field once") for k, n in repeated if k in _ALLOWED]
    try:
        customer = CustomerIn.model_validate(payload)
    except ValidationError as exc:
        named = {e.field for e in errors}
        return errors + [e for e in field_errors(exc, row) if e.field not in named]
    return errors or customer


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
    if bad.any():  # other spellings of a code ("2.00", "+2"): each distinct text once through label_name
        others = {v: name for v in pc.unique(arr.filter(pa.array(bad))).to_pylist() if (name := _label_or_bad(label, v)) is not _BAD}
        if others:
            found = pc.index_in(arr, value_set=pa.array(list(others)))
            names = pc.coalesce(names, pc.take(pa.array(list(others.values())), found))
            bad &= np.asarray(found.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return names, bad


def as_list(values: Any) -> list[Any]:
    """Label names as a Python list (from an arrow array or any sequence)."""
    return values.to_pylist() if isinstance(values, pa.Array) else list(values)


def _settle(checked: Checked, suspect: NDArray[np.bool_], payload_of: Any, worded: dict[int, list[FieldError]]) -> Checked:
    """Send suspect rows through the pydantic model: keep its values when it accepts, its errors when not; with the
    errors of the rows ``worded`` without it, in row order (as the model would have given them all)."""
    if suspect.any():
        checked.channel, checked.region = as_list(checked.channel), as_list(checked.region)
    for i in np.flatnonzero(suspect):
        result = check_one(payload_of(int(i)), int(checked.rows[i]))
        if not isinstance(result, list):
            checked.X[i] = result.spending()
            checked.channel[i], checked.region[i] = result.Channel, result.Region  # type: ignore[index]  # lists, made above
        else:
            checked.errors[int(i)] = result
    if worded and checked.errors:
        worded |= checked.errors
        checked.errors = {i: worded[i] for i in sorted(worded)}
    else:
        checked.errors = checked.errors or worded
    return checked


def _spending(dicts: Sequence[Mapping[str, Any]], suspect: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The six spending columns of rows as floats (NaN where absent); marks rows with a value out of range or not a
    number as suspect, in place.

    Fast path, the usual batch: every row gives all six categories by their names, as JSON numbers. Those are
    read in one pass of C loops (``itemgetter``, a set of types, ``np.array``); any other batch goes column by column.
    """
    try:
        values = list(map(_GET_FEATURES, dicts))
    except KeyError:  # a row without a category, with the spelled-out alias, or not an object
        values = None
    if values is not None and _NUMBER_TYPES.issuperset(map(type, itertools.chain.from_iterable(values))):
        with contextlib.suppress(OverflowError):  # an integer beyond float range: the slow path words its error
            X = np.array(values, dtype=np.float64).reshape(len(dicts), len(FEATURES))
            suspect |= ~_in_range(X).all(axis=1)
            return X
    n = len(dicts)
    X = np.full((n, len(FEATURES)), np.nan)
    for j, f in enumerate(FEATURES):
        alias = ALIAS_OF.get(f)
        vals = [d.get(f, d.get(alias, _ABSENT)) for d in dicts] if alias else [d.get(f, _ABSENT) for d in dicts]
        present = np.fromiter((v is not _ABSENT for v in vals), dtype=bool, count=n)
        numeric = np.fromiter((type(v) in _NUMBER_TYPES for v in vals), dtype=bool, count=n)
        suspect |= present & ~numeric
        try:
            col = np.array([v if ok else math.nan for v, ok in zip(vals, numeric, strict=True)], dtype=np.float64)
        except OverflowError:  # an integer beyond float range: only the model can word that row's error
            col = np.array([v if ok and abs(v) < 1e308 else math.nan for v, ok in zip(vals, numeric, strict=True)], dtype=np.float64)
        suspect |= present & numeric & ~_in_range(col)
        X[:, j] = col
    return X


def _label_names(label: str, dicts: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Each row's label name (None when absent, ``_BAD`` when not a valid code or name); codes by dictionary lookup."""
    codes = _LABEL_BY_CODE[label]
    return [codes[v] if type(v) is int and v in codes else _label_or_bad(label, v) for v in (d.get(label) for d in dicts)]


def check_records(records: Sequence[Any], first_row: int = 1) -> Checked:
    """Validate JSON rows (dicts as parsed from a JSON array), vectorised per column."""
    n = len(records)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    unusual = np.zeros(n, dtype=bool)
    unknown = np.zeros(n, dtype=bool)
    dicts: list[Mapping[str, Any]] = []
    for i, r in enumerate(records):
        if type(r) is not dict:
            unusual[i] = True
            dicts.append({})
        elif _ALLOWED.issuperset(r):
            if not _ALIAS_NAMES.isdisjoint(r) and any(a in r and c in r for a, c in ALIASES.items()):
                unusual[i] = True
            dicts.append(r)
        else:  # an unknown field (an id column, say): always refused, worded here like a bad value
            unknown[i] = True
            dicts.append(r)
    suspect = unusual | unknown
    X = _spending(dicts, suspect)
    suspect |= np.isnan(X).all(axis=1)
    labels = {}
    for label in LABELS:
        names = _label_names(label, dicts)
        suspect |= np.fromiter((v is _BAD for v in names), dtype=bool, count=n)
        labels[label] = names
    checked = Checked(rows=rows, X=X, channel=labels["Channel"], region=labels["Region"])
    worded = _record_errors(dicts, labels, rows, suspect, unusual, unknown) if suspect.any() else {}
    return _settle(checked, suspect, lambda i: records[i], worded)


def _record_errors(
    dicts: Sequence[Mapping[str, Any]],
    labels: Mapping[str, list[Any]],
    rows: NDArray[np.int64],
    suspect: NDArray[np.bool_],
    unusual: NDArray[np.bool_],
    unknown: NDArray[np.bool_],
) -> dict[int, list[FieldError]]:
    """The errors of the suspect JSON rows with a bad value or an ``unknown`` field, worded with the model's sentences
    as :func:`_cell_errors` words a CSV row's, value by value; those rows are taken out of ``suspect`` (in place).

    Rows that are ``unusual`` (not an object, both names of Delicassen, a field given twice) are left to the model;
    any other row's only errors are its values', then its unknown fields' in the order given (as the model's: it checks
    the whole row only when every field is valid, so an unknown field also hides a missing spending or both names
    of Delicassen); spending is looked for when they are all valid.
    """
    from api.schemas import label_message, spending_message  # pydantic, as for check_one: only when a row fails the fast checks

    said: dict[tuple[type, Any], str | None] = {}

    def word(value: Any) -> str | None:  # each distinct value once (by type too: true is not 1)
        key = (type(value), value)
        try:
            return said[key]
        except KeyError:
            said[key] = message = spending_message(value)
            return message
        except TypeError:  # a list or an object
            return spending_message(value)

    where = np.flatnonzero(suspect & ~unusual)
    errors: dict[int, list[FieldError]] = {i: [] for i in where.tolist()}
    for f in FEATURES:
        for name in (f, ALIAS_OF[f]) if f in ALIAS_OF else (f,):  # a usual row gives one of them, in the model's place
            for i, row in zip(where.tolist(), rows[where].tolist(), strict=True):
                if (value := dicts[i].get(name, _ABSENT)) is not _ABSENT and (message := word(value)) is not None:
                    errors[i].append(FieldError(field=name, row=row, message=message))
    for label in LABELS:
        message = label_message(label)
        for i, row in zip(where.tolist(), rows[where].tolist(), strict=True):
            if labels[label][i] is _BAD:
                errors[i].append(FieldError(field=label, row=row, message=message))
    for i, row in zip(np.flatnonzero(unknown).tolist(), rows[unknown].tolist(), strict=True):
        errors[i] += [FieldError(field=str(name), row=row, message=unknown_name(str(name))) for name in dicts[i] if name not in _ALLOWED]
    worded = {i: e for i, e in errors.items() if e}
    suspect[list(worded)] = False
    return worded


def _cell_value(text: str) -> Any:
    """A CSV cell as a float when it is a number (:func:`stages.dataset.parse_number`), else as the text it is."""
    try:
        return parse_number(text)
    except ValueError:
        return text


#: A cell that pyarrow and :func:`_cell_value` read as the same float: digits, perhaps a point and decimals, too few
#: to overflow (nearly every cell of a spreadsheet's or pandas' number column).
_PLAIN_NUMBER = r"^[0-9]{1,20}(?:\.[0-9]{0,20})?$"


def _dot_grouped(arr: pa.Array, col: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Which cells the model would take that :data:`DOT_GROUPED` matches. Only a number from 1 to 1,000 can be one
    (text, NaN, and a number below 0 are refused anyway, and worded by it in :func:`_cell_errors`), so the pattern
    is run on those cells alone, and of those only on the texts of 5 characters or more (``1.200`` is the shortest
    match; an amount such as ``548`` is not run): a column of ordinary amounts costs three comparisons a cell."""
    long_enough = np.asarray(pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)) >= 5
    where = np.flatnonzero((col >= 1) & (col < 1000) & long_enough)
    found = np.zeros(len(col), dtype=bool)
    if len(where):
        hit = pc.fill_null(pc.match_substring_regex(arr.take(pa.array(where)), f"^{DOT_GROUPED.pattern}$"), False)
        found[where[np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)]] = True
    return found


def _numbers(arr: pa.Array) -> NDArray[np.float64]:
    """CSV cells as :func:`_cell_value` reads them, as floats: NaN for an empty cell and for text that is no number."""
    try:
        return np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # A cell pyarrow cannot read (text, a number with spaces around it): plain numbers by pyarrow, each other text once.
    plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN_NUMBER), False)
    col = np.array(pc.cast(pc.if_else(plain, arr, pa.scalar(None, arr.type)), pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    others = np.flatnonzero(np.asarray(pc.and_(arr.is_valid(), pc.invert(plain)).to_numpy(zero_copy_only=False), dtype=bool))
    encoded = pc.dictionary_encode(arr.take(pa.array(others)))
    values = [v if type(v := _cell_value(t)) is float else math.nan for t in encoded.dictionary.to_pylist()]
    col[others] = np.array(values, dtype=np.float64)[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    return col


def _emptied_marks(arr: pa.Array, bad: NDArray[np.bool_]) -> tuple[pa.Array, NDArray[np.bool_]]:
    """``arr`` with those of its ``bad`` cells that mark a value not known (``NA``, white space:
    :func:`stages.dataset.is_missing`) made empty (null), and which cells those were; each distinct text looked at once.
    Only cells the fast checks refused can be one, so a column they took costs nothing."""
    where = np.flatnonzero(bad)
    if not len(where):
        return arr, np.zeros(len(arr), dtype=bool)
    encoded = pc.dictionary_encode(arr.take(pa.array(where)))
    marked = np.array([is_missing(t) for t in encoded.dictionary.to_pylist()] + [False], dtype=bool)
    if not marked.any():
        return arr, np.zeros(len(arr), dtype=bool)
    marks = np.zeros(len(arr), dtype=bool)
    marks[where] = marked[np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)]
    return pc.if_else(pa.array(marks), pa.scalar(None, arr.type), arr), marks


def check_cells(cells: Mapping[str, pa.Array], rows: NDArray[np.int64]) -> Checked:
    """Validate CSV cells (string columns named as the model's fields, null = empty cell), vectorised per column. A cell
    that marks a value not known (``NA``: :func:`stages.dataset.is_missing`) is an empty one: imputed, or no label."""
    n = len(rows)
    cells = dict(cells)
    suspect = np.zeros(n, dtype=bool)
    X = np.full((n, len(FEATURES)), np.nan)
    for j, f in enumerate(FEATURES):
        arr = cells[f]
        present = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        col = _numbers(arr)
        bad = present & ~_in_range(col)  # also a cell of text (NaN)
        cells[f], marks = _emptied_marks(arr, bad)
        present &= ~marks
        suspect |= bad & ~marks
        suspect |= _dot_grouped(arr, col)
        X[:, j] = np.where(present, col, np.nan)
    suspect |= np.isnan(X).all(axis=1)
    labels: dict[str, Any] = {}
    for label in LABELS:
        if label not in cells:
            labels[label] = pa.nulls(n, pa.string())
            continue
        names, bad = _label_cells(label, cells[label])
        cells[label], marks = _emptied_marks(cells[label], bad)
        suspect |= bad & ~marks
        labels[label] = names
    checked = Checked(rows=rows, X=X, channel=labels["Channel"], region=labels["Region"])

    @functools.cache
    def column(name: str) -> list[Any]:  # as payload values once, not cell by cell (a file of many bad rows)
        texts = cells[name].to_pylist()
        return [None if v is None else _cell_value(v) for v in texts] if name in FEATURES else texts

    def payload(i: int) -> dict[str, Any]:
        return {name: v for name in cells if (v := column(name)[i]) is not None}

    return _settle(checked, suspect, payload, _cell_errors(cells, rows, suspect) if suspect.any() else {})


def _cell_errors(cells: Mapping[str, pa.Array], rows: NDArray[np.int64], suspect: NDArray[np.bool_]) -> dict[int, list[FieldError]]:
    """The errors of the suspect CSV rows with a bad cell (a spending that is text, below 0, above the limit or not
    finite; a label that is no code or name), worded column by column with the model's sentences, each distinct
    cell once. Those rows are taken out of ``suspect`` (in place); the model words the others (no spending given).

    A cell whose points may group thousands (:data:`DOT_GROUPED`) is a bad cell here, though the model would take
    its number: a file's cells are text, and ``12.669`` there is most likely 12,669.

    Bad cells are a CSV row's only possible errors but one: its columns are the model's fields (the header is
    checked), and the model looks for some spending only when every field is valid. So it gives such a row exactly
    these errors, in its order of fields (tested). It takes about 130 µs a row (mostly pydantic's ``errors()``).
    """
    from api.schemas import label_message, spending_message  # pydantic, as for check_one: only when a row fails the fast checks

    where = np.flatnonzero(suspect)
    taken = pa.array(where)
    wrong = np.zeros(len(where), dtype=bool)
    columns: list[tuple[str, NDArray[np.bool_], NDArray[np.int64], list[str | None]]] = []
    for name in (f for f in (*FEATURES, *LABELS) if f in cells):
        encoded = pc.dictionary_encode(cells[name].take(taken))
        codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        texts = encoded.dictionary.to_pylist()
        if name in FEATURES:
            words = [dot_grouped_message(t) if DOT_GROUPED.fullmatch(t) else spending_message(_cell_value(t), "csv") for t in texts]
        else:
            message = label_message(name)
            words = [message if _label_or_bad(name, t) is _BAD else None for t in texts]
        bad = np.array([w is not None for w in words] + [False], dtype=bool)[codes]  # code -1, an empty cell: the last
        wrong |= bad
        columns.append((name, bad, codes, words))
    suspect[where[wrong]] = False
    errors: dict[int, list[FieldError]] = {i: [] for i in where[wrong].tolist()}
    for name, bad, codes, words in columns:
        at = np.flatnonzero(bad)
        for i, row, code in zip(where[at].tolist(), rows[where[at]].tolist(), codes[at].tolist(), strict=True):
            errors[i].append(FieldError(field=name, row=row, message=words[code]))
    return errors


def assign(segmenter: Segmenter, X: NDArray[np.float64]) -> Assignment:
    """``Segmenter.assign`` in cache-sized chunks (same results; about 10 % faster on large inputs, measured)."""
    if len(X) <= SCORE_CHUNK:
        return segmenter.assign(X)
    parts = [segmenter.assign(X[i : i + SCORE_CHUNK]) for i in range(0, len(X), SCORE_CHUNK)]
    joined = {f.name: [getattr(p, f.name) for p in parts] for f in fields(Assignment)}
    merged: dict[str, Any] = {name: None if arrays[0] is None else np.concatenate(arrays) for name, arrays in joined.items()}
    return Assignment(**merged)


@dataclass
class Scored:
    """Checked rows with the segment of each good row (arrays over the good rows only)."""

    checked: Checked
    ok: NDArray[np.bool_]
    assignment: Assignment
    imputed: NDArray[np.bool_]
    #: Whether each good row lies beyond the model's distance limit (:meth:`Segmenter.atypical`).
    atypical: NDArray[np.bool_]


NO_IMPUTE = "missing: give an amount (this service fills in no category left out; params data.impute is error)"


def score(segmenter: Segmenter, checked: Checked) -> Scored:
    """Segment the good rows of a checked batch."""
    if segmenter.impute is None:
        for i in np.flatnonzero(checked.ok & np.isnan(checked.X).any(axis=1)):
            missing = [f for f, v in zip(FEATURES, checked.X[i], strict=True) if np.isnan(v)]
            checked.errors[int(i)] = [FieldError(field=checked.written.get(f, f), row=int(checked.rows[i]), message=NO_IMPUTE) for f in missing]
    ok = checked.ok
    X = checked.X[ok]
    a = assign(segmenter, X)
    return Scored(checked, ok, a, np.isnan(X), segmenter.atypical(nearest_distance(a.distances)))


_BITS = 1 << np.arange(len(FEATURES))


def _imputed_tables(written: Mapping[str, str]) -> tuple[pa.Array, pa.Array]:
    """Imputed categories for each of the 64 patterns of missing cells, as JSON lists and as CSV text, named as the
    input writes them (``written``: field → name, e.g. a CSV header's ``Delicatessen``)."""
    return _imputed_tables_for(tuple(sorted(written.items())))


def _json_texts(values: Sequence[Any]) -> pa.Array:
    """Each value as JSON text."""
    return pa.array([orjson.dumps(v).decode() for v in values], pa.large_string())


@functools.lru_cache(maxsize=8)
def _imputed_tables_for(written: tuple[tuple[str, str], ...]) -> tuple[pa.Array, pa.Array]:
    spelled = dict(written)
    lists = [[spelled.get(f, f) for j, f in enumerate(FEATURES) if code & (1 << j)] for code in range(1 << len(FEATURES))]
    return _json_texts(lists), pa.array([";".join(names) for names in lists], pa.string())


def imputed_codes(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Each row's pattern of imputed categories as a number from 0 to 63."""
    return mask.astype(np.int64) @ _BITS


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def json_numbers(values: NDArray[Any]) -> pa.Array:
    """Numbers as JSON text, vectorised: the shortest digits that read back as the same number (as orjson writes).

    Arrow writes whole floats without a decimal point ("2"), which a JSON reader would take for an integer: those
    get ".0". A non-finite float (none can reach here: inputs and model are checked finite) would be written null.
    """
    text = pc.cast(pa.array(values), pa.large_string())
    if values.dtype.kind != "f":
        return text
    finite = np.isfinite(values)
    whole = finite & (values == np.trunc(np.where(finite, values, 0)))
    if whole.any():  # rare: a confidence of exactly 0 or 1, a point exactly on an axis
        exponent = np.asarray(pc.match_substring(text, "e"), dtype=bool)
        text = pc.if_else(pa.array(whole & ~exponent), pc.binary_join_element_wise(text, _text(".0"), _text("")), text)
    if not finite.all():
        text = pc.if_else(pa.array(finite), text, _text("null"))
    return text


def json_results(scored: Scored, names: list[str], ignored: Sequence[pa.Array] = ()) -> pa.Array:
    """One result per row as JSON text, each followed by a comma (``BatchRowOk`` or ``BatchRowError``), in input order.
    ``ignored``: the cells of a CSV's columns not used to segment (:attr:`api.csvio.Header.carried`), one array per
    column, which each row carries as its ``ignored`` list.

    The good rows are written column by column with Arrow's string kernels: for 100,000 rows about 0.2–0.35 s
    against 1.0 s to build a dict per row and encode it with orjson, which was most of the batch's time (measured
    2026-11-26). The few error rows are written with orjson.
    """
    a = scored.assignment
    seg = pa.array(a.segment)
    name_texts = _json_texts(names)
    pieces: list[Any] = [
        _text('{"row":'), json_numbers(scored.checked.rows[scored.ok]),
        _text(',"ok":true,"segment":'), json_numbers(a.segment),
        _text(',"persona_name":'), pc.take(name_texts, seg),
        _text(',"confidence":'), json_numbers(a.confidence),
        _text(',"atypical":'), pc.if_else(pa.array(scored.atypical, pa.bool_()), _text("true"), _text("false")),
    ]
    if a.probabilities is not None:  # a Gaussian mixture: as in the answer for one customer
        pieces.append(_text(',"probabilities":['))
        for j in range(a.probabilities.shape[1]):
            pieces += [_text("," if j else ""), json_numbers(a.probabilities[:, j])]
        pieces.append(_text("]"))
    pieces += [
        _text(',"position":{"x":'), json_numbers(a.map_xy[:, 0]), _text(',"y":'), json_numbers(a.map_xy[:, 1]),
        _text('},"distances":['),
    ]
    for j, name in enumerate(name_texts.to_pylist()):
        pieces += [_text(("," if j else "") + f'{{"segment":{j},"name":{name},"distance":'), json_numbers(a.distances[:, j]), _text("}")]
    imputed = _imputed_tables(scored.checked.written)[0]
    pieces += [_text('],"imputed":'), pc.take(imputed, pa.array(imputed_codes(scored.imputed)))]
    if ignored:  # the good rows' cells, as JSON texts, column by column
        ok = pa.array(scored.ok)
        pieces.append(_text(',"ignored":['))
        for j, column in enumerate(ignored):
            pieces += [_text("," if j else ""), _json_texts(column.filter(ok).to_pylist())]
        pieces.append(_text("]"))
    pieces.append(_text("},"))
    good = pc.binary_join_element_wise(*pieces, _text("")) if len(seg) else pa.array([], pa.large_string())
    errors = scored.checked.errors
    if not errors:
        return good
    bad = [{"row": int(scored.checked.rows[i]), "ok": False, "errors": [e.as_dict() for e in errs]}
           | ({"ignored": [column[i].as_py() for column in ignored]} if ignored else {}) for i, errs in errors.items()]
    bad_text = pa.array([orjson.dumps(b).decode() + "," for b in bad], pa.large_string())
    where = np.empty(len(scored.checked.rows), dtype=np.int64)  # position of each row's text in good + bad
    where[scored.ok] = np.arange(len(good))
    where[list(errors)] = len(good) + np.arange(len(errors))
    return pc.take(pa.concat_arrays([good, bad_text]), pa.array(where))


def json_object_with_array(head: Mapping[str, Any], key: str, parts: Sequence[pa.Array]) -> bytes:
    """``head`` as a JSON object whose last member, ``key``, is the array of texts from :func:`json_results`.

    The texts' bytes are copied straight out of the Arrow buffers, once: for a large batch each copy costs as much
    as writing the texts.
    """
    chunks: list[bytes | memoryview] = []
    for text in parts:
        offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)
        start, end = offsets[text.offset], offsets[text.offset + len(text)]
        if end > start:
            chunks.append(memoryview(text.buffers()[2])[start:end])
    if chunks:
        chunks[-1] = chunks[-1][:-1]  # the last text's comma
    opening = orjson.dumps(head)[:-1] + (b"," if head else b"") + orjson.dumps(key) + b":["
    return b"".join([opening, *chunks, b"]}"])


def counts(scored: Scored, k: int) -> dict[str, int]:
    """Customers per segment id."""
    return {str(s): int(c) for s, c in enumerate(np.bincount(scored.assignment.segment, minlength=k))}


def error_text(errors: list[FieldError]) -> str:
    """The errors of one row as one CSV cell (fields with the same problem listed together)."""
    by_message: dict[str, list[str]] = {}
    for e in errors:
        by_message.setdefault(e.message, []).append(e.field)
    return "; ".join(f"{', '.join(fields)}: {message}" for message, fields in by_message.items())


RESULT_COLUMNS = ("segment", "persona", "confidence", "atypical", "imputed", "error")


def result_columns(scored: Scored, names: list[str]) -> dict[str, pa.Array]:
    """The result columns of a CSV answer, one value per input row (empty where it does not apply); a Gaussian
    mixture adds ``probability_0`` … ``probability_{k-1}`` after ``confidence``; ``atypical`` is true or false."""
    n = len(scored.checked.rows)
    ok = scored.ok
    a = scored.assignment
    segment = np.zeros(n, dtype=np.int64)
    segment[ok] = a.segment
    confidence = np.zeros(n)
    confidence[ok] = np.round(a.confidence, 4)
    atypical = np.zeros(n, dtype=bool)
    atypical[ok] = scored.atypical
    # as text: pyarrow writes a string column to CSV several times faster than a boolean one (measured 2026-11-27)
    atypical_text = pc.if_else(pa.array(atypical, mask=~ok), pa.scalar("true", pa.string()), pa.scalar("false", pa.string()))
    codes = np.zeros(n, dtype=np.int64)
    codes[ok] = imputed_codes(scored.imputed)
    error = np.full(n, None, dtype=object)
    for i, errs in scored.checked.errors.items():
        error[i] = error_text(errs)
    valid = pa.array(ok)
    seg_arr = pa.array(segment, mask=~ok)
    columns = {
        "segment": seg_arr,
        "persona": pc.if_else(valid, pc.take(pa.array(names), pc.fill_null(seg_arr, 0)), pa.scalar(None, pa.string())),
        "confidence": pa.array(confidence, mask=~ok),
    }
    if a.probabilities is not None:  # a Gaussian mixture: each segment's probability, by id
        for j in range(a.probabilities.shape[1]):
            p = np.zeros(n)
            p[ok] = np.round(a.probabilities[:, j], 4)
            columns[f"probability_{j}"] = pa.array(p, mask=~ok)
    return columns | {
        "atypical": atypical_text,
        "imputed": pc.if_else(valid, pc.take(_imputed_tables(scored.checked.written)[1], pa.array(codes)), pa.scalar(None, pa.string())),
        "error": pa.array(error, type=pa.string()),
    }


def _as_sent(value: Any) -> str | None:
    """A value of a refused JSON row as CSV text: text as it is, null as an empty cell, anything else as JSON writes it."""
    if value is None or isinstance(value, str):
        return value
    if type(value) is int:  # the usual bad values, as json writes them
        return int.__repr__(value)
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)  # NaN, Infinity, true, lists and objects too


def echo_columns(checked: Checked, records: Sequence[Any]) -> dict[str, pa.Array]:
    """The input of JSON rows as CSV columns: good rows' spending as understood and labels by name; a refused row's
    values as it sent them (``-1``, ``"abc"``, ``true``), so the analyst sees what its error is about."""
    ok = checked.ok
    cols: dict[str, pa.Array] = {}
    for j, f in enumerate(FEATURES):
        cols[f] = pa.array(checked.X[:, j], mask=~ok | np.isnan(checked.X[:, j]))
    cols["Channel"] = pa.array(as_list(checked.channel), type=pa.string(), mask=~ok)
    cols["Region"] = pa.array(as_list(checked.region), type=pa.string(), mask=~ok)
    if not checked.errors:
        return cols
    bad = np.flatnonzero(~ok)
    sent = [r if type(r) is dict else {} for r in (records[int(i)] for i in bad)]
    for name in cols:
        alias = ALIAS_OF.get(name)
        texts = [_as_sent(r.get(name, r.get(alias)) if alias else r.get(name)) for r in sent]
        column = cols[name] if pa.types.is_string(cols[name].type) else pc.cast(cols[name], pa.string())  # as the CSV writer writes it
        values = column.to_pylist()
        for i, text in zip(bad, texts, strict=True):
            values[i] = text
        cols[name] = pa.array(values, type=pa.string())
    return cols
