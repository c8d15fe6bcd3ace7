"""Request and response models of the API (pydantic v2): they validate requests and generate the OpenAPI document.

A customer is six yearly spendings (monetary units), each a finite number from 0 to :data:`MAX_SPEND`,
plus optional Channel and Region given by code or name. Missing categories are imputed from the training data.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from api.fields import ALIASES, ALLOWED_TEXT, FEATURES, LABEL_SPELLINGS, MAX_SPEND, FieldError, label_choices, label_name, unknown_name
from stages.dataset import LABEL_CODES, number_advice, unknown_advice
from stages.segmenter import ATYPICAL_QUANTILE


#: The error for a Channel or Region value that is no code or name of it.
LABEL_RULE = "must be one of {accepted} (code or name)"


def label_message(label: str) -> str:
    """The model's sentence for a ``label`` value that is no code or name of it."""
    return LABEL_RULE.format(accepted=label_choices(label))


def _label_validator(label: str) -> Any:
    codes = LABEL_CODES[label]
    accepted = label_choices(label)

    def check(value: Any) -> str | None:
        try:
            return label_name(label, value)
        except ValueError:
            raise PydanticCustomError("label", LABEL_RULE, {"accepted": accepted}) from None

    schema = {
        "anyOf": [  # titled, so that client generators name the enums (ChannelCode, not Type0)
            {"title": f"{label}Code", "type": "integer", "enum": list(codes)},
            {"title": f"{label}Name", "type": "string", "enum": [*codes.values(), *LABEL_SPELLINGS.get(label, {})]},
            {"type": "null"},
        ],
        "description": f"{label} by code or name ({accepted}); optional, returned as the name. Names are read in any "
        "case and codes also as text or as another number equal to the code (2.0, 2.00), as the pipeline reads them.",
    }
    return Annotated[str | None, BeforeValidator(check), WithJsonSchema(schema, mode="validation")]


def _no_default(schema: dict[str, Any]) -> None:
    # Leaving a category out means "impute it"; null itself is not accepted, so the schema shows no null default.
    schema.pop("default", None)


Spend = Annotated[
    float,
    Field(
        json_schema_extra=_no_default,
        strict=True,
        ge=0,
        le=MAX_SPEND,
        allow_inf_nan=False,
        description=f"Yearly spending in monetary units: a finite number from 0 to {MAX_SPEND:,}. "
        "Leave the field out to impute it from the training data.",
    ),
]
ChannelField = _label_validator("Channel")
RegionField = _label_validator("Region")


class CustomerIn(BaseModel):
    """One customer: yearly spending per category (at least one), optional Channel and Region."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # A category at least, and not a column under both its names. Under allOf, so that the schema stays one
            # object with properties: client generators (openapi-python-client) read an anyOf beside the properties as
            # a union of nameless schemas, and typed a customer, and a batch, as Any.
            "allOf": [
                {"anyOf": [{"required": [name]} for name in (*FEATURES, *ALIASES)]},
                *[{"not": {"required": [alias, canonical]}} for alias, canonical in ALIASES.items()],  # type: ignore[list-item]
            ],
        },
    )

    Fresh: Spend = None  # type: ignore[assignment]
    Milk: Spend = None  # type: ignore[assignment]
    Grocery: Spend = None  # type: ignore[assignment]
    Frozen: Spend = None  # type: ignore[assignment]
    Detergents_Paper: Spend = None  # type: ignore[assignment]
    Delicassen: Spend = None  # type: ignore[assignment]
    Delicatessen: Spend = Field(None, description="Accepted for Delicassen (the data set's spelling); give one of the two.", json_schema_extra=_no_default)  # type: ignore[assignment]
    Channel: ChannelField = None  # type: ignore[valid-type]  # an Annotated type built by _label_validator
    Region: RegionField = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_category_at_least(self) -> CustomerIn:
        if self.Delicatessen is not None:
            if self.Delicassen is not None:
                raise PydanticCustomError("alias_conflict", "give Delicassen or Delicatessen, not both")
            self.Delicassen, self.Delicatessen = self.Delicatessen, None
            # one field given, by its canonical name (the assignment above marked both): the API compares the count
            # of fields set with the keys in the JSON text to find a field given twice
            self.__pydantic_fields_set__.discard("Delicatessen")
        if all(getattr(self, f) is None for f in FEATURES):
            raise PydanticCustomError("no_spending", "no spending given: at least one of the six categories is needed")
        return self

    def spending(self) -> list[float]:
        """The six spendings in model order, NaN where missing (the model imputes those)."""
        return [math.nan if (v := getattr(self, f)) is None else float(v) for f in FEATURES]


class ErrorBody(BaseModel):
    """Details of an error answer."""

    status: int
    title: str
    message: str = Field(description="A sentence for people.")
    errors: list[FieldError] = Field(description="Each field (and row) at fault; empty when the problem is the request's as a whole "
                                     "and names no field (a 413, a 415 for its content type, a 404, a 405).")


class ErrorOut(BaseModel):
    """Every 4xx and 5xx answer."""

    error: ErrorBody


class Position(BaseModel):
    """Position on the report's PCA map (same axes as GET /api/pca)."""

    x: float
    y: float


