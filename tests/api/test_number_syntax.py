"""One number syntax (``tests/number_syntax.json``) for the raw data, the API's CSV cells and the staff page."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from stages.dataset import DOT_GROUPED, NUMBER_RULE, dot_grouped_message, is_missing, number_advice, parse_number
from stages.prepare import DataValidationError, prepare, read_raw_text

CASES = json.loads((Path(__file__).parents[1] / "number_syntax.json").read_text(encoding="utf-8"))
RAW_HEADER = "Channel,Region,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen"
FEATURES = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


def _raw(cell: str) -> str:
    """A raw data file whose second customer's Fresh is ``cell`` (quoted: some cases hold a comma)."""
    return f'{RAW_HEADER}\n2,3,12669,9656,7561,214,2674,1338\n2,3,"{cell}",9810,9568,1762,3293,1776\n'


def _pipeline(cell: str) -> float:
    prepared = prepare(read_raw_text(_raw(cell), "raw.csv"), FEATURES, ["Channel", "Region"], "median", "raw.csv")
    return float(prepared.customers.loc[prepared.customers["row"] == 2, "Fresh"].iloc[0])


def _api_row(client: FlaskClient, cell: str) -> dict:
    body = f'{",".join(FEATURES)}\n"{cell}",9810,9568,1762,3293,1776\n'
    r = client.post("/api/segment/batch", data=body.encode(), content_type="text/csv")
    assert r.status_code == 200, r.get_json()
    return r.get_json()["results"][0]


@pytest.mark.parametrize(("text", "value"), CASES["numbers"])
def test_a_number_is_read_alike_by_the_pipeline_and_the_api(client: FlaskClient, text: str, value: float) -> None:
    assert parse_number(text) == value
    row = _api_row(client, text)
    if value < 0:  # read as a number, then refused as negative by both
        with pytest.raises(DataValidationError, match=re.escape(f"row 2, column Fresh: {text!r} is negative")):
            _pipeline(text)
        assert not row["ok"] and row["errors"][0]["message"] == f"must be 0 or more (got {text})"
        return
    assert _pipeline(text) == value
    plain = _api_row(client, repr(float(value)))  # the same amount spelt as Python writes it
    assert row["ok"] and (row["segment"], row["distances"]) == (plain["segment"], plain["distances"])


@pytest.mark.parametrize("text", CASES["refused"] + [t for t, _ in CASES["page_only"]])
def test_what_is_not_a_number_is_refused_alike_naming_the_cell(client: FlaskClient, text: str) -> None:
    """Python's float() reads 1_000, full-width and Arabic-Indic digits; neither reader does. Grouped digits are
    the staff page's alone (it shows amounts that way)."""
    with pytest.raises(ValueError):
        parse_number(text)
    with pytest.raises(DataValidationError, match=re.escape(f"row 2, column Fresh: {text!r} is not a number")):
        _pipeline(text)
    row = _api_row(client, text)
    assert not row["ok"] and row["errors"][0]["field"] == "Fresh" and "must be a number" in row["errors"][0]["message"]


@pytest.mark.parametrize("text", CASES["not_finite"])
def test_infinity_and_nan_are_refused_as_not_finite_alike(client: FlaskClient, text: str) -> None:
    """NaN in the raw data had been imputed, while the API refused it: both refuse it now, saying how to give an
    amount that is not known (an empty cell, or NA: :func:`stages.dataset.is_missing`)."""
    assert not math.isfinite(parse_number(text)) and not is_missing(text)
    with pytest.raises(DataValidationError, match=re.escape(f"row 2, column Fresh: {text!r} is not a finite number: leave the cell empty when the amount is not known")):
        _pipeline(text)
    row = _api_row(client, text)
    assert not row["ok"] and row["errors"][0]["message"].startswith("must be a finite number")
    assert row["errors"][0]["message"].endswith("; leave the cell empty when the amount is not known")


@pytest.mark.parametrize("text", ["", " ", "NA", "na", "Na", " nA "])
def test_a_value_not_known_is_imputed_alike(client: FlaskClient, text: str) -> None:
    """An empty cell, or NA as R's write.csv writes one: the pipeline imputed NA where the API refused it as text."""
    assert is_missing(text)
    prepared = prepare(read_raw_text(_raw(text), "raw.csv"), FEATURES, ["Channel", "Region"], "median", "raw.csv")
    assert prepared.report["impute"]["rows"] == {"Fresh": [2]}
    row = _api_row(client, text)
    assert row["ok"] and row["imputed"] == ["Fresh"]


