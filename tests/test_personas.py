"""Tests of stages.personas: names, descriptions and actions derived from the data."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stages import config
from stages.names import percents, times
from stages.personas import (
    HIGH_ACTIONS, build_personas, describe, high_action, leaning, level_of, levels_of, medoid_index, persona_actions, persona_name,
    personas_markdown, whole_account,
)
from stages.dataset import CATEGORY_NAMES
from tests.conftest import FEATURES

PARAMS = {"high": 1.5, "low": 0.67, "dominant_channel": 0.7}
FLAT = {c: 1.0 for c in FEATURES}
#: Frozen food as a category most customers buy none of, whose buyers spend a median of 900 a year
#: (``stages.personas.buyers_median``).
FROZEN_BUYERS = {"Frozen": 900.0}


def test_levels() -> None:
    assert [level_of(r, 1.5, 0.67) for r in (2.0, 1.0, 0.5)] == ["high", "typical", "low"]


def test_name_from_the_categories_a_segment_buys_most() -> None:
    profile = {**FLAT, "Grocery": 3.0, "Detergents_Paper": 4.0, "Fresh": 0.3}
    assert persona_name(profile, {"Horeca": 0.2, "Retail": 0.8}, 1.5, 0.67, 0.7) == "Detergent, paper & grocery buyers (Retail)"


def test_name_for_small_and_all_round_buyers() -> None:
    small = {c: 0.4 for c in FEATURES}
    big = {c: 2.0 for c in FEATURES}
    mixed = {"Horeca": 0.5, "Retail": 0.5}
    assert persona_name(small, mixed, 1.5, 0.67, 0.7) == "Small accounts"
    assert persona_name(big, mixed, 1.5, 0.67, 0.7) == "Large all-round buyers"
    # high in four of six: not "all-round"; named by the highs that set it apart from the other segments, not by
    # the two it is not high in ("Large buyers of all but frozen food & fresh food" read as if it bought little of them)
    four = {**big, "Fresh": 1.35, "Frozen": 1.42, "Detergents_Paper": 4.3, "Delicassen": 2.1}
    other = {**big, "Detergents_Paper": 5.1, "Delicassen": 0.5, "Milk": 1.6}
    assert persona_name(four, mixed, 1.5, 0.67, 0.7, [other]) == "Large buyers, standing out in delicatessen & milk products"
    assert persona_name(four, mixed, 1.5, 0.67, 0.7) == "Large buyers, standing out in detergents, paper & delicatessen"


def test_names_and_sums_about_the_whole_account_need_every_category() -> None:
    """`-S data.features=[Fresh,Frozen,Delicassen]` (a `dvc exp run --temp` of 2026-11-28): a segment high in the
    three was "Large all-round buyers" and one low in two, spending 2,571 a year on them, "Small accounts", while
    their milk, grocery and detergent spending was never looked at; "Their median spends add up to" read as the
    whole account."""
    three = ["Fresh", "Frozen", "Delicassen"]
    mixed = {"Horeca": 0.52, "Retail": 0.48}
    big = {"Fresh": 1.70, "Frozen": 1.90, "Delicassen": 1.60}
    small = {"Fresh": 0.15, "Frozen": 0.27, "Delicassen": 0.85}
    assert persona_name(big, mixed, 1.5, 0.67, 0.7) == "Frozen food & fresh food buyers"
    assert persona_name(small, mixed, 1.5, 0.67, 0.7, size=0.13) == "Accounts light on fresh food & frozen food"
    assert persona_name(small, mixed, 1.5, 0.67, 0.7) == "Accounts light on fresh food & frozen food"  # size unknown
    text = describe(100, "23%", small, {"Fresh": 1288.0, "Frozen": 412.0, "Delicassen": 871.0}, mixed, 1.5, 0.67)
    assert "Their median spends on fresh food, frozen food and delicatessen add up to about 2,571 a year." in text
    assert not whole_account(small) and sorted(three) == sorted(small)
    # five of six: the one left out is named, not the five ("on fresh food, milk products, groceries, detergents and
    # paper and delicatessen")
    five = {c: 1.0 for c in FEATURES if c != "Frozen"}
    assert "Their median spends on every category but frozen food add up to about 5,000 a year." in describe(
        100, "23%", five, {c: 1000.0 for c in five}, mixed, 1.5, 0.67)
    # a name with "and" in it goes last, after "as well as" (`-S data.features=[Grocery,Detergents_Paper]` read "on
    # groceries and detergents and paper")
    two = {"Grocery": 1.0, "Detergents_Paper": 1.0}
    assert "Their median spends on groceries as well as detergents and paper add up to about 2,000 a year." in describe(
        100, "23%", two, {c: 1000.0 for c in two}, mixed, 1.5, 0.67)
    assert "Their spending is close to the typical customer in every category measured." in describe(
        100, "23%", two, {c: 1000.0 for c in two}, mixed, 1.5, 0.67)
    assert "Their spending is close to the typical customer in every category." in describe(100, "23%", FLAT, {c: 1000.0 for c in FEATURES}, mixed, 1.5, 0.67)
    four = {c: 1.0 for c in ("Detergents_Paper", "Fresh", "Milk", "Grocery")}
    assert "on fresh food, milk products and groceries as well as detergents and paper add up" in describe(
        100, "23%", four, {c: 1000.0 for c in four}, mixed, 1.5, 0.67)
    # every category: the names and the sum about the whole account, as before
    assert persona_name({c: 2.0 for c in FEATURES}, mixed, 1.5, 0.67, 0.7) == "Large all-round buyers"
    assert persona_name({c: 0.4 for c in FEATURES}, mixed, 1.5, 0.67, 0.7, size=0.4) == "Small accounts"
    assert "Their median spends add up to about 6,000 a year." in describe(100, "23%", FLAT, {c: 1000.0 for c in FEATURES}, mixed, 1.5, 0.67)


def test_large_buyers_stand_out_only_in_categories_no_other_segment_buys_more_of() -> None:
    """`dvc exp run -S cluster.k=auto -S select_k.criterion=elbow -S cluster.algorithm=gmm` (k = 6, rounded profiles):
    segment 1 was "Large buyers, standing out in delicatessen & milk products (Retail)" at 1.97× milk, while segment 3
    buys 2.14×. It stands out in delicatessen only; a segment another one outbuys in every high category, in none."""
    large = {"Fresh": 0.93, "Milk": 1.97, "Grocery": 2.29, "Frozen": 0.91, "Detergents_Paper": 5.54, "Delicassen": 1.6}
    others = [
        {"Fresh": 1.38, "Milk": 0.42, "Grocery": 0.51, "Frozen": 1.54, "Detergents_Paper": 0.34, "Delicassen": 0.94},
        {"Fresh": 2.0, "Milk": 0.96, "Grocery": 0.72, "Frozen": 3.7, "Detergents_Paper": 0.88, "Delicassen": 0.75},
        {"Fresh": 0.16, "Milk": 2.14, "Grocery": 2.92, "Frozen": 0.22, "Detergents_Paper": 8.36, "Delicassen": 0.82},
        {"Fresh": 0.38, "Milk": 1.17, "Grocery": 0.7, "Frozen": 0.57, "Detergents_Paper": 0.63, "Delicassen": 0.96},
        {"Fresh": 0.14, "Milk": 0.25, "Grocery": 0.5, "Frozen": 0.53, "Detergents_Paper": 0.11, "Delicassen": 0.11},
    ]
    retail = {"Horeca": 0.2, "Retail": 0.8}
    assert persona_name(large, retail, 1.5, 0.67, 0.7, others) == "Large buyers, standing out in delicatessen (Retail)"
    outbought = [*others, {**large, "Delicassen": 1.7}]
    assert persona_name(large, retail, 1.5, 0.67, 0.7, outbought) == "Large buyers (Retail)"


def test_a_description_says_what_standing_out_is_measured_against() -> None:
    """`-S features.pca.n_components=2 -S select_k.criterion=davies_bouldin -S cluster.k=auto` (k = 16): segment 1 was
    "Large buyers, standing out in milk products & groceries (Retail)" while its description's highest ratio was
    detergents and paper at 7.97×: it stands out against the other segments (one buys more detergents and paper), which
    the description did not say. It now says in what, against whom, and by how much. A lead needs :func:`lean_bar`
    as printed (1.22×): `-S cluster.k=8 -S cluster.algorithm=agglomerative` stood out "in groceries (1.03×)"."""
    large = {"Fresh": 0.9, "Milk": 2.5, "Grocery": 3.7, "Frozen": 0.8, "Detergents_Paper": 7.97, "Delicassen": 1.6}
    others = [{"Fresh": 0.5, "Milk": 2.0, "Grocery": 3.0, "Frozen": 0.5, "Detergents_Paper": 9.0, "Delicassen": 1.7}, FLAT]
    retail = {"Horeca": 0.1, "Retail": 0.9}
    assert persona_name(large, retail, 1.5, 0.67, 0.7, others) == "Large buyers, standing out in milk products & groceries (Retail)"
    text = describe(40, "9%", large, FLAT, retail, 1.5, 0.67, others=others)
    assert ("They stand out in milk products (1.25× the next highest segment) and groceries (1.23×): they buy more of them "
            "than any other segment.") in text
    one = describe(40, "9%", large, FLAT, retail, 1.5, 0.67, others=[{**others[0], "Milk": 2.6}, FLAT])  # outbought in milk
    assert "They stand out in groceries (1.23× the next highest segment): they buy more of them than any other segment." in one
    single = {**large, "Grocery": 2.9, "Delicassen": 2.1}
    assert "They stand out in delicatessen (1.24× the next highest segment): they buy more of it than any other segment." in describe(
        40, "9%", single, FLAT, retail, 1.5, 0.67, others=[{**others[0], "Milk": 2.6}, FLAT])
    # two segments in all (`-S cluster.algorithm=agglomerative -S cluster.k=2`): the other one, not "the next highest"
    assert "They stand out in delicatessen (1.24× the other segment): they buy more of it than the other segment." in describe(
        40, "9%", single, FLAT, retail, 1.5, 0.67, others=[{**others[0], "Milk": 2.6}])
    # a lead of a few percent is no standing out, in the name or the description
    slight = {**large, "Grocery": 3.09}  # 1.03× the next highest segment
    assert persona_name(slight, retail, 1.5, 0.67, 0.7, others) == "Large buyers, standing out in milk products (Retail)"
    assert "They stand out in milk products (1.25× the next highest segment): they buy more of them than any other segment." in describe(
        40, "9%", slight, FLAT, retail, 1.5, 0.67, others=others)
    assert persona_name({**slight, "Milk": 2.2}, retail, 1.5, 0.67, 0.7, others) == "Large buyers (Retail)"  # 1.10× and 1.03×
    # no "standing out" in the name, none in the description: another segment outbuys it everywhere, or all are high
    assert "stand out" not in describe(40, "9%", large, FLAT, retail, 1.5, 0.67, others=[{c: 9.0 for c in FEATURES}])
    assert "stand out" not in describe(40, "9%", {c: 2.0 for c in FEATURES}, FLAT, retail, 1.5, 0.67, others=[FLAT])


def test_a_segment_high_in_nothing_is_named_by_its_lean_not_as_a_big_buyer() -> None:
    """Above the base median in Frozen and Fresh but high in neither (and another segment buys more of both): its name
    must not call it a buyer of them; its description says where its spending leans. Fresh food at 1.14× is under
    :func:`stages.personas.lean_bar` (1.22×): no focus, so neither the name nor the lean names it."""
    profile = {**FLAT, "Frozen": 1.37, "Fresh": 1.14, "Milk": 0.45, "Grocery": 0.46, "Detergents_Paper": 0.34, "Delicassen": 0.73}
    assert persona_name(profile, {"Horeca": 0.99, "Retail": 0.01}, 1.5, 0.67, 0.7) == "Frozen food focus (Horeca)"
    assert persona_name({**profile, "Fresh": 1.3}, {"Horeca": 0.99, "Retail": 0.01}, 1.5, 0.67, 0.7) == "Frozen food & fresh food focus (Horeca)"
    text = describe(214, "49%", profile, {c: 1.0 for c in FEATURES}, {"Horeca": 0.99, "Retail": 0.01}, 1.5, 0.67)
    assert "Their spending leans to frozen food (1.37×), without being high in any category." in text
    assert "the category where they spend most against the typical customer" in persona_actions(profile, 1.5, 0.67)[-1]


#: ``dvc exp run -S cluster.algorithm=gmm``: segment 2, groceries 1.07× the typical customer and nothing higher.
SLIGHT_GROCERY = {"Fresh": 0.62, "Milk": 0.93, "Grocery": 1.07, "Frozen": 0.71, "Detergents_Paper": 0.98, "Delicassen": 0.86}


@pytest.mark.parametrize(("profile", "name"), [
    (SLIGHT_GROCERY, "Small accounts (Horeca)"),                                   # low in fresh food (0.62×)
    ({**SLIGHT_GROCERY, "Fresh": 0.9}, "Typical accounts (Horeca)"),
    ({**SLIGHT_GROCERY, "Fresh": 0.9, "Grocery": 1.2149}, "Typical accounts (Horeca)"),  # prints 1.21×: under 1.22×
    ({**SLIGHT_GROCERY, "Fresh": 0.9, "Grocery": 1.22}, "Grocery focus (Horeca)"),
])
def test_a_lean_is_named_only_when_it_is_nearer_to_high_than_to_the_typical_customer(profile: dict[str, float], name: str) -> None:
    """`dvc exp run -S cluster.algorithm=gmm`: segment 2 was "Grocery focus (Horeca)" at groceries 1.07× the typical
    customer, its description saying it leaned there "without being high in any category". A focus now needs the
    printed ratio at :func:`stages.personas.lean_bar`, halfway from 1 to ``personas.high`` on the log scale (√1.5 ≈
    1.22×); below it the name falls back to "Small accounts" or "Typical accounts", and the description agrees."""
    horeca = {"Horeca": 0.9, "Retail": 0.1}
    assert persona_name(profile, horeca, 1.5, 0.67, 0.7) == name
    text = describe(120, "27%", profile, FLAT, horeca, 1.5, 0.67)
    assert ("leans to groceries" in text) == name.startswith("Grocery focus"), text
    assert ("close to the typical customer in every category" in text) == name.startswith("Typical"), text
    # the action claims only that groceries are where they spend most against the typical customer: true at any lead
    assert any(a.startswith("Protect their grocery spend,") for a in persona_actions(profile, 1.5, 0.67))


def test_the_lean_bar_follows_personas_high_as_printed() -> None:
    from stages.personas import lean_bar, named_leans

    assert [lean_bar(h) for h in (1.5, 2.0, 4.0)] == [1.22, 1.41, 2.0]
    assert named_leans({**FLAT, "Milk": 1.3, "Frozen": 1.07}, 1.5) == ["Milk"] and leaning({**FLAT, "Milk": 1.3, "Frozen": 1.07}) == ["Milk", "Frozen"]
    assert named_leans({**FLAT, "Milk": 1.3}, 2.0) == []


#: A segment like the reviewer's: 75% of the customers, every ratio between low (0.67) and 1, none high or low.
NEAR_TYPICAL = {"Fresh": 0.91, "Milk": 0.78, "Grocery": 0.8, "Frozen": 0.85, "Detergents_Paper": 0.72, "Delicassen": 0.88}


def test_a_segment_low_in_nothing_and_above_the_base_in_nothing_is_typical_not_small() -> None:
    """Ratios 0.72–0.91, none low: it was named "Small accounts (Horeca)" while its description said its spending is
    close to the typical customer in every category. "Small accounts" needs a low category (and none above the base)."""
    horeca = {"Horeca": 0.8, "Retail": 0.2}
    assert persona_name(NEAR_TYPICAL, horeca, 1.5, 0.67, 0.7) == "Typical accounts (Horeca)"
    assert "close to the typical customer in every category" in describe(330, "75%", NEAR_TYPICAL, FLAT, horeca, 1.5, 0.67)
    assert persona_name({**NEAR_TYPICAL, "Milk": 0.5}, horeca, 1.5, 0.67, 0.7) == "Small accounts (Horeca)"
    assert persona_name({**NEAR_TYPICAL, "Milk": 1.3}, horeca, 1.5, 0.67, 0.7) == "Milk product focus (Horeca)"  # unchanged


#: ``-S data.impute=mean -S cluster.k=5 -S features.transform=log1p -S personas.high=1.3``: segment 3, 90 customers
#: whose median spends add up to 17,094 a year (the typical customer's: 20,196), low in frozen food alone.
LIGHT_ON_FROZEN = {"Fresh": 1.05, "Milk": 0.98, "Grocery": 0.9, "Frozen": 0.53, "Detergents_Paper": 0.95, "Delicassen": 0.93}


@pytest.mark.parametrize(("profile", "size", "name"), [
    (LIGHT_ON_FROZEN, 17094 / 20196, "Accounts light on frozen food (Horeca)"),
    ({**LIGHT_ON_FROZEN, "Detergents_Paper": 0.31}, 0.8, "Accounts light on detergents, paper & frozen food (Horeca)"),
    (LIGHT_ON_FROZEN, 0.6, "Small accounts (Horeca)"),
    (LIGHT_ON_FROZEN, 0.6749, "Small accounts (Horeca)"),  # prints 0.67×, at personas.low
    (LIGHT_ON_FROZEN, 0.676, "Accounts light on frozen food (Horeca)"),  # prints 0.68×
    (LIGHT_ON_FROZEN, None, "Small accounts (Horeca)"),  # no size given: low somewhere reads small, as before
    (NEAR_TYPICAL, 0.85, "Typical accounts (Horeca)"),
])
def test_small_accounts_are_small_in_what_they_spend_in_all(profile: dict[str, float], size: float | None, name: str) -> None:
    """Under the experiment above, a segment typical in five categories and low in frozen food alone, at 85% of what
    the typical customer spends in all, was "Small accounts (Horeca)", beside "Frozen food buyers (Horeca)" whose
    median spends added up to less (13,326). "Small accounts" now needs the spending added up at ``personas.low``
    times the typical customer's or less; above it, the name says what the segment buys little of."""
    assert persona_name(profile, {"Horeca": 0.88, "Retail": 0.12}, 1.3, 0.67, 0.7, size=size) == name