class Distance(BaseModel):
    """Distance from the customer to one segment centre, in the space the model clusters in.

    k-Means and agglomerative models put the customer in the segment with the nearest centre. A Gaussian mixture
    also weighs each segment's size and spread, so its most probable segment need not be the nearest.
    """

    segment: int
    name: str
    distance: float


class Level(StrEnum):
    """How a segment's median spend in a category compares with the whole base's (stages.personas.level_of)."""

    # A class, not a Literal: the document then holds one named schema that both personas refer to, where client
    # generators made a nameless enum of each (PersonaLevelsAdditionalProperty, PersonaBriefLevelsAdditionalProperty).
    HIGH = "high"
    LOW = "low"
    TYPICAL = "typical"


PROFILE_TEXT = (
    "Per category, the segment's median yearly spend divided by the whole base's median, each counted as at least 1 "
    "(1 = like the typical customer), to four decimals; people are shown it to two (1.3817 as 1.38×). In a category of most_buy_none the base median is under 1, so this is the "
    "segment's median against 1, an amount and not a comparison: show the segment's median (centre) instead."
)

CENTRE_TEXT = "Per category, the segment's median yearly spend (monetary units a year)."

MOST_BUY_NONE_TEXT = (
    "The categories whose median over the whole base is under 1: most customers buy none of them. Their profile "
    "value is no ratio to show; the descriptions and the staff page say the segment's median (centre) and that most "
    "customers buy none. The same list for every persona; empty when every category is bought by most customers."
)

LEVELS_TEXT = (
    "Per category, high or low when the profile value, to two decimals as it is shown (a half rounded up: 0.6704 "
    "is 0.67), is at least params personas.high or at most personas.low, else typical. In a category of most_buy_none, high means the segment's median is at least personas.high a "
    "year and more than personas.low times the median of the customers who buy the category (spend at least 1 there), where most customers buy none; else typical, never low."
)


class PersonaBrief(BaseModel):
    """The persona of a segment, as shown with an answer."""

    id: int
    name: str
    description: str
    actions: list[str]
    levels: dict[str, Level] = Field(description=LEVELS_TEXT)
    profile: dict[str, float] = Field(description=PROFILE_TEXT)
    centre: dict[str, float] = Field(description=CENTRE_TEXT)
    most_buy_none: list[str] = Field(description=MOST_BUY_NONE_TEXT)
    size: int
    share: float


class Spending(BaseModel):
    """Yearly spending in each of the six categories."""

    Fresh: float
    Milk: float
    Grocery: float
    Frozen: float
    Detergents_Paper: float
    Delicassen: float