def test_json_leaves_a_field_out_for_an_amount_not_known_and_says_so(client: FlaskClient) -> None:
    """A JSON body is no file: the text "NA" stays refused and NaN too, each told to leave the field out."""
    r = client.post("/api/segment", json={**dict.fromkeys(FEATURES, 1), "Fresh": "NA"})
    assert r.status_code == 422 and r.get_json()["error"]["errors"] == [
        {"field": "Fresh", "row": None, "message": "must be a number (yearly spending), not text 'NA': leave the field out when the amount is not known"}
    ]
    r = client.post("/api/segment", data='{"Fresh": NaN, "Milk": 1}', content_type="application/json")
    assert r.status_code == 422 and r.get_json()["error"]["errors"] == [
        {"field": "Fresh", "row": None, "message": "must be a finite number: NaN, Infinity and numbers too large to represent are not allowed; "
         "leave the field out when the amount is not known"}
    ]


@pytest.mark.parametrize("text", CASES["ambiguous"])
def test_points_that_may_group_thousands_are_refused_alike_with_both_readings(client: FlaskClient, text: str) -> None:
    """12.669 from a Portuguese spreadsheet is twelve thousand: read as twelve, a customer a thousand times smaller
    was scored (API) and fitted (pipeline) without a word. Both refuse it now, in the same words."""
    message = dot_grouped_message(text)
    assert ("is ambiguous: " if text.count(".") == 1 else "is not a number") in message
    with pytest.raises(DataValidationError) as raised:
        _pipeline(text)
    assert f"row 2, column Fresh: {message}" in str(raised.value)
    row = _api_row(client, text)
    assert not row["ok"] and [(e["field"], e["message"]) for e in row["errors"]] == [("Fresh", message)]


def test_a_negative_amount_with_a_grouping_point_is_refused_as_negative_not_as_ambiguous(client: FlaskClient) -> None:
    """'-1.200' was asked about in a file ('For -1,200, write -1200': an amount refused in turn) while the pipeline
    said it is negative; both now say it is negative, whichever reading was meant."""
    with pytest.raises(DataValidationError, match=re.escape("row 2, column Fresh: '-1.200' is negative")):
        _pipeline("-1.200")
    row = _api_row(client, "-1.200")
    assert not row["ok"] and [(e["field"], e["message"]) for e in row["errors"]] == [("Fresh", "must be 0 or more (got -1.2)")]


@pytest.mark.parametrize(("text", "advice"), CASES["advice"])
def test_an_amount_written_another_way_is_told_what_to_write_alike(client: FlaskClient, text: str, advice: str | None) -> None:
    """A spreadsheet's '12,5', '€12669', '12 669' or 'n/a' was refused as 'not text …' with no word on what to write;
    the pipeline, a CSV sent to the API and a JSON value now say it in the same words (the staff page's
    ``numberAdvice`` is checked on the same cases), and text that is no amount keeps the plain refusal."""
    assert number_advice(text) == advice
    with pytest.raises(ValueError):
        parse_number(text)
    for suggested in re.findall(r"write (\S+?)(?:;|$)", advice or ""):  # what it says to write is taken as written
        assert parse_number(suggested) >= 0 and not DOT_GROUPED.fullmatch(suggested), suggested
    with pytest.raises(DataValidationError) as raised:
        _pipeline(text)
    assert f"row 2, column Fresh: {text!r} is not a number{advice or f' ({NUMBER_RULE})'}" in [line.strip() for line in str(raised.value).splitlines()]
    row = _api_row(client, text)
    assert not row["ok"] and [(e["field"], e["message"]) for e in row["errors"]] == [("Fresh", f"must be a number (yearly spending), not text {text!r}{advice or ''}")]
    r = client.post("/api/segment", json={**dict.fromkeys(FEATURES, 1), "Fresh": text})
    in_json = (advice or "").replace("leave the cell empty", "leave the field out")
    assert r.status_code == 422 and r.get_json()["error"]["errors"] == [{"field": "Fresh", "row": None, "message": f"must be a number (yearly spending), not text {text!r}{in_json}"}]


def test_a_label_cell_gets_no_spending_advice() -> None:
    """'n/a' for a Channel in the raw data is not told to be left empty: every customer needs a code."""
    raw = f"{RAW_HEADER}\n2,3,12669,9656,7561,214,2674,1338\nn/a,3,1,1,1,1,1,1\n"
    with pytest.raises(DataValidationError, match=re.escape(f"row 2, column Channel: 'n/a' is not a number ({NUMBER_RULE})")):
        prepare(read_raw_text(raw, "raw.csv"), FEATURES, ["Channel", "Region"], "median", "raw.csv")