def test_account_size_adds_up_the_medians_as_printed() -> None:
    from stages.personas import account_size

    assert account_size({"Fresh": 10.4, "Milk": 9.6}, {"Fresh": 20.0, "Milk": 20.0}) == 20 / 40
    assert account_size({"Fresh": 3.0}, {"Fresh": 0.2}) == 3.0  # a base of nothing counts as 1


def test_no_action_says_a_segment_spends_most_where_it_spends_less_than_typical() -> None:
    """Fresh food at 0.91× is the segment's top ratio but below the typical customer: protecting it as "the category
    where they spend most against the typical customer" was false. The review of the order history comes instead."""
    review = "Review their order history at the next visit and offer the categories they buy elsewhere."
    actions = persona_actions(NEAR_TYPICAL, 1.5, 0.67)
    assert not any("spend most against the typical customer" in a for a in actions)
    assert actions[0] == review and "Grow their fresh food spend, the category where they come closest" in actions[1]
    assert persona_actions({**NEAR_TYPICAL, "Milk": 0.5}, 1.5, 0.67)[1] == review  # low in one: cross-sell, then review
    assert "spend most against the typical customer" in persona_actions({**NEAR_TYPICAL, "Milk": 1.2}, 1.5, 0.67)[0]


def test_description_ratios_never_contradict_their_level() -> None:
    """0.657 is low at 0.67 but printed "0.7×" (and the table 0.66×); 1.4999 is not high at 1.5 and must not print 1.50."""
    profile = {**FLAT, "Fresh": 0.657, "Milk": 0.6751, "Frozen": 1.4949, "Grocery": 1.52}
    text = describe(100, "25%", profile, FLAT, {"Horeca": 0.5, "Retail": 0.5}, 1.5, 0.67)
    assert "They spend little on fresh food (0.66×)." in text
    assert "groceries (1.52× the typical customer)" in text and "0.7×" not in text and "milk" not in text
    leaning = describe(100, "25%", {**FLAT, "Frozen": 1.4949, "Fresh": 0.6}, FLAT, {"Horeca": 0.5, "Retail": 0.5}, 1.5, 0.67)
    assert "leans to frozen food (1.49×), without being high in any category" in leaning


