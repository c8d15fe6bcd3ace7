"""Tests of stages.personas: names, descriptions and actions derived from the data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from stages import config
from stages.personas import build_personas, level_of, medoid_index, persona_actions, persona_name, personas_markdown
from tests.conftest import FEATURES

PARAMS = {"high": 1.5, "low": 0.67, "dominant_channel": 0.7}
FLAT = {c: 1.0 for c in FEATURES}


def test_levels() -> None:
    assert [level_of(r, 1.5, 0.67) for r in (2.0, 1.0, 0.5)] == ["high", "typical", "low"]


def test_name_from_the_categories_a_segment_buys_most() -> None:
    profile = {**FLAT, "Grocery": 3.0, "Detergents_Paper": 4.0, "Fresh": 0.3}
    assert persona_name(profile, {"Horeca": 0.2, "Retail": 0.8}, 1.5, 0.67, 0.7) == "Detergents and paper & groceries buyers (Retail)"


def test_name_for_small_and_all_round_buyers() -> None:
    small = {c: 0.4 for c in FEATURES}
    big = {c: 2.0 for c in FEATURES}
    mixed = {"Horeca": 0.5, "Retail": 0.5}
    assert persona_name(small, mixed, 1.5, 0.67, 0.7) == "Small accounts"
    assert persona_name(big, mixed, 1.5, 0.67, 0.7) == "Large all-round buyers"


def test_actions_follow_highs_and_lows() -> None:
    actions = persona_actions({**FLAT, "Fresh": 3.0, "Milk": 0.2}, 1.5, 0.67)
    assert any("fresh produce" in a for a in actions)
    assert any("Cross-sell milk products" in a for a in actions)
    assert 2 <= len(persona_actions(FLAT, 1.5, 0.67)) <= 3


def test_medoid_is_the_most_central_member() -> None:
    S = np.array([[0.0], [1.0], [2.0], [10.0]])
    assert medoid_index(S) == 1


def test_build_personas_on_synthetic_segments(customers: pd.DataFrame) -> None:
    segments = (customers["Channel"].to_numpy() == 2).astype(int)
    S = np.log(customers[FEATURES].to_numpy())
    personas = build_personas(customers, segments, S, FEATURES, PARAMS)
    assert [p["id"] for p in personas] == [0, 1]
    assert sum(p["size"] for p in personas) == len(customers)
    assert personas[1]["channel_mix"]["Retail"] == 1.0
    assert personas[1]["name"].endswith("(Retail)")
    typical = personas[0]["typical_customer"]
    assert typical["row"] in customers.loc[segments == 0, "row"].tolist()
    assert len({p["name"] for p in personas}) == 2
    assert f"## Segment 1: {personas[1]['name']}" in personas_markdown(personas, FEATURES)


def test_shipped_personas_have_the_contract_keys() -> None:
    personas = json.loads(config.PERSONAS.read_text())
    required = {"id", "name", "description", "size", "share", "centre", "profile", "channel_mix", "region_mix", "actions"}
    metrics = json.loads(config.METRICS.read_text())
    assert len(personas) == metrics["k"]
    for p in personas:
        assert required <= set(p)
        assert set(p["centre"]) == set(FEATURES) and 2 <= len(p["actions"]) <= 3
    assert sum(p["size"] for p in personas) == metrics["n_customers"]
