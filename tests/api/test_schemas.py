"""The pydantic model of one customer: the single definition of a valid input."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from api.schemas import FEATURES, MAX_SPEND, CustomerIn, field_errors
from tests.api.conftest import GOOD


def errors_of(payload: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        CustomerIn.model_validate(payload)
    return {e.field: e.message for e in field_errors(info.value)}


def test_valid_customer_keeps_numbers_and_normalises_labels() -> None:
    c = CustomerIn.model_validate({**GOOD, "Channel": "retail", "Region": 1})
    assert c.spending() == [float(GOOD[f]) for f in FEATURES]
    assert (c.Channel, c.Region) == ("Retail", "Lisbon")


def test_delicatessen_is_accepted_for_delicassen() -> None:
    payload = {k: v for k, v in GOOD.items() if k != "Delicassen"} | {"Delicatessen": 5}
    assert CustomerIn.model_validate(payload).spending()[-1] == 5.0


def test_missing_categories_become_nan_for_imputation() -> None:
    spending = CustomerIn.model_validate({"Milk": 10}).spending()
    assert spending[1] == 10 and sum(math.isnan(v) for v in spending) == 5


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"Fresh": -1}, "Fresh", "0 or more"),
        ({"Fresh": MAX_SPEND + 1}, "Fresh", "at most"),
        ({"Fresh": math.nan}, "Fresh", "finite"),
        ({"Fresh": math.inf}, "Fresh", "finite"),
        ({"Fresh": "12"}, "Fresh", "not text"),
        ({"Fresh": True}, "Fresh", "true/false"),
        ({"Fresh": None}, "Fresh", "not null: leave the field out when the amount is not known"),
        ({"Fresh": 10**400}, "Fresh", "too large"),
        ({"Fresh": 1, "Bogus": 1}, "Bogus", "allowed fields are Fresh, Milk"),
        ({"Fresh": 1, "Channel": 3}, "Channel", "1 or Horeca"),
        ({"Fresh": 1, "Region": True}, "Region", "1 or Lisbon"),
        ({"Delicassen": 1, "Delicatessen": 2}, "Delicatessen", "not both"),
        ([1, 2], "body", "JSON object"),
    ],
)
def test_each_bad_value_is_named_with_a_sentence(payload: Any, field: str, words: str) -> None:
    assert words in errors_of(payload)[field]


def test_all_six_missing_names_every_category() -> None:
    assert set(errors_of({"Channel": 1})) == set(FEATURES)