def test_a_ratio_prints_as_on_the_card_and_its_level_is_that_of_the_printed_figure() -> None:
    """A description printed "0.6704×" and "1.4999×" (more digits, so that 0.67 would not read as low at the 0.67
    threshold) where the table and the page's card print "0.67×" and "1.50×": one figure per ratio everywhere, and
    the level is decided on it (low at 0.67×, high at 1.50×), so the words agree with what is printed."""
    profile = {**FLAT, "Fresh": 0.6704, "Frozen": 1.4999, "Milk": 1.004}
    assert [level_of(profile[c], 1.5, 0.67) for c in ("Fresh", "Frozen", "Milk")] == ["low", "high", "typical"]
    text = describe(100, "25%", profile, FLAT, {"Horeca": 0.5, "Retail": 0.5}, 1.5, 0.67)
    assert "They buy much more frozen food (1.50× the typical customer)." in text
    assert "They spend little on fresh food (0.67×)." in text and "0.6704" not in text and "1.4999" not in text
    persona = {"id": 0, "name": "P", "description": text, "actions": [], "centre": FLAT, "profile": profile}
    table = personas_markdown([persona], FEATURES)
    assert "| Fresh | 1 | 0.67× |" in table and "| Frozen | 1 | 1.50× |" in table
    # 1.004 prints "1.00×": no lean above the typical customer, so nothing to protect "where they spend most"
    assert leaning({**FLAT, "Milk": 1.004}) == []
    assert not any("spend most" in a for a in persona_actions({**FLAT, "Milk": 1.004}, 1.5, 0.67))


def test_a_persona_keeps_its_ratios_to_the_stored_decimals_so_the_page_prints_what_the_description_does(customers: pd.DataFrame) -> None:
    """The page formats ``profile`` as stored (four decimals): a ratio of 0.674996 is stored as 0.675 and reads
    "0.68×" on the card, typical at ``low`` 0.67; decided on the unrounded ratio, which prints "0.67×", it would be
    low, and the description would say "little" beside a card that says 0.68×."""
    segments = (customers["Channel"].to_numpy() == 2).astype(int)  # segment 1 is about a third: the base median is 1,000
    spent = customers.assign(Milk=np.where(segments == 1, 674.996, 1000.0))
    personas = build_personas(spent, segments, np.log(spent[FEATURES].clip(lower=1).to_numpy()), FEATURES, PARAMS)
    assert personas[1]["profile"]["Milk"] == 0.675 and times(0.675) == "0.68×"
    assert personas[1]["levels"]["Milk"] == "typical" and "milk" not in personas[1]["description"]
    assert "| Milk | 675 | 0.68× |" in personas_markdown(personas, FEATURES)


def test_cross_sell_says_them_of_two_categories_or_a_plural_one_and_it_of_a_singular_one() -> None:
    """`dvc exp run -S cluster.k=auto -S select_k.criterion=elbow` (k = 4): "Cross-sell detergents and paper: they buy
    little of it from us"; the pronoun follows the name ("milk products", "groceries" are plural too)."""
    two = persona_actions({**FLAT, "Detergents_Paper": 0.3, "Milk": 0.4}, 1.5, 0.67)
    assert "Cross-sell detergents and paper as well as milk products: they buy little of them from us," in two[0]
    for category, pronoun in [("Milk", "them"), ("Grocery", "them"), ("Detergents_Paper", "them"), ("Fresh", "it"), ("Frozen", "it"), ("Delicassen", "it")]:
        action = persona_actions({**FLAT, category: 0.4}, 1.5, 0.67)[0]
        assert action.startswith(f"Cross-sell {CATEGORY_NAMES[category]}: they buy little of {pronoun} from us,"), action


def test_protect_and_grow_name_the_category_as_english_puts_a_noun_before_spend() -> None:
    """`dvc exp run -S cluster.k=auto -S select_k.criterion=bic -S cluster.algorithm=gmm`: "Protect their groceries
    spend"; a noun before a noun reads "grocery spend", as the names read "grocery buyers"."""
    assert persona_actions({**FLAT, "Grocery": 1.07, "Fresh": 0.3}, 1.5, 0.67)[-1].startswith("Protect their grocery spend,")
    assert persona_actions({**{c: 0.8 for c in FEATURES}, "Milk": 0.95}, 1.5, 0.67)[-1].startswith("Grow their milk product spend,")