class CustomerEcho(Spending):
    """The input as understood: six spendings (imputed ones filled in) and the label names."""

    Channel: str | None
    Region: str | None


CONFIDENCE_TEXT = (
    "How clearly the customer belongs to its segment, from 0 to 1. k-Means and agglomerative models: "
    "1 − d₁/d₂ with d₁, d₂ the distances to the nearest and second-nearest segment centres "
    "(0 = on the border between two segments, 1 = at the centre). Gaussian mixture: the posterior probability."
)


ATYPICAL_TEXT = (
    f"true when the customer's nearest segment centre is farther away than it is for {ATYPICAL_QUANTILE:.0%} of the customers the model "
    "was fitted on (distance_limit in ml/segmenter.json): the segment is still the nearest one, but the customer "
    "resembles none of the segments well, most often because an amount was mistyped (thousands read as units, say). "
    "Check the amounts before acting on the persona."
)


class SegmentOut(BaseModel):
    """The segment of one customer, with the evidence behind it."""

    segment: int
    persona: PersonaBrief
    distances: list[Distance] = Field(description="Every segment, by id.")
    confidence: float = Field(ge=0, le=1, description=CONFIDENCE_TEXT)
    atypical: bool = Field(description=ATYPICAL_TEXT)
    probabilities: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        description="Gaussian mixture only: the posterior probability of each segment, by id (they add up to 1; the "
        "segment is the most probable, which need not be the nearest centre). null for k-Means and agglomerative "
        "models, which put the customer in the segment with the nearest centre."
    )
    position: Position
    imputed: list[str] = Field(description="Categories filled in from the training data's medians or means, as `impute` of "
                               "GET /api/fields says.")
    input: CustomerEcho
    model_version: str = Field(description="md5 of ml/segmenter.json as recorded in dvc.lock.")


IGNORED_TEXT = ("A CSV with columns not used to segment only (absent otherwise): this row's cells in those columns, "
                "in the order of the answer's `ignored_columns`, as written (null for an empty cell).")


class BatchRowOk(BaseModel):
    """One customer of a batch that was segmented."""

    row: int
    ok: Literal[True]
    segment: int
    persona_name: str
    confidence: float = Field(ge=0, le=1, description=CONFIDENCE_TEXT)
    atypical: bool = Field(description=ATYPICAL_TEXT)
    probabilities: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        None, description="Gaussian mixture only (absent for k-Means and agglomerative models): the posterior "
        "probability of each segment, by id, as in the answer for one customer."
    )
    position: Position
    distances: list[Distance]
    imputed: list[str]
    ignored: list[str | None] | None = Field(None, description=IGNORED_TEXT)


class BatchRowError(BaseModel):
    """One row of a batch that could not be segmented, and why."""

    row: int
    ok: Literal[False]
    errors: list[FieldError]
    ignored: list[str | None] | None = Field(None, description=IGNORED_TEXT)


class BatchOut(BaseModel):
    """One result or one error per input row, in input order."""

    model_version: str
    n_rows: int
    n_ok: int
    n_errors: int
    counts: dict[str, int] = Field(description="Customers per segment id (as text), every segment listed.")
    ignored_columns: list[str] = Field(description=(
        "A CSV's columns that are none of the fields (a customer number, a note): not used to segment, and copied "
        "unchanged to a CSV answer, in their place, so its rows can be matched with the customers. An unnamed column "
        "is named `(column N)`. Empty for a JSON batch, whose unknown fields are refused."))
    encoding: Literal["UTF-8", "Windows-1252", "UTF-16LE", "UTF-16BE"] = Field(description=(
        "The encoding the batch was read in. A CSV file is UTF-8 (a byte-order mark allowed), UTF-16LE or UTF-16BE when it starts "
        "with a UTF-16 byte-order mark (Excel's Unicode Text) or, without one, with characters written in UTF-16, or Windows-1252 (Excel's CSV on Windows) when it is not "
        "UTF-8 and only ASCII comes before its first byte that is not; a JSON batch is UTF-8. Answers are UTF-8."))
    results: list[BatchRowOk | BatchRowError]


