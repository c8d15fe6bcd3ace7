"""The shape of params.yaml, checked before a stage starts: every key present, of its type, in its basic range.

``python -m stages.run_notebook`` checks the whole file before it runs a notebook, so a value such as
``-S select_k.bootstrap=abc``, ``-S features.pca.n_components=1.5`` or ``-S data.labels=[Region]`` stops the first
stage that runs, at once, naming the key, instead of an ``int()`` or sklearn message minutes later (or a silent
``int(1.5) == 1``). The named choices (transform, scaler, criterion, …) and the rules between keys that need no data
(``k_min <= k_max``, ``cluster.algorithm`` among ``select_k.algorithms``, …) are checked here too, with their one
definition in :mod:`stages.choices`; only the checks that need the data (``cluster.k`` against the number of
customers, say) wait for the stage that has it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError, field_validator,
)

from stages import choices
from stages.dataset import CATEGORY_NAMES, LABEL_CODES

Number = StrictFloat  # a YAML number (an integer too); never a string or a boolean


def _among(allowed: Sequence[str]) -> AfterValidator:
    """Text that must be one of ``allowed`` (a tuple of :mod:`stages.choices`), its message listing them."""
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(choices.one_of(allowed))
        return value
    return AfterValidator(check)


Impute = Annotated[StrictStr, _among(choices.IMPUTE_STRATEGIES)]
Transform = Annotated[StrictStr, _among(choices.TRANSFORMS)]
Scaler = Annotated[StrictStr, _among(choices.SCALERS)]
OutlierMethod = Annotated[StrictStr, _among(choices.OUTLIER_METHODS)]
OutlierAction = Annotated[StrictStr, _among(choices.OUTLIER_ACTIONS)]
Algorithm = Annotated[StrictStr, _among(choices.ALGORITHMS)]
Criterion = Annotated[StrictStr, _among(tuple(choices.CRITERIA))]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Base(Section):
    seed: StrictInt = Field(ge=0, le=2**32 - 1)  # numpy's seed range


class Data(Section):
    raw: StrictStr = Field(min_length=1)
    features: list[StrictStr] = Field(min_length=1)
    labels: list[StrictStr]
    impute: Impute

    @field_validator("features")
    @classmethod
    def known_distinct_features(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in CATEGORY_NAMES]
        if unknown:
            raise ValueError(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; use some of {', '.join(CATEGORY_NAMES)}")
        if len(set(value)) < len(value):
            raise ValueError("a category is named twice")
        if len(value) < 2:  # the map of the report and the staff page is two principal components
            raise ValueError("name at least two categories, for the two axes of the customer map")
        return value

    @field_validator("labels")
    @classmethod
    def both_labels(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(LABEL_CODES):
            raise ValueError(f"must be {', '.join(LABEL_CODES)}: the segments are described by both labels (never fitted on them)")
        return value


class Outliers(Section):
    method: OutlierMethod
    iqr_factor: Number
    min_features: StrictInt = Field(ge=1)
    action: OutlierAction

    @field_validator("iqr_factor")
    @classmethod
    def useful_fences(cls, value: float) -> float:
        if not choices.valid_iqr_factor(value):
            raise ValueError(choices.IQR_FACTOR_RULE)
        return value


class Pca(Section):
    n_components: StrictInt = Field(ge=0)


class Features(Section):
    transform: Transform
    scaler: Scaler
    outliers: Outliers
    pca: Pca


class SelectK(Section):
    k_min: StrictInt = Field(ge=2)
    k_max: StrictInt = Field(ge=2)
    algorithms: list[Algorithm] = Field(min_length=1)
    criterion: Criterion
    bootstrap: StrictInt = Field(ge=1)

    @field_validator("algorithms")
    @classmethod
    def distinct_algorithms(cls, value: list[str]) -> list[str]:
        twice = sorted({a for a in value if value.count(a) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} named twice: name each algorithm once")
        return value


#: What ``cluster.k`` may be (also checked by ``stages.cluster.resolve_k``, for notebooks run by hand).
K_RULE = "must be auto or a whole number of segments, at least 2"


def valid_k(k: Any) -> bool:
    """``cluster.k`` is ``auto`` or a whole number of at least 2 (not a boolean, not 2.0)."""
    return k == "auto" or (type(k) is int and k >= 2)


class Cluster(Section):
    k: Any
    algorithm: Algorithm
    n_init: StrictInt = Field(ge=1)

    @field_validator("k")
    @classmethod
    def auto_or_count(cls, value: Any) -> Any:
        if valid_k(value):
            return value
        raise ValueError(K_RULE)


class Personas(Section):
    """The thresholds that word the personas; a value outside these bounds would mislabel segments. Checked here,
    before the first stage runs, not when the last stage (personas) reaches them: `dvc exp run -S features.… -S
    personas.dominant_channel=0.5` stopped only after the features, k sweep and clustering had run."""

    high: Number
    low: Number
    dominant_channel: Number

    @field_validator("high")
    @classmethod
    def above_typical(cls, value: float) -> float:
        if not value > 1:
            raise ValueError("must be above 1: a category is high at this ratio to the base median or more")
        return value

    @field_validator("low")
    @classmethod
    def below_typical(cls, value: float) -> float:
        if not 0 < value < 1:
            raise ValueError("must be above 0 and below 1: a category is low at this ratio to the base median or less")
        return value

    @field_validator("dominant_channel")
    @classmethod
    def a_majority(cls, value: float) -> float:
        if not 0.5 < value <= 1:
            raise ValueError("must be above 0.5 and at most 1: the share of a segment's customers in one channel that "
                             "puts the channel in its name")
        return value


class Params(Section):
    base: Base
    data: Data
    features: Features
    select_k: SelectK
    cluster: Cluster
    personas: Personas


class ParamsError(ValueError):
    """params.yaml does not have the shape the pipeline needs; the message names every bad key."""


def check(params: dict[str, Any]) -> None:
    """Raise :class:`ParamsError` naming each key of ``params`` (params.yaml as loaded) that is missing, unknown, of
    the wrong type, out of its basic range or not one of its choices; once every key is right on its own, each rule
    between keys that the stages would break (:func:`between_keys`)."""
    try:
        Params.model_validate(params)
    except ValidationError as exc:
        raise ParamsError("params.yaml: " + "; ".join(_problem(e) for e in exc.errors(include_url=False))) from None
    problems = between_keys(params)
    if problems:
        raise ParamsError("params.yaml: " + "; ".join(problems))


def between_keys(params: dict[str, Any]) -> list[str]:
    """The rules of :mod:`stages.choices` between keys of a valid ``params.yaml`` that it breaks, each as its message."""
    n_features = len(params["data"]["features"])
    select_k, served = params["select_k"], params["cluster"]["algorithm"]
    rules: list[Callable[[], None]] = [
        lambda: choices.check_feature_counts(params["features"], n_features),
        lambda: choices.check_k_range(select_k["k_min"], select_k["k_max"]),
        lambda: choices.check_served(served, select_k["algorithms"]),
        lambda: choices.check_criterion(select_k["criterion"], served),
    ]
    problems = []
    for rule in rules:
        try:
            rule()
        except ValueError as problem:
            problems.append(str(problem))
    return problems


def check_section(name: str, values: dict[str, Any]) -> None:
    """:func:`check` for one section (``personas``, say), as a stage's code receives it: for a notebook run by hand,
    without ``python -m stages.run_notebook``'s check of the whole file."""
    model = Params.model_fields[name].annotation
    assert isinstance(model, type) and issubclass(model, Section)
    try:
        model.model_validate(values)
    except ValidationError as exc:
        errors = [{**e, "loc": (name, *e["loc"])} for e in exc.errors(include_url=False)]
        raise ParamsError("params.yaml: " + "; ".join(_problem(e) for e in errors)) from None


def _problem(error: Any) -> str:
    key = ".".join(part for part in error["loc"] if isinstance(part, str)) or "(top level)"
    key += "".join(f", item {part + 1}" for part in error["loc"] if isinstance(part, int))
    if error["type"] == "missing":
        return f"{key}: missing"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    context = error.get("ctx") or {}
    message = {
        "int_type": "must be a whole number", "int_from_float": "must be a whole number",
        "float_type": "must be a number", "string_type": "must be text", "list_type": "must be a list",
        "model_type": "must be a section of keys", "too_short": "must not be empty",
        "greater_than_equal": f"must be at least {context.get('ge')}", "less_than_equal": f"must be at most {context.get('le')}",
    }.get(error["type"]) or error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = repr(value) if not isinstance(value, (dict, list)) or len(repr(value)) <= 60 else type(value).__name__
    return f"{key}: {message} (got {shown})"