def test_actions_put_first_what_sets_a_segment_apart_from_the_others() -> None:
    """Two segments both high in detergents and groceries: the one that also stands out in delicatessen and milk
    (where the other does not) gets those first, so the two are not told the same first steps."""
    all_round = {"Fresh": 1.35, "Milk": 2.0, "Grocery": 2.18, "Frozen": 1.42, "Detergents_Paper": 4.35, "Delicassen": 2.09}
    shops = {"Fresh": 0.19, "Milk": 1.63, "Grocery": 2.21, "Frozen": 0.27, "Detergents_Paper": 5.14, "Delicassen": 0.48}
    kitchens = {"Fresh": 1.14, "Milk": 0.45, "Grocery": 0.46, "Frozen": 1.37, "Detergents_Paper": 0.34, "Delicassen": 0.73}
    first = persona_actions(all_round, 1.5, 0.67, [shops, kitchens])
    second = persona_actions(shops, 1.5, 0.67, [all_round, kitchens])
    assert first[:2] == [HIGH_ACTIONS["Delicassen"], HIGH_ACTIONS["Milk"]]
    assert second[:2] == [HIGH_ACTIONS["Detergents_Paper"], HIGH_ACTIONS["Grocery"]]
    assert persona_actions(all_round, 1.5, 0.67)[:2] == [HIGH_ACTIONS["Detergents_Paper"], HIGH_ACTIONS["Grocery"]]  # alone: by ratio


_RATIO = st.integers(5, 900).map(lambda n: n / 100)  # 0.05× to 9.00×, as printed
_PROFILE = st.lists(_RATIO, min_size=len(FEATURES), max_size=len(FEATURES), unique=True).map(lambda r: dict(zip(FEATURES, r, strict=True)))


@settings(max_examples=300, deadline=None)
@given(profile=_PROFILE, others=st.lists(_PROFILE, min_size=1, max_size=6), high=st.sampled_from([1.5, 2.0, 2.5]),
       channel=st.sampled_from([None, "Horeca", "Retail"]))
def test_a_segment_named_for_one_to_three_categories_is_first_offered_its_top_two(profile: dict[str, float], others: list[dict[str, float]],
                                                                                   high: float, channel: str | None) -> None:
    """Whatever the other segments buy: a segment high in one to three categories, whose name says "… buyers" of its
    (at most two) highest, gets the actions for those two first, highest first (the example of
    test_actions_of_a_segment_named_for_what_it_buys_start_with_the_categories_of_its_name, for any profiles)."""
    highs = [c for c, level in levels_of(profile, high, 0.67).items() if level == "high"]
    if not 1 <= len(highs) <= 3:
        return
    top = sorted(highs, key=lambda c: -profile[c])[:2]
    assert persona_name(profile, {}, high, 0.67, 0.7, others).endswith(" buyers")
    assert persona_actions(profile, high, 0.67, others, channel=channel)[:len(top)] == [high_action(c, channel) for c in top]


@settings(max_examples=300, deadline=None)
@given(profile=_PROFILE, others=st.lists(_PROFILE, min_size=1, max_size=6), channel=st.sampled_from([None, "Horeca", "Retail"]))
def test_a_large_buyer_standing_out_in_a_category_is_first_offered_that_category(profile: dict[str, float], others: list[dict[str, float]],
                                                                                 channel: str | None) -> None:
    """"Large buyers, standing out in X …": the first action is X's, the high category it leads the other segments in
    by the most (its ratio over the highest of theirs)."""
    name = persona_name(profile, {}, 1.5, 0.67, 0.7, others)
    if not name.startswith("Large buyers, standing out in "):
        return
    highs = [c for c, level in levels_of(profile, 1.5, 0.67).items() if level == "high"]
    leads = {c: profile[c] / max(o[c] for o in others) for c in highs}
    firsts = {high_action(c, channel) for c in highs if leads[c] == max(leads.values())}  # equal leads (2.00/1.00, 1.00/0.50): either
    assert persona_actions(profile, 1.5, 0.67, others, channel=channel)[0] in firsts


def test_actions_of_a_segment_named_for_what_it_buys_start_with_the_categories_of_its_name() -> None:
    """`-S personas.high=2.5 -S cluster.k=6`: "Detergent, paper & grocery buyers (Retail)", the segment that bought the
    most detergents and paper of all (7.32×), was offered a dairy contract and grocery discounts and nothing about
    detergents, ranked by its lead over the others (1.15× in detergents against "Detergent & paper buyers" at 6.34×).
    A name of one to three high categories takes the highest ratios; the actions now take them in that order too."""
    shops = {"Fresh": 0.83, "Milk": 2.66, "Grocery": 2.85, "Frozen": 0.9, "Detergents_Paper": 7.32, "Delicassen": 1.81}
    others = [{"Fresh": 1.44, "Milk": 0.51, "Grocery": 0.48, "Frozen": 2.43, "Detergents_Paper": 0.35, "Delicassen": 1.02},
              {"Fresh": 0.12, "Milk": 2.06, "Grocery": 2.4, "Frozen": 0.2, "Detergents_Paper": 6.34, "Delicassen": 0.31},
              {"Fresh": 2.96, "Milk": 1.44, "Grocery": 1.43, "Frozen": 4.16, "Detergents_Paper": 1.14, "Delicassen": 2.94}]
    retail = {"Horeca": 0.09, "Retail": 0.91}
    assert persona_name(shops, retail, 2.5, 0.67, 0.7, others) == "Detergent, paper & grocery buyers (Retail)"
    assert persona_actions(shops, 2.5, 0.67, others, channel="Retail")[:2] == [HIGH_ACTIONS["Detergents_Paper"], high_action("Grocery", "Retail")]


@pytest.mark.parametrize(("channel", "fresh", "grocery"), [
    ("Horeca", "suited to kitchens.", "to keep their storerooms stocked."),
    ("Retail", "so their shelves are full when the doors open.", "pallet deliveries to restock shelves."),
    (None, "before kitchens start or shops open.", "to restock shelves and storerooms."),
])
def test_an_action_that_differs_for_kitchens_and_shops_is_worded_for_the_segments_channel(channel: str | None, fresh: str, grocery: str) -> None:
    """The agglomerative experiment's "Large all-round buyers", 63% Retail, were offered early-morning fresh
    deliveries "suited to kitchens": an action that differs for kitchens and shops follows the dominant channel,
    and a segment of both channels gets the words for both."""
    profile = {**FLAT, "Fresh": 3.0, "Grocery": 2.0}
    actions = persona_actions(profile, 1.5, 0.67, channel=channel)
    assert actions[0].startswith("Offer a standing weekly order for fresh produce") and actions[0].endswith(fresh), actions
    assert actions[1].startswith("Offer volume discounts on groceries") and actions[1].endswith(grocery), actions
    if channel != "Horeca":
        assert not any(a.endswith("suited to kitchens.") for a in actions)
    # categories whose action fits both channels read the same whatever the channel
    milk = {**FLAT, "Milk": 3.0}
    assert persona_actions(milk, 1.5, 0.67, channel=channel)[0] == HIGH_ACTIONS["Milk"]


def test_build_personas_words_actions_for_the_channel_that_names_the_segment(customers: pd.DataFrame) -> None:
    """Two segments that buy a lot of fresh food: one 90% Horeca (named "(Horeca)", offered kitchen delivery slots),
    one 63% Retail (under ``personas.dominant_channel``: no channel in its name, and slots for kitchens and shops)."""
    spent = customers.iloc[:76].assign(Channel=[1] * 18 + [2] * 2 + [2] * 10 + [1] * 6 + [1] * 20 + [2] * 20,
                                       **{c: 1000.0 for c in FEATURES})
    spent["Fresh"] = [5000.0] * 36 + [100.0] * 40
    segments = np.repeat([0, 1, 2], [20, 16, 40])
    personas = build_personas(spent, segments, np.log(spent[FEATURES].clip(lower=1).to_numpy()), FEATURES, PARAMS)
    horeca, mixed = personas[0], personas[1]
    assert horeca["name"].startswith("Fresh food buyers (Horeca)") and horeca["channel_mix"]["Horeca"] == 0.9
    assert horeca["actions"][0].endswith("suited to kitchens."), horeca["actions"]
    assert mixed["channel_mix"]["Retail"] == 0.625 and "(" not in mixed["name"], mixed["name"]
    assert mixed["actions"][0] == HIGH_ACTIONS["Fresh"] and "before kitchens start or shops open" in HIGH_ACTIONS["Fresh"]