class TypicalCustomer(Spending):
    """The segment's medoid: the member with the smallest total distance to the other members (in the space the
    model clusters in), and its yearly spending."""

    row: int = Field(description="Its row in data/raw/wholesale_customers.csv, numbered from 1 (header not counted).")


class Persona(BaseModel):
    """A segment described for sales staff (ml/personas.json)."""

    model_config = ConfigDict(extra="allow")

    id: int
    name: str
    description: str
    size: int
    share: float
    centre: dict[str, float] = Field(description=CENTRE_TEXT)
    profile: dict[str, float] = Field(description=PROFILE_TEXT)
    levels: dict[str, Level] = Field(description=LEVELS_TEXT)
    most_buy_none: list[str] = Field(description=MOST_BUY_NONE_TEXT)
    channel_mix: dict[str, float]
    region_mix: dict[str, float]
    typical_customer: TypicalCustomer
    actions: list[str]


class ClustersOut(BaseModel):
    """All personas of the served model."""

    model_version: str
    k: int
    algorithm: str
    personas: list[Persona]


class MapPoint(BaseModel):
    """One training customer on the PCA map."""

    x: float
    y: float
    segment: int
    clustered: bool = Field(description="False for outliers left out of the clustering (segment assigned afterwards).")


class MapCentre(BaseModel):
    """A segment's centre on the PCA map (mean position of its clustered customers)."""

    segment: int
    x: float
    y: float


class PcaOut(BaseModel):
    """The report's PCA map."""

    model_version: str
    explained_variance: list[float]
    axes: dict[str, str]
    axis_meaning: dict[str, str] = Field(
        description="What moving along each map direction (x, y) means, from its heaviest category weights: for "
                    "example 'more milk products, groceries, detergents and paper'.")
    points: list[MapPoint]
    centres: list[MapCentre]


class SweepRow(BaseModel):
    """Criteria of one (algorithm, k) of the k sweep, and its agreement with Channel; null where a criterion does not apply."""

    algorithm: str
    k: int
    inertia: float | None
    silhouette: float | None
    calinski_harabasz: float | None
    davies_bouldin: float | None
    bic: float | None
    stability: float | None
    channel_ari: float | None = Field(
        description="Adjusted Rand index between this partition and the Channel label (Horeca/Retail): how far the "
                    "segments repeat a split the distributor already records. Reported, never used to pick k.")


class ElbowOut(BaseModel):
    """The k sweep and the choice made from it."""

    algorithm: str
    criterion: str
    chosen_k: int | None = Field(description="k picked by the criterion (select_k stage).")
    k_used: int = Field(description="k of the served model (params may fix it).")
    rows: list[SweepRow]


class FeatureInfo(BaseModel):
    """One input field for the form: label, typical range in the data, limit."""

    name: str
    label: str
    unit: str
    p5: float
    median: float
    p95: float
    max_allowed: float


class ImputeInfo(BaseModel):
    """How the served model fills in a spending category left out of a request."""

    method: Literal["median", "mean"] = Field(
        description="The statistic filled in: the median or the mean of each category over the training data's customers "
        "(params data.impute, as ml/data_report.json records it)."
    )
    values: dict[str, float] = Field(description="The amount filled in for each category, by field name (Fresh … Delicassen).")


class FieldsOut(BaseModel):
    """What the form needs to know about the inputs."""

    features: list[FeatureInfo]
    impute: ImputeInfo | None = Field(
        description="How a category left out is filled in; null when the served model fills in none (params data.impute "
        "is error), so that a request without every category is refused (422)."
    )
    channel: dict[str, str]
    region: dict[str, str]
    report_available: bool


class HealthOut(BaseModel):
    """Service status."""

    status: Literal["ok"]
    model_version: str
    k: int
    algorithm: str = Field(description="The served algorithm's code in params.yaml: kmeans, agglomerative or gmm.")
    algorithm_name: str = Field(description="Its name in prose, as the report writes it (k-Means, …).")


