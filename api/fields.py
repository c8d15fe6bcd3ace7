"""The API's input fields and its error records, without pydantic (``python -m api.score`` starts faster without it).

The pydantic models in :mod:`api.schemas` validate requests and describe the API; they take their field names,
limits and label spellings from here, and their error answers carry :class:`FieldError` records.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from typing import Any

from stages.dataset import COLUMN_ALIASES, LABEL_CODES, parse_number

#: The six spending categories, in the served model's column order (checked against ml/segmenter.json at start-up).
FEATURES: tuple[str, ...] = ("Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen")
#: The data set's column for each accepted spelled-out name ("Delicatessen" → "Delicassen").
ALIASES: dict[str, str] = dict(COLUMN_ALIASES)
#: The spelled-out name of each column that has one ("Delicassen" → "Delicatessen").
ALIAS_OF: dict[str, str] = {canonical: alias for alias, canonical in ALIASES.items()}
LABELS: tuple[str, ...] = tuple(LABEL_CODES)
#: Largest yearly spending accepted in one category: about 90× the largest in the data (112,151), a round 10 million.
MAX_SPEND = 10_000_000
#: Every field name a request may use.
ALLOWED_FIELDS: tuple[str, ...] = (*FEATURES, *ALIASES, *LABELS)
ALLOWED_TEXT = ", ".join(FEATURES) + f" (or {', '.join(f'{a} for {c}' for a, c in ALIASES.items())}), " + ", ".join(LABELS)
#: Other names accepted for a label value (in any case), by label: the Portuguese names. The data set names the
#: distributor's regions and channels in English ("Lisbon", "Oporto", "Retail"); its own systems and staff write
#: "Lisboa", "Porto" and "Retalho", and a file of such rows would otherwise have every row refused over an optional
#: field. Answers give the data set's name.
LABEL_SPELLINGS: dict[str, dict[str, str]] = {"Channel": {"Retalho": "Retail"}, "Region": {"Lisboa": "Lisbon", "Porto": "Oporto"}}
#: Accepted spellings of each label value (code as number or text, name or :data:`LABEL_SPELLINGS` in any case) → the
#: label name. A code may also be written as any other number equal to it (``2.0``, as pandas writes a code column
#: with an empty cell; ``2.00``, ``+2``), as the pipeline reads it (:func:`label_name`); the common ``2.0`` is looked
#: up directly.
LABEL_LOOKUP: dict[str, dict[Any, str]] = {
    label: {
        **{code: name for code, name in codes.items()},
        **{str(code): name for code, name in codes.items()},
        **{f"{code}.0": name for code, name in codes.items()},
        **{name.lower(): name for name in codes.values()},
        **{other.lower(): name for other, name in LABEL_SPELLINGS.get(label, {}).items()},
    }
    for label, codes in LABEL_CODES.items()
}


def label_choices(label: str) -> str:
    """The values ``label`` accepts, as an error or a schema puts them: "1 or Lisbon or Lisboa, 2 or Oporto or Porto, 3
    or Other"."""
    others = {name: other for other, name in LABEL_SPELLINGS.get(label, {}).items()}
    return ", ".join(f"{c} or {n}" + (f" or {others[n]}" if n in others else "") for c, n in LABEL_CODES[label].items())


def _folded(name: str) -> str:
    return name.strip().casefold().replace(" ", "_").replace("-", "_")


#: Each accepted name by its folded spelling (any case, spaces or hyphens for underscores): "detergents paper".
_FOLDED_NAMES = {_folded(n): n for n in ALLOWED_FIELDS}


@functools.lru_cache(maxsize=256)
def meant_name(name: str) -> str | None:
    """The accepted name ``name`` is another case or a near spelling of ("fresh", "Detergents Paper", "Frozn"), if any."""
    key = _folded(name)
    if key not in _FOLDED_NAMES:
        key = next(iter(difflib.get_close_matches(key, _FOLDED_NAMES, n=1, cutoff=0.8)), key)
    return _FOLDED_NAMES.get(key)


@functools.lru_cache(maxsize=256)
def unknown_name(name: str, what: str = "field") -> str:
    """The error for a field or column ``name`` that the API does not know, with the name meant when it is a near
    spelling of one (:func:`meant_name`): names are matched exactly, as the data set writes them."""
    meant = meant_name(name)
    hint = f" (did you mean {meant}? a name must match exactly)" if meant and meant != name else ""
    return f"unknown {what}{hint}; allowed {what}s are {ALLOWED_TEXT}"


def label_name(label: str, value: Any) -> str | None:
    """The label name for a code or name (None when not given); raises ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # JSON 2.0 (a pandas client's code column with gaps)
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError
    key = value.strip().lower() if isinstance(value, str) else value
    try:
        return LABEL_LOOKUP[label][key]
    except KeyError:
        pass
    if isinstance(key, str):  # a number equal to a code, written otherwise ("2.00", "+2", "2e0"): the pipeline takes it
        number = parse_number(key)  # raises ValueError when the text is no number
        if number.is_integer() and int(number) in LABEL_CODES[label]:
            return LABEL_CODES[label][int(number)]
    raise ValueError


_FIELD_ERROR_DOCS = {
    "field": "Field or column name; `body` for the request as a whole, `row` for a batch row as a whole.",
    "row": "Row number from 1 in input order (CSV: header and blank lines not counted); null outside batches.",
}


def _describe_properties(schema: dict[str, Any]) -> None:
    for name, text in _FIELD_ERROR_DOCS.items():
        schema["properties"][name]["description"] = text
    schema["required"] = list(schema["properties"])  # as_dict writes every key, row as null outside batches
    schema["properties"]["row"].pop("default", None)


@dataclass(frozen=True, kw_only=True, slots=True)  # slots: a refused file makes hundreds of thousands
class FieldError:
    """One problem with the input, naming the field and, in a batch, the row (numbered from 1)."""

    # pydantic reads this when FieldError appears in a model (the error answers), for the OpenAPI descriptions.
    __pydantic_config__ = {"json_schema_extra": _describe_properties}

    field: str
    row: int | None = None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The record as it appears in a JSON answer."""
        return {"field": self.field, "row": self.row, "message": self.message}