def test_no_two_actions_are_about_one_category() -> None:
    """Under data.features=[Fresh,Grocery] with cluster.k=4 (dvc exp run --temp, removed), a segment high in groceries
    alone (2.47×, fresh food 0.92×) was told to offer volume discounts on groceries, then to protect its grocery spend
    with a loyalty price. The review of its order history comes second instead."""
    actions = persona_actions({"Fresh": 0.92, "Grocery": 2.47}, 1.5, 0.67)
    assert actions == [high_action("Grocery", None), "Review their order history at the next visit and offer the categories they buy elsewhere."]
    # nor is a second category above the typical customer protected as "where they spend most against" it
    assert persona_actions({"Fresh": 1.2, "Grocery": 2.47}, 1.5, 0.67) == actions
    # and a segment with no high category keeps protecting the one it leans to
    assert persona_actions({"Fresh": 1.2, "Grocery": 1.0}, 1.5, 0.67)[0].startswith("Protect their fresh food spend")


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
    assert len({tuple(p["actions"][:2]) for p in personas}) == 2
    assert f"## Segment 1: {personas[1]['name']}" in personas_markdown(personas, FEATURES)


def test_descriptions_word_shares_as_the_report_and_the_staff_page_show_them(customers: pd.DataFrame) -> None:
    """Three segments of 40 in 120 customers: rounded one by one each is 33% of the base, which adds up to 99% and is
    not what the page's cards beside the descriptions show (34%, 33%, 33%); a one-customer segment was '1 customers'
    (and, in 440 customers, '0% of the base', where the page shows '<1%')."""
    segments = np.repeat([0, 1, 2], 40)
    S = np.log(customers[FEATURES].to_numpy())
    personas = build_personas(customers, segments, S, FEATURES, PARAMS)
    assert [p["description"].split(".")[0] for p in personas] == [
        "40 customers (34% of the base)", "40 customers (33% of the base)", "40 customers (33% of the base)"]
    assert percents([p["share"] for p in personas]) == ["34%", "33%", "33%"]
    segments = np.r_[np.zeros(119, dtype=int), 1]
    single = build_personas(customers, segments, S, FEATURES, PARAMS)[1]
    assert single["description"].startswith("1 customer (1% of the base).")


def test_a_description_words_the_channel_mix_as_parts_of_one_whole() -> None:
    """Horeca 99.5% and Retail 0.5% read 'Horeca 100%, Retail 0%' (or 'Horeca 100%, Retail 1%': 101%)."""
    text = describe(200, "45%", FLAT, FLAT, {"Horeca": 0.995, "Retail": 0.005}, 1.5, 0.67)
    assert text.endswith("Channel: Horeca >99%, Retail <1%.")
    text = describe(1_200, "45%", FLAT, FLAT, {"Horeca": 0.626, "Retail": 0.374}, 1.5, 0.67)
    assert text.startswith("1,200 customers (45% of the base).") and text.endswith("Channel: Horeca 63%, Retail 37%.")


def test_shipped_personas_have_the_contract_keys() -> None:
    personas = json.loads(config.PERSONAS.read_text())
    required = {"id", "name", "description", "size", "share", "centre", "profile", "channel_mix", "region_mix", "actions"}
    metrics = json.loads(config.METRICS.read_text())
    assert len(personas) == metrics["k"]
    for p in personas:
        assert required <= set(p)
        assert set(p["centre"]) == set(FEATURES) and 2 <= len(p["actions"]) <= 3


def test_shipped_personas_count_every_customer_in_the_segment_it_is_assigned() -> None:
    """Sizes match ml/assignments.csv over the whole base, customers set aside before fitting included."""
    personas = json.loads(config.PERSONAS.read_text())
    metrics = json.loads(config.METRICS.read_text())
    assigned = pd.read_csv(config.ASSIGNMENTS)[metrics["algorithm"]].value_counts()
    assert [p["size"] for p in personas] == [int(assigned[p["id"]]) for p in personas]
    n = metrics["n_customers"] + metrics["n_outliers"]
    assert sum(p["size"] for p in personas) == n == len(pd.read_csv(config.CUSTOMERS))
    assert [p["share"] for p in personas] == [round(p["size"] / n, 4) for p in personas]


@pytest.mark.parametrize(("change", "key"), [
    ({"high": 0.5, "low": 2.0}, r"personas\.high: must be above 1.*; personas\.low: must be above 0 and below 1"),
    ({"high": 1.5, "low": 1.2}, r"personas\.low: must be above 0 and below 1"),
    ({"high": 0.9}, r"personas\.high: must be above 1"),
    ({"low": 0}, r"personas\.low: must be above 0 and below 1"),
    ({"dominant_channel": 0.4}, r"personas\.dominant_channel: must be above 0\.5 and at most 1"),
    ({"dominant_channel": 1.5}, r"personas\.dominant_channel: must be above 0\.5 and at most 1"),
])
def test_thresholds_that_would_mislabel_segments_are_refused(customers: pd.DataFrame, change: dict[str, float], key: str) -> None:
    segments = (customers["Channel"].to_numpy() == 2).astype(int)
    with pytest.raises(ValueError, match=key):
        build_personas(customers, segments, np.log(customers[FEATURES].to_numpy()), FEATURES, {**PARAMS, **change})


def _two_category_twins() -> tuple[pd.DataFrame, np.ndarray]:
    """Fifteen Horeca customers over Fresh and Milk only (as with ``-S 'data.features=[Fresh,Milk]'``): segments 0
    and 2 both buy much more milk products; 0 buys fresh food like the typical customer, 2 almost none."""
    spend = [(1200, 1800)] * 4 + [(1200, 300)] * 8 + [(80, 1500)] * 3
    frame = pd.DataFrame(spend, columns=["Fresh", "Milk"], dtype=float)
    frame.insert(0, "Region", 3)
    frame.insert(0, "Channel", 1)
    frame.insert(0, "row", np.arange(1, len(frame) + 1))
    return frame, np.array([0] * 4 + [1] * 8 + [2] * 3)


def test_twin_names_say_what_sets_each_apart_not_the_segment_number() -> None:
    """Two segments named "Milk products buyers (Horeca)" were told apart by " – segment 0" and " – segment 2", which
    tells sales staff nothing. Now one buys much more fresh food than its twin; the other spends less in all."""
    customers, segments = _two_category_twins()
    personas = build_personas(customers, segments, np.log(customers[["Fresh", "Milk"]].to_numpy()), ["Fresh", "Milk"], PARAMS)
    assert [p["name"] for p in personas] == [
        "Milk product buyers (Horeca) – more fresh food", "Typical accounts (Horeca)", "Milk product buyers (Horeca) – smaller spenders"]
    assert not any("segment" in p["name"] for p in personas)
    assert f"## Segment 2: {personas[2]['name']}" in personas_markdown(personas, ["Fresh", "Milk"])
    # each description ends by saying what its twin qualifier compares, against which segment, with the figure
    assert personas[0]["description"].endswith(" They buy more fresh food than segment 2, named alike (15.00× its median).")
    assert personas[2]["description"].endswith(" Their median spends add up to less than those of segment 0, named alike (about 3,000 a year).")
    assert "named alike" not in personas[1]["description"]


def _persona(seg: int, name: str, profile: dict[str, float], total: float = 6000.0) -> dict[str, Any]:
    from stages.personas import levels_of

    return {"id": seg, "name": name, "profile": profile, "centre": {c: total / len(profile) for c in profile}, "description": "D.",
            "levels": levels_of(profile, PARAMS["high"], PARAMS["low"], {})}


def _persona_of_medians(seg: int, name: str, profile: dict[str, float]) -> dict[str, Any]:
    """A persona whose medians agree with its profile, the base median being 1,000 in every category."""
    return {**_persona(seg, name, profile), "centre": {c: 1000.0 * r for c, r in profile.items()}}


def test_twins_each_named_by_the_category_where_they_buy_most_against_the_other() -> None:
    """Profiles of `-S cluster.k=6`: two "Small accounts (Horeca)", one low only in frozen food, the other in four
    categories. Each is named by where it buys at least ``personas.high`` times what its twin buys, most first."""
    from stages.personas import distinct_names

    near_typical = {"Fresh": 0.864, "Milk": 0.9075, "Grocery": 0.7628, "Frozen": 0.4374, "Detergents_Paper": 0.8665, "Delicassen": 0.8244}
    kitchens = {"Fresh": 0.8554, "Milk": 0.2151, "Grocery": 0.2597, "Frozen": 0.9096, "Detergents_Paper": 0.1225, "Delicassen": 0.3376}
    personas = [_persona(1, "Frozen food buyers (Horeca)", FLAT), _persona(2, "Small accounts (Horeca)", near_typical, 16438),
                _persona(3, "Small accounts (Horeca)", kitchens, 11103)]
    assert [p["name"] for p in distinct_names(personas, 1.5)] == [
        "Frozen food buyers (Horeca)", "Small accounts (Horeca) – more detergents and paper", "Small accounts (Horeca) – more frozen food"]