def _beyond_float(value: Any) -> bool:
    """An integer too large for a float (pydantic's JSON parser reads such digits as infinity)."""
    if type(value) is not int:
        return False
    try:
        float(value)
    except OverflowError:
        return True
    return False


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"text {value[:40]!r}" + ("…" if len(value) > 40 else "")
    if _beyond_float(value):
        return "a number too large to represent"
    if isinstance(value, dict):  # also an object that gave a key twice (api.batch.RepeatedKeys)
        return "an object"
    return {int: "a number", float: "a number", list: "a list"}.get(type(value), type(value).__name__)


def _number(value: Any) -> str:
    """A number as the customer wrote it: a whole float read from a CSV cell (``-1.0``) without its ``.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


#: What to leave out for an amount not known, by where the value came from (:func:`stages.dataset.number_advice`).
LEAVE_OUT = {"json": "leave the field out", "csv": "leave the cell empty"}


def _message(kind: str, value: Any, default: str, source: Literal["json", "csv"] = "json") -> str:
    """The sentence for one of pydantic's error kinds about ``value`` (its own message for the kinds not listed);
    text that reads as an amount written another way (``12,5``, ``€12669``, ``n/a``) is told what to write instead,
    and null (which clients generated from the OpenAPI document send for an optional field not set) to leave it out."""
    if kind == "float_type":
        advice = (number_advice(value, empty=LEAVE_OUT[source]) if isinstance(value, str)
                  else f": {unknown_advice(LEAVE_OUT[source])}" if value is None else None)
        return f"must be a number (yearly spending), not {_describe(value)}{advice or ''}"
    if kind == "finite_number":  # NaN is not how an amount not known is given (an empty CSV cell or NA; a field left out)
        return f"must be a finite number: NaN, Infinity and numbers too large to represent are not allowed; {unknown_advice(LEAVE_OUT[source])}"
    if kind == "greater_than_equal":
        return f"must be 0 or more (got {_number(value)})"
    if kind == "less_than_equal":
        return f"must be at most {MAX_SPEND:,} (got {_number(value)})"
    if kind in ("model_type", "model_attributes_type"):
        return f"must be a JSON object with the fields {ALLOWED_TEXT}, not {_describe(value)}"
    return default


def spending_message(value: Any, source: Literal["json", "csv"] = "json") -> str | None:
    """The model's sentence for a spending value (parsed from JSON, or a CSV cell as a float or, when it is no number,
    its text), None when the model accepts it: what :func:`field_errors` words for that field, without the model."""
    if type(value) is not int and type(value) is not float:  # text, true/false, null, a list, an object
        return _message("float_type", value, "", source)
    if _beyond_float(value) or not math.isfinite(value):
        return _message("finite_number", value, "", source)
    if value < 0:
        return _message("greater_than_equal", value, "")
    if value > MAX_SPEND:
        return _message("less_than_equal", value, "")
    return None


def field_errors(exc: ValidationError, row: int | None = None) -> list[FieldError]:
    """Translate pydantic's errors into one clear sentence per field, naming the field (and row)."""
    out: list[FieldError] = []
    for e in exc.errors(include_url=False):
        kind, loc, value = e["type"], e["loc"], e.get("input")
        field = str(loc[0]) if loc else "body" if row is None else "row"  # a batch row that is not an object: the row
        if kind == "no_spending":
            out.extend(FieldError(field=f, row=row, message=e["msg"]) for f in FEATURES)
            continue
        if kind == "alias_conflict":
            field = "Delicatessen"
        if kind == "float_type" and _beyond_float(value):
            kind = "finite_number"  # the same digits as JSON text (POST /api/segment) parse to infinity: same message
        message = unknown_name(field) if kind == "extra_forbidden" else _message(kind, value, e["msg"])
        out.append(FieldError(field=field, row=row, message=message))
    return out