def test_a_twin_is_not_named_by_more_of_a_category_it_buys_little_of() -> None:
    """`-S cluster.k=5 -S cluster.algorithm=agglomerative`: "Small accounts (Horeca) – more fresh food", whose
    description said "They spend little on fresh food (0.61×)" (its twin buys 0.05×). The name now gives the lead
    in a category it does not buy little of: delicatessen, 1.05× against 0.13×."""
    from stages.personas import distinct_names

    more = {"Fresh": 0.61, "Milk": 0.92, "Grocery": 0.75, "Frozen": 0.47, "Detergents_Paper": 0.85, "Delicassen": 1.05}
    less = {"Fresh": 0.05, "Milk": 0.25, "Grocery": 0.47, "Frozen": 0.17, "Detergents_Paper": 0.27, "Delicassen": 0.13}
    names = [p["name"] for p in distinct_names([_persona_of_medians(3, "Small accounts (Horeca)", more),
                                                _persona_of_medians(4, "Small accounts (Horeca)", less)], 1.5)]
    assert names == ["Small accounts (Horeca) – more delicatessen", "Small accounts (Horeca) – smaller spenders"]
    # low in every category where it leads: the bigger spender
    only_low = {**more, "Milk": 0.6, "Detergents_Paper": 0.6, "Delicassen": 0.6, "Grocery": 0.6}
    names = [p["name"] for p in distinct_names([_persona_of_medians(3, "Small accounts (Horeca)", only_low),
                                                _persona_of_medians(4, "Small accounts (Horeca)", less)], 1.5)]
    assert names == ["Small accounts (Horeca) – bigger spenders", "Small accounts (Horeca) – smaller spenders"]


def test_a_name_and_the_same_name_with_a_channel_are_told_apart_but_two_channels_are_not_twins() -> None:
    """`-S cluster.k=6 -S features.transform=log1p`: "Detergent, paper & grocery buyers (Retail)" beside "Detergent,
    paper & grocery buyers" (54% Retail), which staff read as one group and a part of it. Names of one core that
    each end with a channel of their own ("Small accounts (Horeca)", "Small accounts (Retail)") are two groups."""
    from stages.personas import distinct_names

    shops = {"Fresh": 0.07, "Milk": 2.14, "Grocery": 2.69, "Frozen": 0.2, "Detergents_Paper": 7.95, "Delicassen": 0.82}
    mixed = {"Fresh": 0.61, "Milk": 1.42, "Grocery": 1.74, "Frozen": 0.44, "Detergents_Paper": 3.08, "Delicassen": 0.12}
    names = [p["name"] for p in distinct_names([_persona_of_medians(4, "Detergent, paper & grocery buyers (Retail)", shops),
                                                _persona_of_medians(5, "Detergent, paper & grocery buyers", mixed)], 1.5)]
    assert names == ["Detergent, paper & grocery buyers (Retail) – more delicatessen", "Detergent, paper & grocery buyers – smaller spenders"]
    small = {**FLAT, "Milk": 0.5}
    names = [p["name"] for p in distinct_names([_persona_of_medians(1, "Small accounts (Horeca)", small),
                                                _persona_of_medians(2, "Small accounts (Retail)", {**small, "Fresh": 0.4})], 1.5)]
    assert names == ["Small accounts (Horeca)", "Small accounts (Retail)"]
    # two of one channel stay twins, and so do all of a group where a name without a channel joins two with
    names = [p["name"] for p in distinct_names([_persona_of_medians(1, "Small accounts (Horeca)", small),
                                                _persona_of_medians(2, "Small accounts (Retail)", {**small, "Fresh": 0.4}),
                                                _persona_of_medians(3, "Small accounts", {**small, "Frozen": 0.3})], 1.5)]
    assert all(" – " in n for n in names) and len(set(names)) == 3, names


def test_names_with_the_same_words_in_another_order_are_told_apart() -> None:
    """Twins by their words: the one far ahead in delicatessen says so; its twin, ahead in nothing its name does not
    already say (fresh food), is the smaller spender."""
    from stages.personas import distinct_names

    first = {**FLAT, "Fresh": 2.0, "Frozen": 3.0, "Delicassen": 1.8}
    second = {**FLAT, "Fresh": 2.5, "Frozen": 2.0, "Delicassen": 0.9}
    personas = [_persona(0, "Frozen food & fresh food buyers (Horeca)", first, 30000), _persona(1, "Fresh food & frozen food buyers (Horeca)", second, 25000),
                _persona(2, "Small accounts", FLAT)]
    assert [p["name"] for p in distinct_names(personas, 1.5)] == [
        "Frozen food & fresh food buyers (Horeca) – more delicatessen", "Fresh food & frozen food buyers (Horeca) – smaller spenders", "Small accounts"]


def test_a_twin_qualifier_the_description_does_not_mention_is_explained_there() -> None:
    """The Davies–Bouldin 2-component experiment (k = 16): segment 5 "Frozen food & fresh food buyers (Horeca) – more
    detergents and paper" had a description listing fresh food 2.94×, frozen food 4.16× and delicatessen 2.81× and
    never detergents: the qualifier compares it with its twin, not with the typical customer. The description says so."""
    from stages.personas import distinct_names

    fifth = {"Fresh": 2.94, "Milk": 1.1, "Grocery": 0.9, "Frozen": 4.16, "Detergents_Paper": 0.8, "Delicassen": 2.81}
    twin = {"Fresh": 3.2, "Milk": 1.0, "Grocery": 0.8, "Frozen": 3.9, "Detergents_Paper": 0.5, "Delicassen": 2.9}
    name = "Frozen food & fresh food buyers (Horeca)"
    personas = [_persona_of_medians(5, name, fifth), _persona_of_medians(9, name, twin)]
    distinct_names(personas, 1.5)
    assert personas[0]["name"] == "Frozen food & fresh food buyers (Horeca) – more detergents and paper"
    assert personas[0]["description"] == "D. They buy more detergents and paper than segment 9, named alike (1.60× its median)."
    assert personas[1]["description"] == "D. Their median spends add up to less than those of segment 5, named alike (about 12,710 a year)."
    three = [_persona_of_medians(5, name, fifth), _persona_of_medians(9, name, twin), _persona_of_medians(11, name, {**twin, "Detergents_Paper": 0.4})]
    distinct_names(three, 1.5)
    assert three[0]["description"] == "D. They buy more detergents and paper than segments 9 and 11, named alike (1.60× the highest of their medians)."


def test_twin_names_fall_back_to_size_then_to_the_segment_number_and_are_always_unique() -> None:
    from stages.personas import distinct_names

    alike = [_persona(j, "Small accounts", FLAT) for j in range(3)]
    assert [p["name"] for p in distinct_names(alike, 1.5)] == [f"Small accounts – segment {j}" for j in range(3)]
    scaled = [_persona(0, "Typical accounts", FLAT, 9000), _persona(1, "Typical accounts", FLAT, 8000), _persona(2, "Typical accounts", FLAT, 7000)]
    assert [p["name"] for p in distinct_names(scaled, 1.5)] == [
        "Typical accounts – bigger spenders", "Typical accounts – segment 1", "Typical accounts – smaller spenders"]
    assert scaled[1]["description"] == ("D. Their name ends in the segment number: against segments 0 and 2, named alike, they buy no further "
                                        "category 1.50× as much or more, and their median spends add up to neither the most nor the least.")
    assert scaled[0]["description"].endswith("more than those of segments 1 and 2, named alike (about 7,998 and 7,002 a year).")
    # totals that print the same (1,000.4 and 999.6 a year, each "about 1,000") make neither the bigger spender
    close = [_persona(0, "Typical accounts", FLAT, 6002.4), _persona(1, "Typical accounts", FLAT, 5997.6)]
    assert [p["name"] for p in distinct_names(close, 1.5)] == ["Typical accounts – segment 0", "Typical accounts – segment 1"]
    rng = np.random.default_rng(0)
    for _ in range(300):  # random twins: whatever their profiles and sizes, the names differ
        group = [_persona(j, "Small accounts", dict(zip(FEATURES, rng.choice([0.2, 0.5, 1.0, 2.0], 6), strict=True)), float(rng.choice([1, 2])))
                 for j in range(int(rng.integers(2, 6)))]
        names = [p["name"] for p in distinct_names(group, 1.5)]
        assert len(set(names)) == len(names)


def test_a_category_most_customers_do_not_buy_gives_finite_personas(customers: pd.DataFrame) -> None:
    """A category with base median 0 (here Frozen, bought by no one, or by one segment only) divided by zero: the
    personas stage wrote NaN and stopped after the model had been published."""
    segments = (customers["Channel"].to_numpy() == 2).astype(int)
    S = np.log(customers[FEATURES].clip(lower=1).to_numpy())
    for frozen in (0.0, np.where(segments == 1, 500.0, 0.0)):
        spent = customers.assign(Frozen=frozen)
        personas = build_personas(spent, segments, S, FEATURES, PARAMS)
        assert all(np.isfinite(p["profile"]["Frozen"]) and p["profile"]["Frozen"] > 0 for p in personas)
        json.dumps(personas, allow_nan=False)
    assert personas[1]["levels"]["Frozen"] == "high" and personas[0]["levels"]["Frozen"] == "typical"  # like most customers


@pytest.mark.parametrize(("highs", "name"), [
    (["Grocery"], "Grocery buyers"),
    (["Detergents_Paper"], "Detergent & paper buyers"),
    (["Detergents_Paper", "Grocery"], "Detergent, paper & grocery buyers"),
    (["Milk", "Detergents_Paper"], "Milk product, detergent & paper buyers"),
    (["Frozen", "Fresh"], "Frozen food & fresh food buyers"),
])
def test_names_read_as_english(highs: list[str], name: str) -> None:
    """Names said "Groceries buyers" and "Detergents and paper & groceries buyers" (the shipped segment 2)."""
    profile = {**FLAT, **{c: 4.0 - i for i, c in enumerate(highs)}}
    assert persona_name(profile, {}, 1.5, 0.67, 0.7) == name


def test_a_description_lists_its_categories_as_a_sentence() -> None:
    """Descriptions repeated "the typical customer" after every ratio and listed without "and"."""
    profile = {**FLAT, "Milk": 2.0, "Grocery": 2.19, "Delicassen": 2.09, "Fresh": 0.18, "Frozen": 0.26}
    text = describe(139, "32%", profile, FLAT, {"Horeca": 0.5, "Retail": 0.5}, 1.5, 0.67)
    assert "They buy much more milk products (2.00× the typical customer), groceries (2.19×) and delicatessen (2.09×)." in text
    assert "They spend little on fresh food (0.18×) and frozen food (0.26×)." in text


def test_names_listing_three_words_in_another_order_are_twins() -> None:
    """Names list a category that is two things as two ("Detergent, paper & grocery buyers"): the same words in another
    order, commas included, are the same name to staff."""
    from stages.personas import distinct_names

    first = {**FLAT, "Detergents_Paper": 5.0, "Grocery": 3.0, "Fresh": 2.0}
    second = {**FLAT, "Detergents_Paper": 3.0, "Grocery": 4.0}
    personas = [_persona(0, "Detergent, paper & grocery buyers", first, 30000), _persona(1, "Grocery, detergent & paper buyers", second, 20000)]
    assert [p["name"] for p in distinct_names(personas, 1.5)] == [
        "Detergent, paper & grocery buyers – more fresh food", "Grocery, detergent & paper buyers – smaller spenders"]


def test_a_description_of_low_categories_reads_for_plural_names_too() -> None:
    """The shipped segment 0 read "They buy little milk products (0.44×), groceries (0.46×) and detergents and paper
    (0.34×)": "little" goes with fresh food, not with milk products or groceries; spending little on them reads for all."""
    profile = {**FLAT, "Milk": 0.44, "Grocery": 0.46, "Detergents_Paper": 0.34}
    text = describe(216, "49%", profile, FLAT, {"Horeca": 0.99, "Retail": 0.01}, 1.5, 0.67)
    assert "They spend little on milk products (0.44×), groceries (0.46×) and detergents and paper (0.34×)." in text


def _frozen_in_one_segment(customers: pd.DataFrame, median: float = 854.0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The synthetic customers with frozen food bought by segment 1 only (a third of them, each spending ``median``):
    a new year's file where most customers buy none, so the base median of Frozen is 0."""
    segments = (customers["Channel"].to_numpy() == 2).astype(int)
    spent = customers.assign(Frozen=np.where(segments == 1, median, 0.0))
    return spent, segments, np.log(spent[FEATURES].clip(lower=1).to_numpy())


def test_a_category_most_customers_buy_none_of_reads_as_the_segments_median_never_as_a_ratio(customers: pd.DataFrame) -> None:
    """Against a base median of 0, counted as 1, a segment's median of 854 read "frozen food (854.00× the typical
    customer)": a ratio that means nothing to sales staff. It reads as the median amount and that most buy none."""
    spent, segments, S = _frozen_in_one_segment(customers)
    personas = build_personas(spent, segments, S, FEATURES, PARAMS)
    assert [p["most_buy_none"] for p in personas] == [["Frozen"], ["Frozen"]]
    assert personas[1]["levels"]["Frozen"] == "high"  # every buyer is in segment 1: its median is the buyers' median
    text = personas[1]["description"]
    assert "frozen food (a median of 854 a year, where most customers buy none)" in text
    assert "milk products (5.78× the typical customer)" in text  # the first ratio shown still says what it is of
    assert "854.00×" not in text and "854" not in personas[0]["description"]
    markdown = personas_markdown(personas, FEATURES)
    assert "| Frozen | 854 | most customers buy none |" in markdown and "| Frozen | 0 | most customers buy none |" in markdown
    assert "854.00×" not in markdown and "1.00×" not in markdown.split("| Frozen |")[1].split("\n")[0]


def test_the_first_ratio_a_description_shows_says_what_it_is_of_after_an_amount() -> None:
    """When the first high category is one most customers buy none of, " the typical customer" goes with the first
    ratio after it; a median is written as the page writes it (a half rounded up, 2108.5 → 2,109)."""
    profile = {**FLAT, "Frozen": 2108.5, "Detergents_Paper": 4.0}
    centre = {**FLAT, "Frozen": 2108.5, "Detergents_Paper": 1200.0}
    text = describe(100, "25%", profile, centre, {"Horeca": 0.5, "Retail": 0.5}, 1.5, 0.67, FROZEN_BUYERS)
    assert ("They buy much more frozen food (a median of 2,109 a year, where most customers buy none) and detergents and "
            "paper (4.00× the typical customer).") in text


#: A segment of the reviewer's case: close to the typical customer everywhere, and a median of 1.3 a year of frozen
#: food, which most customers buy none of (base median 0, counted as 1: its "ratio" 1.3 is the amount).
TRICKLE = {**NEAR_TYPICAL, "Frozen": 1.3}


def test_a_category_most_customers_buy_none_of_is_never_where_a_segment_spends_most_against_the_typical_customer() -> None:
    """Ranked by its ratio against the floor, a median of 1.3 read "Protect their frozen food spend, the category where
    they spend most against the typical customer", the name "Frozen food focus" and the description "leans to frozen
    food (a median of 1 a year, where most customers buy none)". The typical customer buys none of it: no lean."""
    horeca = {"Horeca": 0.8, "Retail": 0.2}
    assert persona_name(TRICKLE, horeca, 1.5, 0.67, 0.7, none=FROZEN_BUYERS) == "Typical accounts (Horeca)"
    actions = persona_actions(TRICKLE, 1.5, 0.67, none=FROZEN_BUYERS)
    assert not any("frozen food" in a for a in actions) and "Grow their fresh food spend," in actions[1]
    text = describe(330, "75%", TRICKLE, {**FLAT, "Frozen": 1.3}, horeca, 1.5, 0.67, FROZEN_BUYERS)
    assert "leans to" not in text and "close to the typical customer in every category" in text
    assert leaning({**TRICKLE, "Milk": 1.2}, ["Frozen"]) == ["Milk"]  # a real lean is still found, by its ratio
    assert "Protect their milk product spend," in persona_actions({**TRICKLE, "Milk": 1.2}, 1.5, 0.67, none=FROZEN_BUYERS)[0]


def test_a_category_most_customers_buy_none_of_is_named_after_those_with_a_ratio_never_ranked_by_its_floored_one() -> None:
    """The UCI data with frozen food zeroed for 60% of the customers named a segment "Frozen food & fresh food buyers":
    frozen food first for its "854×" against the floor, ahead of fresh food's real 1.79×. It buys much more of both;
    the category with a ratio comes first, then the one named by its amount, in the name and in the actions."""
    profile = {**FLAT, "Fresh": 1.79, "Frozen": 854.0, "Milk": 0.45, "Detergents_Paper": 0.34}
    assert persona_name(profile, {"Horeca": 0.9, "Retail": 0.1}, 1.5, 0.67, 0.7, none=FROZEN_BUYERS) == "Fresh food & frozen food buyers (Horeca)"
    assert persona_actions(profile, 1.5, 0.67, none=FROZEN_BUYERS)[:2] == [HIGH_ACTIONS["Fresh"], HIGH_ACTIONS["Frozen"]]
    others = [{**FLAT, "Fresh": 0.6, "Frozen": 1.0}]  # its lead over the others: 854 in frozen food, 2.98 in fresh food
    assert persona_actions(profile, 1.5, 0.67, others, none=FROZEN_BUYERS)[:2] == [HIGH_ACTIONS["Fresh"], HIGH_ACTIONS["Frozen"]]
    four = {"Fresh": 1.0, "Milk": 2.5, "Grocery": 2.2, "Frozen": 854.0, "Detergents_Paper": 2.0, "Delicassen": 1.9}
    assert persona_name(four, {}, 1.5, 0.67, 0.7, [{c: 1.0 for c in FEATURES}], FROZEN_BUYERS) == "Large buyers, standing out in milk products & groceries"


def test_build_personas_ranks_no_category_most_customers_buy_none_of_by_its_floored_ratio(customers: pd.DataFrame) -> None:
    """The same through the stage: customers who all spend the same but for segment 1's median of 1.3 a year on frozen
    food, which most customers buy none of; nothing it is named or told to do rests on that amount (it was "Frozen
    food focus", told to protect its frozen food spend)."""
    spent, segments, S = _frozen_in_one_segment(customers, median=1.3)
    spent = spent.assign(**{c: 1000.0 for c in FEATURES if c != "Frozen"})
    personas = build_personas(spent, segments, S, FEATURES, PARAMS)
    assert personas[1]["name"].startswith("Typical accounts")
    assert personas[1]["most_buy_none"] == ["Frozen"] and personas[1]["profile"]["Frozen"] == 1.3
    for p in personas:
        assert "frozen" not in (p["name"] + " ".join(p["actions"])).lower(), p["name"]
        assert "leans to frozen" not in p["description"]


@pytest.mark.parametrize(("median", "buyers", "level"), [
    (2.0, 900.0, "typical"),       # a trickle against what buyers spend: no "frozen food buyers"
    (603.0, 900.0, "typical"),     # 0.67 of the buyers' median, as shown: low against them
    (612.0, 900.0, "high"),        # 0.68: the segment's typical customer buys it as a buyer does
    (2000.0, 900.0, "high"),
    (1.3, 1.0, "typical"),         # under personas.high a year, whatever the buyers spend
    (2.0, 2.5, "high"),            # buyers who all spend little: a median of 2 is what they spend
    (1.0, 900.0, "typical"),       # a segment that buys none, like most customers: never low
])
def test_a_category_most_customers_buy_none_of_is_high_only_where_the_segment_buys_it_as_its_buyers_do(
        median: float, buyers: float, level: str) -> None:
    """Against the floor of 1, a segment's median of 2 a year was "high" (2.00 ≥ ``personas.high``): named "Frozen food
    buyers" and told to bundle frozen food. High now needs a median over ``personas.low`` times the buyers' median."""
    assert level_of(median, 1.5, 0.67, buyers) == level


def _frozen_buyers_in_both(customers: pd.DataFrame, trickle: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Customers alike in every category but frozen food, which most buy none of: 30 of segment 0 (Horeca) spend 900
    on it, and 21 of the 40 of segment 1 (Retail) spend ``trickle``, so segment 1's median is ``trickle``."""
    spent = customers.iloc[:120].assign(Channel=[1] * 80 + [2] * 40, **{c: 1000.0 for c in FEATURES})
    spent["Frozen"] = [900.0] * 30 + [0.0] * 50 + [trickle] * 21 + [0.0] * 19
    segments = (spent["Channel"].to_numpy() == 2).astype(int)
    return spent, segments, np.log(spent[FEATURES].clip(lower=1).to_numpy())


@pytest.mark.parametrize(("trickle", "level", "name"), [
    (2.0, "typical", "Typical accounts (Retail)"),     # was "Frozen food buyers (Retail)", with the frozen food action
    (800.0, "high", "Frozen food buyers (Retail)"),    # 800 against the buyers' 900: a real frozen food segment
])
def test_build_personas_names_a_segment_by_a_category_most_customers_buy_none_of_only_when_its_spend_there_is_substantial(
        customers: pd.DataFrame, trickle: float, level: str, name: str) -> None:
    spent, segments, S = _frozen_buyers_in_both(customers, trickle)
    personas = build_personas(spent, segments, S, FEATURES, PARAMS)
    assert personas[1]["most_buy_none"] == ["Frozen"] and personas[1]["centre"]["Frozen"] == trickle
    assert personas[1]["levels"]["Frozen"] == level and personas[0]["levels"]["Frozen"] == "typical"
    assert personas[1]["name"] == name
    said = personas[1]["description"] + " ".join(personas[1]["actions"])
    assert (HIGH_ACTIONS["Frozen"] in personas[1]["actions"]) == (level == "high")
    assert ("frozen food" in said.lower()) == (level == "high"), said


def test_twins_are_not_told_apart_by_a_trickle_of_a_category_most_customers_buy_none_of() -> None:
    """Two "Small accounts", one with a median of 2 a year of frozen food, which most customers buy none of, the other
    none: the first was "– more frozen food" (2 against the floor of 1), nothing to sell on; it is the bigger spender."""
    from stages.personas import distinct_names

    def twins(frozen_level: str) -> list[dict[str, Any]]:
        small = {c: 0.5 for c in FEATURES}
        pair = [_persona(0, "Small accounts", {**small, "Frozen": 2.0}, 3000), _persona(1, "Small accounts", {**small, "Frozen": 1.0}, 2000)]
        for p, level in zip(pair, (frozen_level, "typical"), strict=True):
            p.update(most_buy_none=["Frozen"], levels={**{c: "low" for c in FEATURES}, "Frozen": level})
        return pair

    assert [p["name"] for p in distinct_names(twins("typical"), 1.5)] == ["Small accounts – bigger spenders", "Small accounts – smaller spenders"]
    # where it buys the category as its buyers do (level high), that is what sets it apart
    assert [p["name"] for p in distinct_names(twins("high"), 1.5)] == ["Small accounts – more frozen food", "Small accounts – smaller spenders"]


@pytest.mark.parametrize(("frozen", "none"), [
    ([0, 0, 0, 5], ["Frozen"]),          # median 0
    ([0, 0, 1, 5], ["Frozen"]),          # median 0.5: under the floor of 1
    ([0, 1, 1, 5], []),                  # median 1: compared as any other category
    ([0, 0, 2, 5], []),                  # median 1
])
def test_most_buy_none_lists_the_categories_whose_base_median_is_under_the_floor(frozen: list[float], none: list[str]) -> None:
    from stages.personas import most_buy_none

    base = pd.DataFrame({"Fresh": [3.0, 5, 7, 9], "Frozen": [float(v) for v in frozen]})
    assert most_buy_none(base, ["Fresh", "Frozen"]) == none


def test_the_total_of_the_medians_is_the_sum_of_the_medians_as_the_table_prints_them() -> None:
    """Segment 0 of the shipped model has medians 9,784.5, 1,610, 2,165.5, 2,108.5, 274.5 and 703.5: the table and the
    page's card print 9,785, 1,610, 2,166, 2,109, 275 and 704, which add up to 16,649, where the rounded sum of the
    medians themselves (16,646.5) read 16,647."""
    centre = {"Fresh": 9784.5, "Milk": 1610.0, "Grocery": 2165.5, "Frozen": 2108.5, "Detergents_Paper": 274.5, "Delicassen": 703.5}
    text = describe(216, "49%", FLAT, centre, {"Horeca": 0.99, "Retail": 0.01}, 1.5, 0.67)
    assert "Their median spends add up to about 16,649 a year." in text
